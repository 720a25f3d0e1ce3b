import type { LibraryId, StoreUrls } from './lock-adapter.js';

/** What one worker process runs in one contended round. */
export interface ContentionRunSpec {
  readonly library: LibraryId;
  readonly key: string;
  /** Workers (concurrent callers) inside this process. */
  readonly workers: number;
  /** Global id of this process's first worker; ids are unique across processes. */
  readonly firstWorkerId: number;
  readonly processIndex: number;
  /** Time each worker keeps the lock, on top of the counter read-modify-write. */
  readonly holdMs: number;
  readonly waitMs: number;
  /** File holding the non-atomic counter that checks mutual exclusion. */
  readonly counterFile: string;
  readonly urls: StoreUrls;
  /**
   * Spread over this many keys (each acquisition picks one at random): the scale scenario. 1 or
   * absent: one key, with the non-atomic counter checking mutual exclusion.
   */
  readonly keys?: number;
  /**
   * Take one permit of a semaphore with this many instead of a lock (the semaphore scenario): up to
   * `permits` holders at once, so the non-atomic counter is not used; the parent checks the
   * holders' timestamps against the limit instead.
   */
  readonly permits?: number;
}

/** Monotonic instants (see `monotonicMs`) shared by every process of one round. */
export interface ContentionTiming {
  /** Workers start acquiring. */
  readonly startAt: number;
  /** Measurement window: after the start-up burst settled. */
  readonly measureFrom: number;
  /** Workers stop starting new acquisitions; waiters still finish theirs. */
  readonly measureTo: number;
}

/** Fields per acquisition in {@link ContentionResult.records}, flattened to keep IPC cheap. */
export const RECORD_FIELDS = 4;

export interface ContentionResult {
  /** Per acquisition: worker id, wantAt (acquire called), gotAt (acquired), releaseAt (release called). */
  readonly records: readonly number[];
  /** Redis commands this process had sent at `measureFrom` and at `measureTo` (client side). */
  readonly sentAtFrom: number;
  readonly sentAtTo: number;
  readonly errorCount: number;
  readonly firstErrors: readonly string[];
}

export type ParentMessage =
  | { readonly type: 'prepare'; readonly spec: ContentionRunSpec }
  | { readonly type: 'start'; readonly timing: ContentionTiming }
  | { readonly type: 'exit' };

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'unavailable'; readonly reason: string }
  | { readonly type: 'result'; readonly result: ContentionResult }
  | { readonly type: 'failed'; readonly error: string };
