import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultyLink } from '../../src/index.js';

/**
 * A private TCP store for the close tests: echoes what it reads, keeps a half-open socket open
 * (like a store that still has replies to send), and can stall (stop reading) so the link's
 * writes towards it pile up in the kernel and in the link.
 */
export class EchoServer {
  readonly sockets = new Set<Socket>();
  #stalled = false;

  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<EchoServer> {
    let echo: EchoServer | undefined;
    const server = createServer({ allowHalfOpen: true }, (socket) => echo?.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('EchoServer: no address.');
    echo = new EchoServer(server, address.port);
    return echo;
  }

  get target(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.port };
  }

  accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      if (socket.writable) socket.write(chunk);
    });
    if (this.#stalled) socket.pause();
  }

  /** Stop reading every socket, open or new: writes towards the store back up. */
  stall(): void {
    this.#stalled = true;
    for (const socket of this.sockets) socket.pause();
  }

  /** Send a FIN on every socket (the store hangs up its side). */
  endAll(): void {
    for (const socket of this.sockets) socket.end();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A raw client through `link`, once connected (rejects if refused). Later errors (the link's RSTs)
 * are expected and ignored.
 */
export async function rawClient(link: FaultyLink): Promise<Socket> {
  const socket = connect({ host: link.host, port: link.port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {});
  return socket;
}

/** `link.close()` raced against `boundMs`: how long it took, or `'hung'`. Never waits longer. */
export async function closeTimed(link: FaultyLink, boundMs = 2_000): Promise<number | 'hung'> {
  const startedAt = performance.now();
  const controller = new AbortController();
  const outcome = await Promise.race([
    link.close().then(() => performance.now() - startedAt),
    sleep(boundMs, 'hung' as const, { signal: controller.signal }).catch(() => 'hung' as const),
  ]);
  controller.abort();
  return outcome;
}

// The kinds of handle a link can leave behind: its sockets, its listener, its timers.
const LINK_HANDLES = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];

/** How many sockets, listeners and timers are open, by kind. */
export function openHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo())
    if (LINK_HANDLES.includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Handles above `baseline` once closing callbacks have had up to `withinMs` to run (a destroyed
 * socket's handle closes a loop turn later): `{}` when everything opened since has closed.
 */
export async function handlesLeftAbove(
  baseline: Record<string, number>,
  withinMs = 1_000,
): Promise<Record<string, number>> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const extra: Record<string, number> = {};
    for (const [kind, count] of Object.entries(openHandles()))
      if (count > (baseline[kind] ?? 0)) extra[kind] = count - (baseline[kind] ?? 0);
    if (Object.keys(extra).length === 0 || performance.now() > deadline) return extra;
    await sleep(20);
  }
}
