import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { type LockHolder, runDlock, startHolder } from './support/run-process.js';

// End to end: the dlock bin as a subprocess, looking at a lock another process holds.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const run = randomUUID().slice(0, 8);
const holders: LockHolder[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((holder) => holder.stop()));
});

async function hold(store: 'redis' | 'mysql', key: string): Promise<LockHolder> {
  const holder = await startHolder(store, store === 'redis' ? REDIS_URL : MYSQL_URL, key, 'Orders.place');
  holders.push(holder);
  return holder;
}

describe('dlock (Redis)', () => {
  it('inspect --json has the shape of manager.inspect(), with the holder process as owner', async () => {
    const key = `cli-${run}:order:1`;
    const holder = await hold('redis', key);
    const result = await runDlock(['inspect', key, '--redis', REDIS_URL, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lock = JSON.parse(result.stdout) as Record<string, unknown> & { owner: Record<string, unknown> };
    expect(Object.keys(lock).sort()).toEqual(
      ['backend', 'fencingToken', 'held', 'key', 'leaseRemainingMs', 'owner', 'waiters'].sort(),
    );
    expect(lock).toMatchObject({
      key,
      backend: 'redis',
      held: true,
      fencingToken: holder.fencingToken,
      waiters: 0,
    });
    expect(lock.leaseRemainingMs).toBeGreaterThan(0);
    // The holder process's record, written beside the lock by the Redis acquire script.
    expect(lock.owner).toMatchObject({
      pid: holder.pid,
      host: hostname(),
      appName: 'cli-test-holder',
      label: 'Orders.place',
    });
    expect(lock.owner.acquiredAt).toEqual(expect.any(Number));
    const human = await runDlock(['inspect', key, '--redis', REDIS_URL]);
    expect(human.stdout).toContain(`${key}  HELD`);
    expect(human.stdout).toContain(String(holder.pid));
  });

  it('list shows the held locks of a key prefix; watch prints one update per --interval', async () => {
    const key = `cli-${run}:stock:7`;
    await hold('redis', key);
    const listed = await runDlock(['list', `cli-${run}:stock:`, '--redis', REDIS_URL, '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { key: string }[]).map((lock) => lock.key)).toEqual([key]);
    const table = await runDlock(['list', `cli-${run}:`, '--redis', REDIS_URL]);
    expect(table.stdout).toMatch(/^KEY\s+BACKEND\s+OWNER/);
    expect(table.stdout).toContain(key);
    const watched = await runDlock([
      'watch',
      key,
      '--redis',
      REDIS_URL,
      '--json',
      '--interval',
      '200',
      '--count',
      '2',
    ]);
    expect(watched.code).toBe(0);
    const updates = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { held: boolean });
    expect(updates).toHaveLength(2);
    expect(updates.every((update) => update.held)).toBe(true);
  });

  it('release --force refuses without a TTY unless --yes; then the holder loses the lock', async () => {
    const key = `cli-${run}:job:1`;
    const holder = await hold('redis', key);
    const noForce = await runDlock(['release', key, '--redis', REDIS_URL, '--yes']);
    expect(noForce.code).toBe(2);
    const refused = await runDlock(['release', key, '--force', '--redis', REDIS_URL]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('without a terminal');
    expect(
      JSON.parse((await runDlock(['inspect', key, '--redis', REDIS_URL, '--json'])).stdout),
    ).toMatchObject({ held: true });

    const released = await runDlock(['release', key, '--force', '--yes', '--redis', REDIS_URL, '--json']);
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({
      key,
      released: true,
      previousFencingToken: holder.fencingToken,
    });
    await holder.lost;
  });
});

describe('dlock (MySQL)', () => {
  it('inspect names the holding session; release --force --yes ends it and the holder loses the lock', async () => {
    const key = `cli-${run}:report:1`;
    const holder = await hold('mysql', key);
    const result = await runDlock(['inspect', key, '--mysql', MYSQL_URL, '--json']);
    expect(result.code).toBe(0);
    const lock = JSON.parse(result.stdout) as { held: boolean; owner: { session: { connectionId: number } } };
    expect(lock).toMatchObject({ key, backend: 'mysql', held: true, leaseRemainingMs: null });
    expect(lock.owner.session.connectionId).toBeGreaterThan(0);
    const released = await runDlock(['release', key, '--force', '--yes', '--mysql', MYSQL_URL]);
    expect(released.code).toBe(0);
    expect(released.stdout).toContain(`Released ${key}`);
    await holder.lost;
  });
});

describe('dlock usage', () => {
  it('prints help, and exits 2 on a usage error', async () => {
    const help = await runDlock(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('dlock inspect <key>');
    const missing = await runDlock(['inspect', '--redis', REDIS_URL]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('needs a lock key');
    expect((await runDlock(['list'])).stderr).toContain('--redis <url> and/or --mysql <url>');
  });
});
