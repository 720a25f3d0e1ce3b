import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { PrivateServer } from './private-server.js';
import { ServerProcess } from './server-process.js';

const run = promisify(execFile);

/**
 * @example
 * const database = await PrivateMariaDb.start({ mariadbd: '/usr/local/bin/mariadbd' });
 */
export interface PrivateMariaDbOptions {
  /** The server executable. Default `/usr/sbin/mariadbd`. */
  readonly mariadbd?: string;
  /** The data directory initializer. Default `/usr/bin/mariadb-install-db`. */
  readonly installDb?: string;
  /** How long `start()`/`restart()` wait for the server to greet a client. Default 60 s. */
  readonly startTimeoutMs?: number;
}

// Small InnoDB files: a throwaway server needs neither a 128 MB pool nor a 96 MB redo log.
const SMALL_INNODB = ['--innodb-buffer-pool-size=16M', '--innodb-log-file-size=16M'];

/**
 * A throwaway MariaDB server on a free 127.0.0.1 port with its own data directory (made by
 * `mariadb-install-db`), user `root` without a password and an empty database `test`. For tests
 * that kill, pause or restart MySQL; the shared server is never touched. Every signal goes to its
 * own PID, and it is SIGKILLed if the test process exits without `stop()`.
 *
 * @example
 * const database = await PrivateMariaDb.start();
 * const connection = await mysql.createConnection(database.url);
 * database.pause(); // SIGSTOP: queries hang, sockets stay open
 * database.resume();
 * await database.stop();
 */
export class PrivateMariaDb extends PrivateServer {
  readonly #options: PrivateMariaDbOptions;

  private constructor(port: number, dir: string, options: PrivateMariaDbOptions) {
    super(port, dir, 15_000);
    this.#options = options;
  }

  /**
   * Create a data directory, start the server and wait until it accepts connections (a few seconds).
   *
   * @example
   * const database = await PrivateMariaDb.start();
   */
  static async start(options: PrivateMariaDbOptions = {}): Promise<PrivateMariaDb> {
    const dir = mkdtempSync(join(tmpdir(), 'dlock-mariadb-'));
    const database = new PrivateMariaDb(await freePort(), dir, options);
    try {
      await run(
        options.installDb ?? '/usr/bin/mariadb-install-db',
        [
          '--no-defaults',
          '--auth-root-authentication-method=normal',
          `--datadir=${join(dir, 'data')}`,
          '--user=root',
          '--skip-test-db',
          ...SMALL_INNODB,
        ],
        { timeout: 120_000 },
      );
      // Runs at every start, before the server listens: `test` exists once the port answers.
      writeFileSync(join(dir, 'init.sql'), 'CREATE DATABASE IF NOT EXISTS test;\n');
      await database.restart();
    } catch (error) {
      await database.stop();
      throw error;
    }
    return database;
  }

  /**
   * `mysql://root@127.0.0.1:<port>/test`.
   *
   * @example
   * new DataSource({ type: 'mysql', url: database.url });
   */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/test`;
  }

  /**
   * Start (again) on the same port and data directory; a running server is shut down first. Data
   * survives, named locks and connections do not.
   *
   * @example
   * await database.kill(); // crash
   * await database.restart(); // InnoDB recovers
   */
  async restart(): Promise<void> {
    await this.process?.stop(15_000);
    const child = ServerProcess.spawn(this.#options.mariadbd ?? '/usr/sbin/mariadbd', [
      '--no-defaults',
      `--datadir=${join(this.dir, 'data')}`,
      '--user=root',
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(this.dir, 'mariadbd.sock')}`,
      `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
      '--skip-name-resolve',
      `--init-file=${join(this.dir, 'init.sql')}`,
      ...SMALL_INNODB,
    ]);
    this.process = child;
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (!child.running) throw new Error(`mariadbd on port ${this.port} exited at start: ${child.output}`);
      if (await greets(this.port)) return;
      await sleep(100);
    }
    await child.kill();
    throw new Error(`mariadbd on port ${this.port} did not accept connections: ${child.output}`);
  }
}

/** True once the server on `port` sends a MySQL handshake (protocol version 10) to a new connection. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (greeted: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(greeted);
    };
    const timer = setTimeout(() => finish(false), 1_000);
    socket.once('data', (packet: Buffer) => finish(packet.length > 4 && packet[4] === 10));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}
