import { createServer, type Server, type Socket } from 'node:net';
import { FencedRegister } from './fenced-register.js';
import { readJsonLines, writeJsonLine } from './json-lines.js';

/** A request on the register's wire: one JSON object per line. */
export type FencedRegisterRequest =
  | {
      readonly id: number;
      readonly op: 'write';
      readonly key: string;
      readonly token: number;
      readonly value: unknown;
    }
  | { readonly id: number; readonly op: 'read'; readonly key: string };

/**
 * Shares one {@link FencedRegister} with other OS processes (workers of a fault test) over a
 * loopback TCP socket; they write through a {@link FencedRegisterClient}. The parent keeps the
 * `register` itself and reads its `writes` log directly.
 *
 * @example
 * const server = await FencedRegisterServer.start();
 * spawnWorker({ env: { REGISTER_PORT: String(server.port) } });
 * ...
 * checkHistory(history, { commandTimeoutMs: 1000, register: server.register });
 * await server.close();
 */
export class FencedRegisterServer {
  readonly port: number;
  readonly register: FencedRegister;
  readonly #server: Server;
  readonly #sockets: ReadonlySet<Socket>;
  #closing: Promise<void> | undefined;

  private constructor(options: {
    server: Server;
    port: number;
    register: FencedRegister;
    sockets: Set<Socket>;
  }) {
    this.#server = options.server;
    this.port = options.port;
    this.register = options.register;
    this.#sockets = options.sockets;
  }

  /**
   * Listen on a free 127.0.0.1 port, serving `register` (default: a new one).
   *
   * @example
   * const { port, register } = await FencedRegisterServer.start();
   */
  static async start(options: { register?: FencedRegister } = {}): Promise<FencedRegisterServer> {
    const register = options.register ?? new FencedRegister();
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      readJsonLines(socket, (message) => writeJsonLine(socket, answer(register, message)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('FencedRegisterServer: no address.');
    return new FencedRegisterServer({ server, port: address.port, register, sockets });
  }

  /**
   * Stop listening and drop every client connection. Safe to call twice.
   *
   * @example
   * afterAll(() => server.close());
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }
}

function answer(register: FencedRegister, message: unknown): unknown {
  const request = message as Partial<FencedRegisterRequest> | null;
  const id = typeof request?.id === 'number' ? request.id : -1;
  try {
    if (request?.op === 'write' && typeof request.key === 'string' && typeof request.token === 'number')
      return { id, result: register.writeNow(request.key, request.token, request.value) };
    if (request?.op === 'read' && typeof request.key === 'string')
      return { id, result: register.read(request.key) ?? null };
    return { id, error: `Unknown register request: ${JSON.stringify(message)}` };
  } catch (error) {
    return { id, error: error instanceof Error ? error.message : String(error) };
  }
}
