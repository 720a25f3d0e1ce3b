import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);
const TSX_LOADER = require.resolve('tsx');

export interface WorkerResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnWorkerOptions {
  /** Absolute path of a TypeScript worker script. */
  readonly script: string;
  readonly env?: Record<string, string>;
  /** Kill the worker (SIGKILL) if it runs longer; default 120 s. */
  readonly timeoutMs?: number;
}

/** A running worker: a separate Node.js OS process executing TypeScript through tsx. */
export interface RunningWorker {
  readonly pid: number;
  /** Resolves with the first stdout line that contains `marker`. */
  waitForLine(marker: string, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<WorkerResult>;
  kill(signal?: NodeJS.Signals): void;
}

/** Start one worker process that resolves workspace packages from source (`@dlock/source`). */
export function startWorker(options: SpawnWorkerOptions): RunningWorker {
  const child = spawn(
    process.execPath,
    ['--conditions=@dlock/source', '--import', TSX_LOADER, options.script],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  const lineWaiters: { marker: string; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of [...lineWaiters]) {
      const line = stdout.split('\n').find((candidate) => candidate.includes(waiter.marker));
      if (line !== undefined) {
        lineWaiters.splice(lineWaiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const killTimer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const exited = new Promise<WorkerResult>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(killTimer);
      // Let the pipes drain before reporting.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  return {
    pid: child.pid ?? -1,
    exited,
    kill: (signal = 'SIGKILL') => child.kill(signal),
    waitForLine: (marker, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const existing = stdout.split('\n').find((line) => line.includes(marker));
        if (existing !== undefined) return resolve(existing);
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `worker ${child.pid} printed no "${marker}" within ${timeoutMs} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`,
              ),
            ),
          timeoutMs,
        );
        lineWaiters.push({
          marker,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(
            new Error(
              `worker ${child.pid} exited before printing "${marker}".\nstdout:\n${stdout}\nstderr:\n${stderr}`,
            ),
          );
        });
      }),
  };
}

/** Run `count` workers of one script to completion, each with `WORKER_INDEX` set. */
export async function runWorkers(count: number, options: SpawnWorkerOptions): Promise<WorkerResult[]> {
  const workers = Array.from({ length: count }, (_, index) =>
    startWorker({ ...options, env: { ...options.env, WORKER_INDEX: String(index) } }),
  );
  return Promise.all(workers.map((worker) => worker.exited));
}

/**
 * A deliberately non-atomic counter in a file: read, yield, write. Without mutual exclusion across
 * processes, concurrent increments overwrite each other and the final count comes up short.
 */
export async function incrementFileCounter(path: string, yieldMs = 1): Promise<void> {
  const current = Number(await readFile(path, 'utf8'));
  await sleep(yieldMs);
  await writeFile(path, String(current + 1));
}

export async function readFileCounter(path: string): Promise<number> {
  return Number(await readFile(path, 'utf8'));
}
