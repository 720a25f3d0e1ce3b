import { setTimeout as sleep } from 'node:timers/promises';
import { FencedRegisterServer } from '@dlock/testing';
import { expect, it } from 'vitest';
import { type FaultFixture, FREEZE_MS, LEASE_MS } from './fault-fixture.js';

/**
 * The holder's process stops running past its lease (SIGSTOP, or a busy loop that blocks its
 * event loop): when it runs again it must learn the lock is gone and its late writes be refused.
 */
export function describeFrozenHolderScenarios(fixture: FaultFixture): void {
  const { options, timings, cleanup, freshKey, direct, history, takenOnce, worker } = fixture;

  for (const freeze of ['SIGSTOP', 'busy loop'] as const) {
    it(`the holder process is frozen (${freeze}) past its lease: the stale holder's signal aborts, its release rejects with LockLostError and leaves the next holder alone, its write is refused`, async () => {
      const key = freshKey(`frozen-${freeze === 'SIGSTOP' ? 'sigstop' : 'busy'}`);
      const h = history('frozen');
      const server = await FencedRegisterServer.start();
      cleanup(() => server.close());
      const holder = worker({
        MODE: 'hold',
        KEY: key,
        LEASE_MS: String(LEASE_MS),
        BLOCK_MS: freeze === 'busy loop' ? String(FREEZE_MS) : '0',
        LINGER_MS: String(2 * LEASE_MS),
        REGISTER_PORT: String(server.port),
        HISTORY_FILE: h.file('stale-holder'),
        PROCESS_NAME: 'stale-holder',
      });
      const holding = (await holder.waitForLine('holding ', 20_000)).split(' ');
      const staleToken = Number(holding[1]);
      const heldAt = Number(holding[2]);
      let resumedAt: number | undefined;
      if (freeze === 'SIGSTOP') holder.kill('SIGSTOP');
      const frozenAt = Date.now();
      const verdictLine = holder.waitForLine('verdict ', 30_000);
      verdictLine.catch(() => undefined);

      const next = await direct();
      const observer = await direct();
      let tookAt = 0;
      let nextToken = 0;
      let verdict!: {
        token: number;
        resumedAt: number;
        abortedAt?: number;
        stale: { accepted: boolean };
        outcome: string;
        errorName?: string;
      };
      let probeTook = true;
      let nextSignalAborted = true;
      const nextRecording = h.recorder('next-holder').attempt({ key, waitMs: 15_000 }, (attempt) =>
        next.manager.withLock(key, { retry: { waitMs: 15_000 }, leaseMs: 10_000 }, async (scope) => {
          tookAt = Date.now();
          nextToken = scope.locks[0]!.fencingToken ?? 0;
          attempt.acquired(nextToken);
          await server.register.write(key, nextToken, 'next-holder');
          verdict = JSON.parse((await verdictLine).slice('verdict '.length));
          // The stale holder has released by now: that must not have touched our lock.
          probeTook = await takenOnce(observer.manager, key);
          nextSignalAborted = scope.signal.aborted;
          await server.register.write(key, nextToken, 'next-holder:end');
          attempt.released();
        }),
      );
      if (freeze === 'SIGSTOP') {
        await sleep(FREEZE_MS - (Date.now() - frozenAt));
        resumedAt = Date.now();
        holder.kill('SIGCONT');
      }
      const nextRecord = await nextRecording;
      resumedAt ??= verdict.resumedAt;
      // The stale holder lingers (its renewal timers would fire now): the key must be free.
      const freeRecord = await h.recorder('observer').attempt({ key }, (attempt) =>
        observer.manager.withLock(key, { leaseMs: LEASE_MS }, async (scope) => {
          attempt.acquired(scope.locks[0]!.fencingToken);
          await server.register.write(key, scope.locks[0]!.fencingToken ?? 0, 'observer');
          await sleep(LEASE_MS);
          expect(scope.signal.aborted).toBe(false);
        }),
      );
      const exit = await Promise.race([
        holder.exited,
        sleep(15_000).then(() => {
          holder.kill('SIGKILL');
          throw new Error('the stale holder did not exit within 15 s of its verdict');
        }),
      ]);

      expect(exit.code, `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`).toBe(0);
      expect(verdict).toMatchObject({ outcome: 'LOCK_LOST', errorName: 'LockLostError' });
      expect(verdict.abortedAt, 'the stale holder never saw its signal abort').toBeDefined();
      expect(nextRecord).toMatchObject({ outcome: 'ok' });
      expect(freeRecord).toMatchObject({ outcome: 'ok' });
      expect(probeTook).toBe(false);
      expect(nextSignalAborted).toBe(false);
      if (staleToken > 0) expect(nextToken).toBeGreaterThan(staleToken);
      const label = `holder frozen (${freeze})`;
      timings.note(
        `${label}: stale holder's signal aborts after it runs again`,
        verdict.abortedAt! - verdict.resumedAt,
      );
      expect(verdict.abortedAt! - verdict.resumedAt).toBeLessThan(2_000);
      if (options.sessionBound) {
        // The session keeps the lock while its process is frozen: nobody else gets it meanwhile.
        timings.note(`${label}: next caller gets it after the holder runs again`, tookAt - resumedAt);
        expect(tookAt).toBeGreaterThanOrEqual(resumedAt - 50);
        expect(tookAt - resumedAt).toBeLessThan(3_000);
      } else {
        timings.note(`${label}: next caller takes over after`, tookAt - heldAt);
        expect(tookAt).toBeLessThan(resumedAt);
        expect(tookAt - heldAt).toBeLessThan(LEASE_MS + 1_500);
        expect(verdict.stale.accepted).toBe(false);
      }
      expect(h.violations(server.register)).toEqual([]);
    }, 60_000);
  }
}
