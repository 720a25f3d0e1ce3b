import type { DecoratorPlan } from './decorator-scenario.js';
import type { LibraryId } from './lock-adapter.js';
import type { MemoryPlan } from './memory-scenario.js';
import type { UncontendedPlan } from './uncontended-scenario.js';

/** Everything a run does; `--quick` and the full run differ only here. */
export interface BenchPlan {
  readonly mode: 'quick' | 'full';
  /** Worker processes the contended waiters are spread over. */
  readonly processes: number;
  readonly contentionLibraries: readonly LibraryId[];
  readonly waiters: readonly number[];
  readonly holdsMs: readonly number[];
  /** Rounds per (waiters, hold, library); the library order rotates every round and configuration. */
  readonly contentionRounds: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  /** How long a contended caller may wait before its acquire counts as an error. */
  readonly waitMs: number;
  readonly uncontended: UncontendedPlan;
  readonly decorator: DecoratorPlan;
  /** Heap and Redis memory per held lock, waiter and released key (in the bench process). */
  readonly memory: MemoryPlan;
  /** W waiters over the worker processes spread over 1, 100, 10,000 keys: cost per acquisition as keys grow. */
  readonly scale: {
    readonly libraries: readonly LibraryId[];
    readonly waiters: number;
    readonly holdMs: number;
    readonly keys: readonly number[];
  };
  /**
   * One semaphore with `permits` permits, W waiters over the worker processes, each taking one
   * permit and holding it `holdMs`: cost per acquisition as W grows, fairness, and the limit.
   */
  readonly semaphore: {
    readonly libraries: readonly LibraryId[];
    readonly permits: number;
    readonly waiters: readonly number[];
    readonly holdMs: number;
  };
  /** The contention rounds again through a FaultyLink with `latencyMs` each way (a real network). */
  readonly network: {
    readonly latencyMs: number;
    readonly libraries: readonly LibraryId[];
    readonly waiters: readonly number[];
    readonly holdsMs: readonly number[];
  };
}

const SCALE: readonly LibraryId[] = ['dlock-pubsub', 'dlock-spin', 'redlock', 'redis-semaphore'];

const SEMAPHORE = {
  libraries: ['dlock-pubsub-semaphore', 'dlock-spin-semaphore', 'redis-semaphore-semaphore'],
  permits: 4,
  // The question is how the cost grows with W, so both runs measure both.
  waiters: [16, 64],
  holdMs: 5,
} as const;

const NETWORK: readonly LibraryId[] = [
  'dlock-pubsub',
  'dlock-spin',
  'dlock-mysql',
  'redlock',
  'redis-semaphore',
  'redis-semaphore-2ms',
];

const CROSS_PROCESS: readonly LibraryId[] = [
  'dlock-pubsub',
  'dlock-spin',
  // The same two backends on the private 3-master Redis Cluster (started only when selected).
  'dlock-pubsub-cluster',
  'dlock-spin-cluster',
  'dlock-mysql',
  'redlock',
  'redis-semaphore',
];

/**
 * The plan for `--quick` (under 2 minutes on 2 cores) or the full run (about 7 minutes).
 *
 * @example
 * const plan = benchPlan(process.argv.includes('--quick') ? 'quick' : 'full');
 */
export function benchPlan(mode: 'quick' | 'full'): BenchPlan {
  if (mode === 'quick') {
    return {
      mode,
      processes: 4,
      contentionLibraries: CROSS_PROCESS,
      waiters: [4, 16],
      holdsMs: [0, 5],
      contentionRounds: 1,
      warmupMs: 300,
      windowMs: 1_500,
      waitMs: 20_000,
      uncontended: { libraries: [...CROSS_PROCESS, 'dlock-memory'], rounds: 3, iterationsPerRound: 300 },
      decorator: { rounds: 3, callsPerRound: 10_000 },
      memory: { heldLocks: 2_000, waiters: 2_000 },
      network: { latencyMs: 1, libraries: NETWORK, waiters: [16], holdsMs: [5] },
      scale: { libraries: SCALE, waiters: 16, holdMs: 5, keys: [1, 100] },
      semaphore: SEMAPHORE,
    };
  }
  return {
    mode,
    processes: 4,
    contentionLibraries: [...CROSS_PROCESS, 'redis-semaphore-2ms'],
    waiters: [4, 16, 64],
    holdsMs: [0, 5],
    contentionRounds: 2,
    warmupMs: 500,
    windowMs: 3_000,
    waitMs: 30_000,
    uncontended: {
      libraries: [...CROSS_PROCESS, 'redis-semaphore-2ms', 'dlock-memory'],
      rounds: 6,
      iterationsPerRound: 1_000,
    },
    decorator: { rounds: 7, callsPerRound: 20_000 },
    memory: { heldLocks: 10_000, waiters: 10_000 },
    network: { latencyMs: 1, libraries: NETWORK, waiters: [64], holdsMs: [0, 5] },
    scale: { libraries: SCALE, waiters: 64, holdMs: 5, keys: [1, 100, 10_000] },
    semaphore: SEMAPHORE,
  };
}
