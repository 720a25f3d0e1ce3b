import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

const OUTPUT_LIMIT = 4_000;

/**
 * A server child process the test started, controlled only by its PID: never by name, so the
 * shared servers of the machine are never touched. Keeps the tail of its output for error
 * messages and SIGKILLs it if the test process exits without stopping it.
 *
 * @example
 * const server = ServerProcess.spawn('redis-server', ['--port', String(port)]);
 * await server.stop();
 */
export class ServerProcess {
  readonly child: ChildProcess;
  #output = '';
  readonly #killOnExit: () => void;

  private constructor(child: ChildProcess) {
    this.child = child;
    const keep = (chunk: string) => {
      this.#output = (this.#output + chunk).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    child.on('error', (error) => keep(`\n${String(error)}\n`));
    this.#killOnExit = () => {
      if (this.running) child.kill('SIGKILL');
    };
    process.once('exit', this.#killOnExit);
    child.once('exit', () => process.off('exit', this.#killOnExit));
  }

  /**
   * Start `command` with its output captured.
   *
   * @example
   * const server = ServerProcess.spawn('/usr/sbin/mariadbd', ['--no-defaults', ...]);
   */
  static spawn(command: string, args: readonly string[]): ServerProcess {
    return new ServerProcess(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /**
   * @example
   * if (!server.running) throw new Error(server.output);
   */
  get running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * The last few KB the process printed.
   *
   * @example
   * throw new Error(`did not start: ${server.output}`);
   */
  get output(): string {
    return this.#output;
  }

  /**
   * Send `signal` to the PID (if still running).
   *
   * @example
   * server.signal('SIGSTOP'); // freeze it, as a long GC pause or a stopped VM would
   */
  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.child.pid!, signal);
  }

  /**
   * SIGSTOP, then wait until the kernel reports every thread stopped. The signal alone is not
   * enough: a thread already running finishes what it was doing, and a multi-threaded server
   * (mariadbd) was seen answering a query sent right after `kill()` returned.
   *
   * @example
   * server.freeze(); // nothing sent from here on is answered
   */
  freeze(): void {
    if (!this.running) return;
    const pid = this.child.pid!;
    this.signal('SIGSTOP');
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    while (!everyThreadStopped(pid)) {
      if (Date.now() > deadline) throw new Error(`pid ${pid} did not stop within ${FREEZE_TIMEOUT_MS} ms`);
      Atomics.wait(FREEZE_POLL, 0, 0, 1);
    }
  }

  /**
   * SIGCONT: undo {@link freeze}.
   *
   * @example
   * server.thaw();
   */
  thaw(): void {
    this.signal('SIGCONT');
  }

  /**
   * SIGKILL and wait for the exit.
   *
   * @example
   * await server.kill();
   */
  async kill(): Promise<void> {
    if (!this.running) return;
    const exited = once(this.child, 'exit');
    this.signal('SIGKILL');
    await exited;
  }

  /**
   * SIGTERM (after SIGCONT, in case it is paused), then SIGKILL if it has not exited within `graceMs`.
   *
   * @example
   * await server.stop(10_000);
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    const exited = once(this.child, 'exit');
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const result = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') await this.kill();
  }
}

const FREEZE_TIMEOUT_MS = 5_000;
// Atomics.wait on a private buffer is a synchronous sleep: freeze() keeps a synchronous signature.
const FREEZE_POLL = new Int32Array(new SharedArrayBuffer(4));

/** True once every thread of `pid` is in state T (stopped); true as well where /proc is missing. */
function everyThreadStopped(pid: number): boolean {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  return threads.every((thread) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
    } catch {
      return true; // the thread exited
    }
  });
}
