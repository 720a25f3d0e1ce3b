import { rmSync } from 'node:fs';
import type { ServerProcess } from './server-process.js';

/**
 * What the private servers share: one child process on a free loopback port with a directory of
 * its own, signalled by its PID only, so a test can freeze, crash or stop it without ever touching
 * the machine's shared server.
 */
export abstract class PrivateServer {
  readonly port: number;
  /** The server's own directory (data, socket, pid file), deleted by {@link stop}. */
  protected readonly dir: string;
  /** The running child, replaced by each `restart()`. */
  protected process: ServerProcess | undefined;
  readonly #stopGraceMs: number;

  protected constructor(port: number, dir: string, stopGraceMs: number) {
    this.port = port;
    this.dir = dir;
    this.#stopGraceMs = stopGraceMs;
  }

  /**
   * The server's PID, while it runs.
   *
   * @example
   * console.log(`private server pid ${server.pid}`);
   */
  get pid(): number | undefined {
    return this.process?.running ? this.process.child.pid : undefined;
  }

  /**
   * Freeze the server (SIGSTOP, returning once every thread has stopped): its connections stay
   * open but nothing is answered, like a long GC pause or a stalled VM. Undo with {@link resume}.
   *
   * @example
   * server.pause();
   * await sleep(leaseMs * 2);
   * server.resume();
   */
  pause(): void {
    this.process?.freeze();
  }

  /**
   * Continue a paused server (SIGCONT).
   *
   * @example
   * server.resume();
   */
  resume(): void {
    this.process?.thaw();
  }

  /**
   * SIGKILL the server (by PID) and wait for it to exit: a crash.
   *
   * @example
   * await server.kill();
   */
  async kill(): Promise<void> {
    await this.process?.kill();
  }

  /**
   * Shut the server down (SIGTERM, then SIGKILL if it lingers) and delete its directory.
   *
   * @example
   * afterAll(() => server.stop());
   */
  async stop(): Promise<void> {
    await this.process?.stop(this.#stopGraceMs);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
