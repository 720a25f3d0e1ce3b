import { describe, expect, it } from 'vitest';
import { changedHands, KeyTurns } from './key-turns.js';

/** KeyTurns on a fake clock moved by hand. */
function turnsAt(start = 1_000) {
  const clock = { now: start };
  const turns = new KeyTurns({ turnMs: 100, yieldMs: 30, maxTurnScale: 4 }, () => clock.now);
  return { clock, turns };
}

/**
 * Take and release `key` as this process would: begin, take on the first attempt, hold, release.
 * `othersWaited`: the release reports a caller of another process turned away meanwhile.
 */
function takeAndRelease(
  turns: KeyTurns,
  clock: { now: number },
  key: string,
  holdMs: number,
  othersWaited = true,
) {
  const plan = turns.begin(key, true);
  if (plan.yieldUntil > clock.now) clock.now = plan.yieldUntil;
  const turn = turns.taken(plan, true);
  clock.now += holdMs;
  turns.released(key, turn, othersWaited);
  return { plan, turn };
}

describe('KeyTurns', () => {
  it('lets a process re-take a key right after its release until its turn is used up', () => {
    const { clock, turns } = turnsAt();
    const plans = Array.from({ length: 25 }, () => takeAndRelease(turns, clock, 'k', 5).plan);
    // 20 holds of 5 ms fill the 100 ms turn: the 21st caller leaves the key free for 30 ms first.
    const yields = plans.flatMap((plan, index) => (plan.yieldUntil > 0 ? [index] : []));
    expect(yields).toEqual([20]);
    expect(plans[20]!.yieldUntil).toBe(1_000 + 100 + 30);
  });

  it('starts a new turn after the key lay free for a whole yield, or after someone else had it', () => {
    const { clock, turns } = turnsAt();
    for (let i = 0; i < 20; i++) takeAndRelease(turns, clock, 'k', 5);
    clock.now += 30; // free for a yield: others had their window
    expect(turns.begin('k', true).yieldUntil).toBe(0);

    for (let i = 0; i < 20; i++) takeAndRelease(turns, clock, 'k', 5);
    const plan = turns.begin('k', true);
    expect(plan.yieldUntil).toBeGreaterThan(0);
    clock.now = plan.yieldUntil;
    // The first attempt after the yield found another holder: the lock came after a wait.
    clock.now += 50;
    expect(turns.taken(plan, false)).toEqual({ startedAt: clock.now, scale: 1, contendedAt: clock.now });
  });

  it('never leaves a window while nobody else has wanted the key lately (a process alone on a hot key)', () => {
    const { clock, turns } = turnsAt();
    const alone = Array.from({ length: 500 }, () => takeAndRelease(turns, clock, 'k', 5, false).plan);
    expect(alone.every((plan) => plan.yieldUntil === 0)).toBe(true);
    // One release reports a caller turned away: the turn, long used up, ends with a window.
    takeAndRelease(turns, clock, 'k', 5, true);
    expect(turns.begin('k', true).yieldUntil).toBeGreaterThan(0);
  });

  it('forgets a sign of others after a while: 2 x turnMs x maxTurnScale', () => {
    const { clock, turns } = turnsAt();
    takeAndRelease(turns, clock, 'k', 5, true);
    const plans = Array.from({ length: 200 }, () => takeAndRelease(turns, clock, 'k', 5, false).plan);
    // Within the memory (800 ms here), used-up turns still end with windows...
    expect(plans.some((plan) => plan.yieldUntil > 0)).toBe(true);
    // Later turns run on without a window: 800 ms after the last sign, nothing more.
    expect(plans.slice(-20).every((plan) => plan.yieldUntil === 0)).toBe(true);
  });

  it('doubles the turn after a yield nobody used, up to maxTurnMs', () => {
    const { clock, turns } = turnsAt();
    const scales = new Set<number>();
    for (let i = 0; i < 400; i++) scales.add(takeAndRelease(turns, clock, 'k', 5).turn.scale);
    expect([...scales]).toEqual([1, 2, 4]);
  });

  it('never holds back a try-once caller', () => {
    const { clock, turns } = turnsAt();
    for (let i = 0; i < 20; i++) takeAndRelease(turns, clock, 'k', 5);
    expect(turns.begin('k', false).yieldUntil).toBe(0);
  });

  it('keeps turns per key', () => {
    const { clock, turns } = turnsAt();
    for (let i = 0; i < 20; i++) takeAndRelease(turns, clock, 'a', 5);
    expect(turns.begin('b', true).yieldUntil).toBe(0);
    expect(turns.begin('a', true).yieldUntil).toBeGreaterThan(0);
  });

  it('remembers only keys released within the last yield', () => {
    const { clock, turns } = turnsAt();
    for (let i = 0; i < 1_000; i++) {
      takeAndRelease(turns, clock, `key:${i}`, 0);
      clock.now += 1;
    }
    // 30 ms of releases, one per ms, plus the one just made.
    expect(turns.rememberedKeys).toBeLessThanOrEqual(31);
  });

  it('makes a caller that saw the key change hands retry the more often the longer it waited', () => {
    const { turns } = turnsAt();
    const configured = { minDelayMs: 10, maxDelayMs: 200, jitter: 0.5 };
    const ceiling = (waitedMs: number) =>
      turns.windowBackoff(configured, { waitedMs, roundTripMs: 2 }).maxDelayMs;
    // Two turns (200 ms) waited: a retry within every 30 ms window (less the round trip).
    expect(ceiling(200)).toBe(28);
    expect(ceiling(5_000)).toBe(28);
    // One turn: every other window, so the longer waiters come first.
    expect(ceiling(100)).toBe(58);
    // Just started: the configured backoff.
    expect(ceiling(10)).toBe(200);
    expect(turns.windowBackoff(configured, { waitedMs: 200, roundTripMs: 2 })).toEqual({
      minDelayMs: 10,
      maxDelayMs: 28,
      jitter: 0.25,
    });
    // Configured tighter already: kept.
    const tight = { minDelayMs: 2, maxDelayMs: 10, jitter: 0.1 };
    expect(turns.windowBackoff(tight, { waitedMs: 200, roundTripMs: 2 })).toEqual(tight);
    // A round trip as long as the window: still a pause, the shortest.
    expect(turns.windowBackoff(configured, { waitedMs: 200, roundTripMs: 50 }).maxDelayMs).toBe(1);
  });
});

describe('changedHands', () => {
  it('sees another holder only in another fence; an unknown fence tells nothing', () => {
    expect(changedHands(1_000, 1_001)).toBe(true);
    expect(changedHands(1_000, 1_000)).toBe(false);
    expect(changedHands(undefined, 1_000)).toBe(false);
    expect(changedHands(1_000, undefined)).toBe(false);
  });
});
