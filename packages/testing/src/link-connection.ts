import { connect, type Socket } from 'node:net';
import type { LinkFaults } from './link-faults.js';
import { LinkPipe } from './link-pipe.js';
import { settlesWithin } from './settles-within.js';

/**
 * One client connection accepted by a {@link FaultyLink} and its own connection to the target,
 * joined by two {@link LinkPipe}s. An error (RST, refused connect) on one side resets the other,
 * so the client sees what a broken network would show it.
 *
 * @example
 * const connection = new LinkConnection({ client, target, faults, onClosed: () => set.delete(connection) });
 */
export class LinkConnection {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #pipes: readonly LinkPipe[];
  readonly #closed: Promise<void>;

  constructor(options: {
    client: Socket;
    target: { readonly host: string; readonly port: number };
    faults: LinkFaults;
    onClosed: () => void;
  }) {
    const { client, faults } = options;
    this.#client = client;
    this.#upstream = connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true });
    const upstream = this.#upstream;
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.#pipes = [
      new LinkPipe({ source: client, destination: upstream, direction: 'up', faults }),
      new LinkPipe({ source: upstream, destination: client, direction: 'down', faults }),
    ];
    // An error on one side (RST, refused connect) resets the other, and nothing more is forwarded:
    // the pipes' timers go now rather than when their chunks fall due.
    client.on('error', () => this.#resetSide(upstream));
    upstream.on('error', () => this.#resetSide(client));
    const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.#closed = Promise.all([closed(client), closed(upstream)]).then(() => {
      for (const pipe of this.#pipes) pipe.dispose();
      options.onClosed();
    });
    for (const pipe of this.#pipes) pipe.start();
  }

  /**
   * Forward held chunks (after a resume).
   *
   * @example
   * for (const connection of connections) connection.pump();
   */
  pump(): void {
    for (const pipe of this.#pipes) pipe.pump();
  }

  /**
   * Stop forwarding (on pause); chunks stay held.
   *
   * @example
   * for (const connection of connections) connection.hold();
   */
  hold(): void {
    for (const pipe of this.#pipes) pipe.hold();
  }

  /**
   * Send an RST on both sides and forget held chunks.
   *
   * @example
   * connection.reset();
   */
  reset(): void {
    this.#resetSide(this.#client);
    this.#resetSide(this.#upstream);
  }

  /**
   * Destroy both sockets and resolve once both are closed, or after `boundMs` at the latest: a
   * socket whose 'close' never comes must not hold up the link's `close()`.
   *
   * @example
   * await connection.destroy(1_000);
   */
  async destroy(boundMs: number): Promise<void> {
    for (const pipe of this.#pipes) pipe.dispose();
    this.#client.destroy();
    this.#upstream.destroy();
    await settlesWithin(this.#closed, boundMs);
  }

  #resetSide(socket: Socket): void {
    for (const pipe of this.#pipes) pipe.dispose();
    resetSocket(socket);
  }
}

/** Close `socket` with an RST where Node can, else plainly; never leave it open. */
function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // An RST is SO_LINGER 0 plus uv_close (uv_tcp_close_reset), which libuv refuses with EINVAL while
  // a shutdown is pending on the socket (a FIN the link forwarded with end() in the same loop turn);
  // its docs: "mixing of uv_shutdown and uv_tcp_close_reset calls is not allowed". Node then emits
  // 'error' (reset EINVAL) and drops the handle without closing it: no 'close' ever, a leaked fd,
  // and a close() that waited for it forever. On a socket still connecting, resetAndDestroy() waits
  // for 'connect', where an end() called before it shuts down first and the reset fails the same
  // way. Node does not say whether a shutdown is pending, so any socket we ended (or that has not
  // connected yet) is closed plainly instead: its FIN is already on the way (a connecting one has
  // sent nothing), and the kernel still answers with an RST to bytes nobody will read.
  if (socket.connecting || socket.writableEnded) {
    socket.destroy();
    return;
  }
  // resetAndDestroy() throws on a socket without a handle (e.g. one that failed to connect).
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
