import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const TSX = require.resolve('tsx');
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** `node --import tsx <script> ...args` in this package, with workspace packages from source. */
function spawnTs(script: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--conditions=@dlock/source', '--import', TSX, script, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, FORCE_COLOR: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** What one `dlock` run printed and how it ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the `dlock` bin (src/cli.ts) as a subprocess; stdin is a pipe (not a TTY), closed at once. */
export async function runDlock(args: readonly string[]): Promise<CliRun> {
  const child = spawnTs('src/cli.ts', args);
  child.stdin?.end();
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

/** A process holding one lock (test/workers/hold-lock-worker.ts), and what it printed. */
export interface LockHolder {
  readonly pid: number;
  readonly fencingToken: number | undefined;
  /** Resolves once the holder printed that it lost its lock. */
  readonly lost: Promise<void>;
  stop(): Promise<void>;
}

/** Start a holder of `key` on `store` and wait until it holds the lock. */
export async function startHolder(
  store: 'redis' | 'mysql',
  url: string,
  key: string,
  label: string,
): Promise<LockHolder> {
  const child = spawnTs('test/workers/hold-lock-worker.ts', [store, url, key, label]);
  let output = '';
  let markLost!: () => void;
  const lost = new Promise<void>((resolve) => {
    markLost = resolve;
  });
  const held = new Promise<{ fencingToken?: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`holder did not take the lock within 30 s:\n${output}`)),
      30_000,
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      for (const line of output.split('\n')) {
        if (line.includes('"held"')) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { fencingToken?: number });
        }
        if (line.includes('"lost"')) markLost();
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}:\n${output}`)));
  });
  const { fencingToken } = await held;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    fencingToken,
    lost,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
