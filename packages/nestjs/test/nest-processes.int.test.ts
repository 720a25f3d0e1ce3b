import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startNestWorker } from './support/nest-workers.js';
import { newRedisClient, outsideManager, testPrefix } from './support/redis-backends.js';

describe('Nest applications in separate OS processes', () => {
  it("@Cron + onLocked: 'skip' + holdAtLeastMs: three replicas run each tick exactly once", async () => {
    const prefix = testPrefix('nest-cron');
    const replicas = ['a', 'b', 'c'].map((replica) =>
      startNestWorker('cron-replica', { KEY_PREFIX: prefix, REPLICA: replica }),
    );
    try {
      await Promise.all(replicas.map((worker) => worker.waitForLine('ready', 45_000)));
      const firstTick = Math.round(Date.now() / 1000) + 1;
      await sleep(7_000);
      const lastTick = Math.round(Date.now() / 1000) - 1;
      for (const worker of replicas) worker.kill('SIGTERM');
      const results = await Promise.all(replicas.map((worker) => worker.exited));
      for (const result of results) {
        // Nest re-raises the signal after its shutdown hooks ran; "closed" is printed by afterClose.
        expect(result.stdout, result.stderr).toContain('closed');
        expect(result.stderr).not.toMatch(/error/i);
      }

      const redis = newRedisClient();
      const runs = await redis.hgetall(`${prefix}runs`);
      const skips = await redis.hgetall(`${prefix}skips`);
      const log = await redis.lrange(`${prefix}log`, 0, -1);
      const context = JSON.stringify({ runs, skips, log }, null, 1);

      // Safety: over the whole run, including start-up and shutdown ticks, no tick ran twice.
      for (const count of Object.values(runs)) expect(Number(count), context).toBe(1);
      // Liveness: (nearly) every tick of the steady window ran once somewhere.
      const window = Array.from({ length: lastTick - firstTick + 1 }, (_, index) =>
        String(firstTick + index),
      );
      const ranInWindow = window.filter((tick) => runs[tick] === '1');
      expect(window.length, context).toBeGreaterThanOrEqual(4);
      expect(ranInWindow.length, context).toBeGreaterThanOrEqual(window.length - 1);
      // All three timers fired and the other two skipped: one run plus two skips per tick, mostly.
      const fullTicks = window.filter((tick) => runs[tick] === '1' && skips[tick] === '2');
      expect(fullTicks.length, context).toBeGreaterThanOrEqual(Math.ceil(window.length / 2));
      const runners = log.map((line) => line.split(' ')[1]).join('');
      console.info(
        `cron: ${window.length} ticks in window, ${ranInWindow.length} ran once, ${fullTicks.length} with 2 skips; runners ${runners}`,
      );
    } finally {
      for (const worker of replicas) worker.kill('SIGKILL');
    }
  });

  it('app.close() on SIGTERM releases a held lock: another process takes it at once, not after the 30 s lease', async () => {
    const prefix = testPrefix('nest-shutdown');
    const holder = startNestWorker('lock-holder-app', { KEY_PREFIX: prefix });
    const otherReplica = outsideManager(prefix);
    try {
      await holder.waitForLine('holding', 45_000);
      await holder.waitForLine('ready', 15_000);
      await expect(otherReplica.tryWithLock('job:migration', {}, async () => 'ran')).resolves.toEqual({
        acquired: false,
        reason: 'held',
      });

      const stoppedAt = Date.now();
      holder.kill('SIGTERM');
      const result = await holder.exited;
      expect(result.signal ?? result.code, result.stderr).toBe('SIGTERM');
      // The section saw its lock taken away (signal aborted) and its scope rejected as lost.
      expect(result.stdout).toContain('section rejected LockLostError');
      const taken = await otherReplica.tryWithLock('job:migration', {}, async () => 'ran');
      expect(taken).toEqual({ acquired: true, value: 'ran' });
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    } finally {
      holder.kill('SIGKILL');
      await otherReplica.close();
    }
  });
});
