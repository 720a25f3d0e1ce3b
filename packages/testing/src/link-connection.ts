import { connect, type Socket } from 'node:net';
import type { LinkFaults } from './link-faults.js';
import { LinkPipe } from './link-pipe.js';

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
    client.on('error', () => resetSocket(upstream));
    upstream.on('error', () => resetSocket(client));
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
    for (const pipe of this.#pipes) pipe.dispose();
    resetSocket(this.#client);
    resetSocket(this.#upstream);
  }

  /**
   * Destroy both sockets and resolve once both are closed.
   *
   * @example
   * await connection.destroy();
   */
  destroy(): Promise<void> {
    for (const pipe of this.#pipes) pipe.dispose();
    this.#client.destroy();
    this.#upstream.destroy();
    return this.#closed;
  }
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy() throws on a socket without a handle (e.g. one that failed to connect).
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
