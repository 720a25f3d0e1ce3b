import { connect, type Socket } from 'node:net';
import type { FencedWriteResult, FencedWriter } from './fenced-register.js';
import type { FencedRegisterRequest } from './fenced-register-server.js';
import { readJsonLines, writeJsonLine } from './json-lines.js';

type PendingReply = { resolve: (result: unknown) => void; reject: (error: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Writes to a {@link FencedRegister} served by a {@link FencedRegisterServer}, usually from another
 * process. Same async `write` as the register. It connects on first use and does not keep the
 * process alive while idle, so a worker that forgets `close()` still exits.
 *
 * @example
 * const register = new FencedRegisterClient(Number(process.env.REGISTER_PORT));
 * const { accepted } = await register.write('stock:42', lock.fencingToken, 41);
 * await register.close();
 */
export class FencedRegisterClient implements FencedWriter {
  readonly port: number;
  readonly host: string;
  #socket: Socket | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, PendingReply>();

  constructor(port: number, host = '127.0.0.1') {
    this.port = port;
    this.host = host;
  }

  /**
   * @example
   * await client.write('stock:42', 8, { count: 41 });
   */
  async write(key: string, token: number, value: unknown): Promise<FencedWriteResult> {
    return (await this.#request({ op: 'write', key, token, value })) as FencedWriteResult;
  }

  /**
   * @example
   * const current = await client.read('stock:42'); // { token, value } or undefined
   */
  async read(key: string): Promise<{ readonly token: number; readonly value: unknown } | undefined> {
    const result = (await this.#request({ op: 'read', key })) as { token: number; value: unknown } | null;
    return result ?? undefined;
  }

  /**
   * Close the connection; pending calls reject.
   *
   * @example
   * await client.close();
   */
  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
    });
  }

  #request(request: DistributiveOmit<FencedRegisterRequest, 'id'>): Promise<unknown> {
    const socket = this.#connect();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      socket.ref();
      writeJsonLine(socket, { ...request, id });
    });
  }

  #connect(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    readJsonLines(socket, (message) => this.#settle(socket, message));
    socket.on('error', (error) => this.#failAll(error));
    socket.on('close', () => this.#failAll(new Error('The fenced register connection closed.')));
    this.#socket = socket;
    return socket;
  }

  #settle(socket: Socket, message: unknown): void {
    const reply = message as { id?: number; result?: unknown; error?: string };
    const pending = reply.id === undefined ? undefined : this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id!);
    if (reply.error !== undefined) pending.reject(new Error(reply.error));
    else pending.resolve(reply.result);
    if (this.#pending.size === 0) socket.unref();
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
