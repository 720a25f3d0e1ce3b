import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ParentMessage, WorkerMessage } from './contention-protocol.js';

const require = createRequire(import.meta.url);
const TSX_LOADER = require.resolve('tsx');
const WORKER_SCRIPT = fileURLToPath(new URL('./contention-worker.ts', import.meta.url));

/** A worker process the parent talks to over Node's IPC channel. */
export interface PooledWorker {
  readonly pid: number;
  send(message: ParentMessage): void;
  /** The next message from the worker, or a rejection if it exits or does not answer in time. */
  next(timeoutMs: number): Promise<WorkerMessage>;
}

/**
 * Long-lived worker processes, started once and reused by every round: starting a TypeScript
 * process takes about a second on this machine, far longer than a quick round.
 *
 * Workers run the BUILT workspace packages (`dist`, what users run; `pnpm bench` builds them first
 * through turbo's `^build`), with tsx only for the bench's own files. Running the packages from
 * source through tsx measured its `keepNames` helpers too: about twice the heap per lock and more
 * per-call time than the published code has.
 *
 * @example
 * const pool = await WorkerPool.start(4);
 * try { ... } finally { await pool.stop(); }
 */
export class WorkerPool {
  readonly workers: readonly PooledWorker[];
  readonly #children: readonly ChildProcess[];

  private constructor(children: ChildProcess[]) {
    this.#children = children;
    this.workers = children.map(pooled);
  }

  static start(size: number): WorkerPool {
    const children = Array.from({ length: size }, () =>
      fork(WORKER_SCRIPT, [], {
        execArgv: ['--import', TSX_LOADER],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const stopOnExit = () => {
      for (const child of children) child.kill('SIGKILL');
    };
    process.once('exit', stopOnExit);
    return new WorkerPool(children);
  }

  /** Ask each worker to exit; kill the ones that do not within 5 s. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        if (child.connected) child.send({ type: 'exit' } satisfies ParentMessage);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function pooled(child: ChildProcess): PooledWorker {
  const inbox: WorkerMessage[] = [];
  let waiting: { resolve: (message: WorkerMessage) => void; reject: (error: Error) => void } | undefined;
  let exitReason: string | undefined;
  child.on('message', (message: WorkerMessage) => {
    if (waiting) {
      const { resolve } = waiting;
      waiting = undefined;
      resolve(message);
    } else inbox.push(message);
  });
  child.on('exit', (code, signal) => {
    exitReason = `worker ${child.pid} exited (code ${code}, signal ${signal})`;
    waiting?.reject(new Error(exitReason));
    waiting = undefined;
  });
  return {
    pid: child.pid ?? -1,
    send: (message) => {
      child.send(message);
    },
    next: (timeoutMs) => {
      const queued = inbox.shift();
      if (queued) return Promise.resolve(queued);
      if (exitReason) return Promise.reject(new Error(exitReason));
      return new Promise<WorkerMessage>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          reject(new Error(`worker ${child.pid} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting = {
          resolve: (message) => {
            clearTimeout(timer);
            resolve(message);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
      });
    },
  };
}
