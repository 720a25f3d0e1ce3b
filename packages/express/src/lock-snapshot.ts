import type { LockInspection, LockManager } from '@dlock/core';

/** One lock as the page receives it: {@link LockInspection} in JSON (absent values are `null`). */
export interface LockSnapshotEntry {
  readonly key: string;
  readonly backend: string;
  readonly held: boolean;
  readonly owner: LockInspection['owner'] | null;
  readonly leaseRemainingMs: number | null;
  readonly fencingToken: number | null;
  readonly waiters: number | null;
}

/** What the page shows at one moment: the held locks of a prefix, or why they could not be read. */
export interface LockSnapshot {
  /** Epoch ms (server clock) when the locks were read. */
  readonly readAt: number;
  /** The key prefix listed. */
  readonly prefix: string;
  /** Held locks, sorted by key, at most `limit`. */
  readonly locks: readonly LockSnapshotEntry[];
  /** Whether `limit` cut the list short (there may be more). */
  readonly truncated: boolean;
  /** Set when the store could not be read; `locks` is empty then. */
  readonly error?: string | undefined;
}

/** What to read: see {@link LockDashboardOptions}. */
export interface LockSnapshotSource {
  readonly manager: LockManager<string>;
  readonly prefix: string;
  readonly limit: number;
  readonly backend: string | undefined;
}

/**
 * Read the held locks of `source.prefix` once (`manager.list`), never rejecting: a store error
 * becomes the snapshot's `error`, so the page says so instead of going blank.
 *
 * @example
 * const snapshot = await readLockSnapshot({ manager, prefix: 'stock:', limit: 100, backend: undefined });
 */
export async function readLockSnapshot(source: LockSnapshotSource): Promise<LockSnapshot> {
  const readAt = Date.now();
  try {
    const locks = await source.manager.list({
      prefix: source.prefix,
      limit: source.limit + 1,
      ...(source.backend === undefined ? {} : { backend: source.backend }),
    });
    return {
      readAt,
      prefix: source.prefix,
      truncated: locks.length > source.limit,
      locks: locks.slice(0, source.limit).map((lock) => ({
        key: lock.key,
        backend: lock.backend,
        held: lock.held,
        owner: lock.owner ?? null,
        leaseRemainingMs: lock.leaseRemainingMs ?? null,
        fencingToken: lock.fencingToken ?? null,
        waiters: lock.waiters ?? null,
      })),
    };
  } catch (error) {
    return {
      readAt,
      prefix: source.prefix,
      truncated: false,
      locks: [],
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** A server-sent-events subscriber: anything with `write`. */
interface FeedClient {
  write(chunk: string): unknown;
}

/**
 * One poller per mounted page, shared by every open page: reads a snapshot every `refreshMs`
 * while at least one page listens, and sends it to all of them as an SSE `data:` message. No
 * listener, no store reads.
 */
export class LockFeed {
  readonly #source: LockSnapshotSource;
  readonly #refreshMs: number;
  readonly #clients = new Set<FeedClient>();
  #timer: NodeJS.Timeout | undefined;
  #reading = false;

  constructor(source: LockSnapshotSource, refreshMs: number) {
    this.#source = source;
    this.#refreshMs = refreshMs;
  }

  /** Start sending snapshots to `client` (the first at once); returns the unsubscribe function. */
  subscribe(client: FeedClient): () => void {
    this.#clients.add(client);
    void readLockSnapshot(this.#source).then((snapshot) => client.write(message(snapshot)));
    // Unref'd: an open page must not keep the process alive at shutdown.
    this.#timer ??= setInterval(() => void this.#tick(), this.#refreshMs).unref();
    return () => {
      this.#clients.delete(client);
      if (this.#clients.size === 0) this.stop();
    };
  }

  /** Stop polling (the page's connections stay until their clients go). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    // A slow store must not stack reads: skip a tick while the last read runs.
    if (this.#reading) return;
    this.#reading = true;
    try {
      const text = message(await readLockSnapshot(this.#source));
      for (const client of this.#clients) client.write(text);
    } finally {
      this.#reading = false;
    }
  }
}

function message(snapshot: LockSnapshot): string {
  return `data: ${JSON.stringify(snapshot)}\n\n`;
}
