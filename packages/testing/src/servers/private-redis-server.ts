import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { ServerProcess } from './server-process.js';

/**
 * @example
 * const server = await PrivateRedisServer.start({ binary: '/opt/redis/bin/redis-server' });
 */
export interface PrivateRedisServerOptions {
  /** The `redis-server` executable. Default `"redis-server"` from `PATH`. */
  readonly binary?: string;
}

/**
 * A throwaway redis-server on a free loopback port, without persistence, for tests that pause,
 * kill or restart Redis or count its commands. Never touches the shared server; every signal
 * goes to its own PID, and it is SIGKILLed if the test process exits without `stop()`.
 *
 * @example
 * const server = await PrivateRedisServer.start();
 * const client = new Redis(server.url);
 * server.pause(); // SIGSTOP: connections stay open, nothing answers
 * server.resume();
 * await server.stop();
 */
export class PrivateRedisServer {
  readonly port: number;
  readonly #binary: string;
  readonly #dir = mkdtempSync(join(tmpdir(), 'dlock-redis-'));
  #process: ServerProcess | undefined;

  private constructor(port: number, binary: string) {
    this.port = port;
    this.#binary = binary;
  }

  /**
   * Start a server on a free port and wait until it answers PING.
   *
   * @example
   * const server = await PrivateRedisServer.start();
   */
  static async start(options: PrivateRedisServerOptions = {}): Promise<PrivateRedisServer> {
    const server = new PrivateRedisServer(await freePort(), options.binary ?? 'redis-server');
    try {
      await server.restart();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /**
   * `redis://127.0.0.1:<port>`.
   *
   * @example
   * new Redis(server.url);
   */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * The server's PID, while it runs.
   *
   * @example
   * console.log(`private redis-server pid ${server.pid}`);
   */
  get pid(): number | undefined {
    return this.#process?.running ? this.#process.child.pid : undefined;
  }

  /**
   * Start (again) on the same port; a running server is stopped first. No persistence: a restart
   * loses every key.
   *
   * @example
   * await server.kill();
   * await server.restart();
   */
  async restart(): Promise<void> {
    await this.#process?.stop();
    const child = ServerProcess.spawn(this.#binary, [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--dir',
      this.#dir,
    ]);
    this.#process = child;
    const probe = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    probe.on('error', () => {});
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        if (!child.running)
          throw new Error(`redis-server on port ${this.port} exited at start: ${child.output}`);
        try {
          if (probe.status !== 'ready') await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          await sleep(50);
        }
      }
      throw new Error(`redis-server on port ${this.port} did not answer PING: ${child.output}`);
    } finally {
      probe.disconnect();
    }
  }

  /**
   * Freeze the server (SIGSTOP, returning once it has stopped): its connections stay open but
   * nothing is answered, like a long GC pause or a stalled VM. Undo with {@link resume}.
   *
   * @example
   * server.pause();
   * await sleep(leaseMs * 2);
   * server.resume();
   */
  pause(): void {
    this.#process?.freeze();
  }

  /**
   * Continue a paused server (SIGCONT).
   *
   * @example
   * server.resume();
   */
  resume(): void {
    this.#process?.thaw();
  }

  /**
   * SIGKILL the server (by PID) and wait for it to exit: a crash, every key lost.
   *
   * @example
   * await server.kill();
   */
  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  /**
   * Stop the server (SIGTERM, then SIGKILL if it lingers) and delete its directory.
   *
   * @example
   * afterAll(() => server.stop());
   */
  async stop(): Promise<void> {
    await this.#process?.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
