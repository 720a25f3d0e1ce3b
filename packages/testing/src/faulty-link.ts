import { createServer, type Server, type Socket } from 'node:net';
import { LinkConnection } from './link-connection.js';
import { type LinkDropOptions, LinkFaults, type LinkLatency } from './link-faults.js';
import { settlesWithin } from './settles-within.js';
import { withAddress } from './url-address.js';

// How long close() waits for the 'close' of sockets it destroyed, and for the server to drain.
const CLOSE_WAIT_MS = 1_000;

/**
 * Where a {@link FaultyLink} forwards to, and the faults it starts with.
 *
 * @example
 * const options: FaultyLinkOptions = { target: { host: '127.0.0.1', port: 6379 }, latency: { upMs: 20 } };
 */
export interface FaultyLinkOptions {
  /** The store the link forwards to. */
  readonly target: { readonly host: string; readonly port: number };
  /** Initial per-chunk latency. Default none. */
  readonly latency?: LinkLatency;
  /** Initial bandwidth per direction of each connection, in bytes per second. Default unlimited. */
  readonly bandwidthBytesPerSecond?: number;
}

/**
 * An in-process TCP proxy in front of any store (Redis, MySQL, ...) that injects network faults:
 * latency with jitter (never reordering bytes), limited bandwidth, a blackhole (`pause()`),
 * connection resets, and dropped bytes. Point your client at `link.url(...)` instead of the store.
 *
 * Faults apply to every connection, open or new, from the moment they are set.
 *
 * @example
 * const link = await FaultyLink.start({ target: { host: '127.0.0.1', port: 6379 } });
 * const redis = new Redis(link.url('redis://127.0.0.1:6379/0'));
 * link.setLatency({ upMs: 20, downMs: 20 });
 * link.pause(); // replies stop arriving, sockets stay open
 * link.resume();
 * await link.close();
 */
export class FaultyLink {
  /** The address clients should connect to: always the loopback interface. */
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly #server: Server;
  readonly #faults: LinkFaults;
  readonly #connections = new Set<LinkConnection>();
  #closing: Promise<void> | undefined;

  private constructor(server: Server, port: number, faults: LinkFaults) {
    this.#server = server;
    this.port = port;
    this.#faults = faults;
  }

  /**
   * Listen on a free loopback port and forward every connection to `options.target`.
   *
   * @example
   * const link = await FaultyLink.start({ target: { host: '127.0.0.1', port: 3306 }, bandwidthBytesPerSecond: 10_000 });
   */
  static async start(options: FaultyLinkOptions): Promise<FaultyLink> {
    const faults = new LinkFaults();
    if (options.latency) faults.setLatency(options.latency);
    faults.setBandwidth(options.bandwidthBytesPerSecond);
    let link: FaultyLink | undefined;
    const pending: Socket[] = [];
    const server = createServer({ allowHalfOpen: true }, (client) => {
      if (link) link.#accept(client, options.target);
      else pending.push(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('FaultyLink: no listening address.');
    link = new FaultyLink(server, address.port, faults);
    for (const client of pending) link.#accept(client, options.target);
    return link;
  }

  /**
   * `url` with its host and port replaced by the link's, e.g. for `new Redis(link.url(REDIS_URL))`.
   *
   * @example
   * link.url('mysql://root@127.0.0.1:3306/test'); // 'mysql://root@127.0.0.1:41234/test'
   */
  url(url: string): string {
    return withAddress(url, this.host, this.port);
  }

  /**
   * Replace the per-chunk latency (omitted fields become 0). Chunks already held keep their delay.
   *
   * @example
   * link.setLatency({ upMs: 50, downMs: 50, jitterMs: 10 });
   */
  setLatency(latency: LinkLatency): void {
    this.#faults.setLatency(latency);
  }

  /**
   * Limit each direction of each connection to `bytesPerSecond`; `undefined` removes the limit.
   *
   * @example
   * link.setBandwidth(1024); // 1 KiB/s
   */
  setBandwidth(bytesPerSecond: number | undefined): void {
    this.#faults.setBandwidth(bytesPerSecond);
  }

  /**
   * Blackhole: hold every byte in both directions (nothing forwarded, no RST, sockets stay open).
   * New connections are still accepted, but nothing crosses the link until `resume()`.
   *
   * @example
   * link.pause();
   * await sleep(leaseMs * 2); // the holder cannot renew
   * link.resume();
   */
  pause(): void {
    this.#faults.paused = true;
    for (const connection of this.#connections) connection.hold();
  }

  /**
   * Forward everything held during `pause()`, in order, then carry on normally.
   *
   * @example
   * link.resume();
   */
  resume(): void {
    this.#faults.paused = false;
    for (const connection of this.#connections) connection.pump();
  }

  /**
   * Reset every current connection: an RST goes to the client and to the store, held bytes are lost.
   * New connections work as before.
   *
   * @example
   * link.reset(); // ioredis sees ECONNRESET and reconnects
   */
  reset(): void {
    for (const connection of this.#connections) connection.reset();
  }

  /**
   * Silently discard the next `bytes` bytes or `chunks` reads in a direction, across connections.
   *
   * @example
   * link.drop({ direction: 'down', chunks: 1 }); // the next reply read from the store vanishes
   */
  drop(options: LinkDropOptions): void {
    this.#faults.addDrop(options);
  }

  /**
   * Open proxied connections.
   *
   * @example
   * expect(link.connectionCount).toBe(1);
   */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Stop listening, destroy every connection (both sides, whatever it holds or waits for) and
   * clear every timer. Returns within about a second in any state; safe to call again or
   * concurrently (every call gets the same promise).
   *
   * @example
   * afterEach(() => link.close());
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    // Stop listening first: from here the kernel refuses new connections, and one accepted in the
    // meantime is destroyed by #accept.
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Each connection waits for its sockets' 'close' with a bound, as does the server for its
    // connections: a destroyed socket closes within a loop turn, so the bounds only cut short a
    // socket Node lost track of, which must not turn a passed test into a tear-down timeout.
    await Promise.all([
      ...[...this.#connections].map((connection) => connection.destroy(CLOSE_WAIT_MS)),
      settlesWithin(serverClosed, CLOSE_WAIT_MS),
    ]);
    this.#connections.clear();
  }

  #accept(client: Socket, target: FaultyLinkOptions['target']): void {
    if (this.#closing) {
      client.destroy();
      return;
    }
    let connection: LinkConnection;
    try {
      connection = new LinkConnection({
        client,
        target,
        faults: this.#faults,
        onClosed: () => this.#connections.delete(connection),
      });
    } catch {
      // connect() throws at once on a bad target: the client sees a closed connection, and no
      // socket the link does not track is left for server.close() to wait on.
      client.destroy();
      return;
    }
    this.#connections.add(connection);
  }
}
