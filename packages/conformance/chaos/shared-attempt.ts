import { setTimeout as sleep } from 'node:timers/promises';
import type { LockManager } from '@dlock/core';
import type { FencedRegisterClient, HistoryRecorder } from '@dlock/testing';
import type { seededRandom } from './seeded-random.js';
import { type SharedKind, sharedRecordKey } from './shared-history-check.js';

/** The chaos semaphore's limit: below the 4 processes x 2 loops that compete for it. */
export const CHAOS_PERMITS = 3;

/**
 * One shared-locks attempt of a chaos worker: a permit of the semaphore (half the time), else a
 * read (more often) or a write of the read-write key, with a random backend, wait and lease, and
 * recorded under `<key>#<kind>` for `checkSharedHistory`. Writers write through the fenced register
 * like the mutex workload; readers and permit holders do not, since several of them hold at once
 * and their tokens are not ordered among each other.
 *
 * @example
 * await sharedAttempt({ manager, recorder, register, random, backendNames, semaphoreKey, rwKey, name });
 */
export async function sharedAttempt(context: {
  readonly manager: LockManager;
  readonly recorder: HistoryRecorder;
  readonly register: FencedRegisterClient;
  readonly random: ReturnType<typeof seededRandom>;
  readonly backendNames: readonly string[];
  readonly semaphoreKey: string;
  readonly rwKey: string;
  readonly name: string;
}): Promise<void> {
  const { manager, recorder, register, random, name } = context;
  const kind = random.pick<SharedKind>(['permit', 'permit', 'permit', 'read', 'read', 'write']);
  const waitMs = random.pick([0, 300, 1_000, 2_000]);
  const options = {
    backend: random.pick(context.backendNames),
    leaseMs: random.pick([500, 1_000, 3_000]),
    retry: waitMs > 0 ? { waitMs } : false,
  } as const;
  const workMs = random.between(2, 60);
  const key = kind === 'permit' ? context.semaphoreKey : context.rwKey;
  await recorder.attempt({ key: sharedRecordKey(key, kind), waitMs }, async (attempt) => {
    const body = async (scope: { readonly locks: readonly { readonly fencingToken?: number }[] }) => {
      const token = scope.locks[0]?.fencingToken ?? 0;
      attempt.acquired(token);
      if (kind === 'write') await register.write(key, token, `${name}:start`);
      await sleep(workMs);
      if (kind === 'write') await register.write(key, token, `${name}:end`);
      attempt.released();
    };
    if (kind === 'permit') await manager.withSemaphore(key, { ...options, permits: CHAOS_PERMITS }, body);
    else await manager.withLock(key, { ...options, mode: kind }, body);
  });
}
