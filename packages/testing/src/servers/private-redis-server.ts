import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { PrivateServer } from './private-server.js';
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
export class PrivateRedisServer extends PrivateServer {
  readonly #binary: string;

  private constructor(port: number, binary: string) {
    super(port, mkdtempSync(join(tmpdir(), 'dlock-redis-')), 5_000);
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
   * Start (again) on the same port; a running server is stopped first. No persistence: a restart
   * loses every key.
   *
   * @example
   * await server.kill();
   * await server.restart();
   */
  async restart(): Promise<void> {
    await this.process?.stop();
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
      this.dir,
    ]);
    this.process = child;
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
}
