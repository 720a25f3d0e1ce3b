import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LinkDirection, LinkFaults } from './link-faults.js';

interface QueuedChunk {
  /** The bytes to write, or `undefined` for the source's end (FIN), forwarded in order too. */
  readonly data: Buffer | undefined;
  readonly dueAt: number;
}

// Above this many held bytes the pipe stops reading its source, so a paused or throttled link
// pushes back on the sender through TCP instead of buffering without bound.
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;

/**
 * One direction of one proxied connection: reads chunks from `source`, holds each until its due
 * time (latency, bandwidth) and while the link is paused, then writes it to `destination`.
 * Due times never decrease, so jitter delays chunks but never reorders them.
 *
 * @example
 * const up = new LinkPipe({ source: client, destination: upstream, direction: 'up', faults });
 * up.start();
 */
export class LinkPipe {
  readonly #source: Socket;
  readonly #destination: Socket;
  readonly #direction: LinkDirection;
  readonly #faults: LinkFaults;
  readonly #queue: QueuedChunk[] = [];
  #queuedBytes = 0;
  #lastDueAt = 0;
  #bandwidthBusyUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(options: {
    source: Socket;
    destination: Socket;
    direction: LinkDirection;
    faults: LinkFaults;
  }) {
    this.#source = options.source;
    this.#destination = options.destination;
    this.#direction = options.direction;
    this.#faults = options.faults;
  }

  /**
   * Start reading the source.
   *
   * @example
   * pipe.start();
   */
  start(): void {
    this.#source.on('data', (chunk: Buffer) => this.#push(chunk));
    this.#source.on('end', () => this.#enqueue(undefined, this.#nextDueAt(0)));
  }

  /**
   * Forward whatever is due; call after the link resumes.
   *
   * @example
   * link.resume(); for (const pipe of pipes) pipe.pump();
   */
  pump(): void {
    this.#clearTimer();
    if (this.#disposed || this.#faults.paused) return;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const waitMs = head.dueAt - performance.now();
      if (waitMs > 0) {
        // Ref'd on purpose: bytes in flight are work the process has not finished.
        this.#timer = setTimeout(() => this.pump(), Math.ceil(waitMs));
        return;
      }
      this.#queue.shift();
      if (head.data === undefined) {
        if (!this.#destination.destroyed) this.#destination.end();
        continue;
      }
      this.#queuedBytes -= head.data.length;
      if (this.#destination.destroyed || !this.#destination.writable) continue;
      this.#destination.write(head.data);
    }
    if (this.#queuedBytes < LOW_WATER_BYTES && this.#source.isPaused() && !this.#source.destroyed)
      this.#source.resume();
  }

  /**
   * Stop the pump when the link pauses (held chunks stay queued).
   *
   * @example
   * link.pause(); for (const pipe of pipes) pipe.hold();
   */
  hold(): void {
    this.#clearTimer();
  }

  /**
   * Forget every held chunk and stop for good (the connection is gone).
   *
   * @example
   * pipe.dispose();
   */
  dispose(): void {
    this.#disposed = true;
    this.#clearTimer();
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  #push(chunk: Buffer): void {
    const kept = this.#faults.applyDrop(this.#direction, chunk);
    if (!kept) return;
    this.#enqueue(kept, this.#nextDueAt(kept.length));
    if (this.#queuedBytes > HIGH_WATER_BYTES) this.#source.pause();
  }

  #nextDueAt(byteCount: number): number {
    const now = performance.now();
    let sentAt = now;
    const bandwidth = this.#faults.bandwidthBytesPerSecond;
    if (bandwidth !== undefined && byteCount > 0) {
      // The link serializes bytes: a chunk starts once the previous one has left.
      sentAt = Math.max(now, this.#bandwidthBusyUntil) + (byteCount * 1000) / bandwidth;
      this.#bandwidthBusyUntil = sentAt;
    }
    // Never earlier than the chunk before: jitter must not reorder a byte stream.
    const dueAt = Math.max(this.#lastDueAt, sentAt + this.#faults.delayMs(this.#direction));
    this.#lastDueAt = dueAt;
    return dueAt;
  }

  #enqueue(data: Buffer | undefined, dueAt: number): void {
    if (this.#disposed) return;
    this.#queue.push({ data, dueAt });
    if (data) this.#queuedBytes += data.length;
    // Only the head's timer matters; a new tail is picked up when the head is written.
    if (this.#queue.length === 1) this.pump();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
