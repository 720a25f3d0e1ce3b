import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CriticalSectionAbortedError, CriticalSections } from '../src/locking/critical-sections.js';

describe('CriticalSections', () => {
  it('tracks running sections and settles once they are done', async () => {
    const sections = new CriticalSections();
    const running = sections.run(async () => {
      await sleep(50);
      return 'done';
    });
    expect(sections.count).toBe(1);
    expect(await sections.settled(5_000)).toBe(true);
    expect(await running).toBe('done');
    expect(sections.count).toBe(0);
  });

  it('abort() stops running sections through their signal and refuses new ones', async () => {
    const sections = new CriticalSections();
    const running = sections.run(
      (signal) =>
        new Promise<never>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    );
    sections.abort();
    await expect(running).rejects.toBeInstanceOf(CriticalSectionAbortedError);
    expect(await sections.settled(1_000)).toBe(true);
    let ran = false;
    await expect(
      sections.run(async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(CriticalSectionAbortedError);
    expect(ran).toBe(false);
  });

  it('settled() gives up after its timeout while a section ignores the abort', async () => {
    const sections = new CriticalSections();
    let finish!: () => void;
    const stuck = sections.run(() => new Promise<void>((resolve) => (finish = resolve)));
    sections.abort();
    expect(await sections.settled(50)).toBe(false);
    finish();
    await stuck;
    expect(await sections.settled(1_000)).toBe(true);
  });
});
