/** `"up"` is client -> store, `"down"` is store -> client. */
export type LinkDirection = 'up' | 'down';

/**
 * Delay added to every chunk, per direction. Each chunk waits `upMs` (or `downMs`) plus a uniform
 * jitter in [-jitterMs, +jitterMs], never less than 0.
 *
 * @example
 * const latency: LinkLatency = { upMs: 20, downMs: 20, jitterMs: 5 };
 */
export interface LinkLatency {
  /** Client -> store delay in ms. Default 0. */
  readonly upMs?: number;
  /** Store -> client delay in ms. Default 0. */
  readonly downMs?: number;
  /** Uniform jitter in ms added to either direction's delay. Never reorders chunks. Default 0. */
  readonly jitterMs?: number;
}

/**
 * What {@link FaultyLink.drop} discards: the next `bytes` bytes or the next `chunks` reads in
 * `direction` (each direction gets its own budget with `"both"`). Give one of `bytes` or `chunks`;
 * with neither, one chunk is dropped.
 *
 * @example
 * link.drop({ direction: 'down', bytes: 3 }); // the first 3 bytes of the next reply vanish
 */
export interface LinkDropOptions {
  readonly direction: LinkDirection | 'both';
  readonly bytes?: number;
  readonly chunks?: number;
}

/**
 * The fault settings every connection of one {@link FaultyLink} reads at each chunk, so a change
 * applies at once to connections already open. Internal to the link; exported for its pipes.
 *
 * @example
 * const faults = new LinkFaults();
 * faults.setLatency({ upMs: 10 });
 * faults.delayMs('up'); // 10
 */
export class LinkFaults {
  #latency: Required<LinkLatency> = { upMs: 0, downMs: 0, jitterMs: 0 };
  bandwidthBytesPerSecond: number | undefined;
  paused = false;
  readonly #dropBytes = { up: 0, down: 0 };
  readonly #dropChunks = { up: 0, down: 0 };

  /**
   * @example
   * faults.setLatency({ upMs: 20, downMs: 20, jitterMs: 5 });
   */
  setLatency(latency: LinkLatency): void {
    const upMs = latency.upMs ?? 0;
    const downMs = latency.downMs ?? 0;
    const jitterMs = latency.jitterMs ?? 0;
    for (const [name, value] of Object.entries({ upMs, downMs, jitterMs })) assertNonNegative(name, value);
    this.#latency = { upMs, downMs, jitterMs };
  }

  /**
   * @example
   * faults.setBandwidth(64 * 1024); // 64 KiB/s per direction of each connection
   */
  setBandwidth(bytesPerSecond: number | undefined): void {
    if (bytesPerSecond !== undefined && !(bytesPerSecond > 0 && Number.isFinite(bytesPerSecond)))
      throw new RangeError(
        `bandwidthBytesPerSecond must be a positive finite number, got ${bytesPerSecond}.`,
      );
    this.bandwidthBytesPerSecond = bytesPerSecond;
  }

  /**
   * The delay for one chunk now, jitter included.
   *
   * @example
   * setTimeout(deliver, faults.delayMs('down'));
   */
  delayMs(direction: LinkDirection): number {
    const { upMs, downMs, jitterMs } = this.#latency;
    const base = direction === 'up' ? upMs : downMs;
    const jitter = jitterMs === 0 ? 0 : (Math.random() * 2 - 1) * jitterMs;
    return Math.max(0, base + jitter);
  }

  /**
   * @example
   * faults.addDrop({ direction: 'both', chunks: 1 });
   */
  addDrop(options: LinkDropOptions): void {
    if (options.bytes !== undefined && options.chunks !== undefined)
      throw new RangeError('drop() takes bytes or chunks, not both.');
    const bytes = options.bytes ?? 0;
    const chunks = options.bytes === undefined ? (options.chunks ?? 1) : 0;
    assertNonNegative('bytes', bytes);
    assertNonNegative('chunks', chunks);
    const directions: LinkDirection[] = options.direction === 'both' ? ['up', 'down'] : [options.direction];
    for (const direction of directions) {
      this.#dropBytes[direction] += Math.floor(bytes);
      this.#dropChunks[direction] += Math.floor(chunks);
    }
  }

  /**
   * Spend the drop budget on a chunk just read: returns what is left to forward (maybe nothing).
   *
   * @example
   * const kept = faults.applyDrop('up', chunk);
   * if (kept) queue(kept);
   */
  applyDrop(direction: LinkDirection, chunk: Buffer): Buffer | undefined {
    if (this.#dropChunks[direction] > 0) {
      this.#dropChunks[direction]--;
      return undefined;
    }
    const dropBytes = this.#dropBytes[direction];
    if (dropBytes === 0) return chunk;
    const dropped = Math.min(dropBytes, chunk.length);
    this.#dropBytes[direction] -= dropped;
    return dropped === chunk.length ? undefined : chunk.subarray(dropped);
  }
}

function assertNonNegative(name: string, value: number): void {
  if (!(value >= 0 && Number.isFinite(value)))
    throw new RangeError(`${name} must be a finite number >= 0, got ${value}.`);
}
