import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const TSX_LOADER = require.resolve('tsx');
const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

interface AppProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One app server running in its own OS process (like one instance behind a load balancer). */
export interface AppProcess {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly exited: Promise<AppProcessExit>;
  /** Everything the process printed so far (JSON log lines and stderr). */
  output(): string;
  /** Resolve once the output (from `fromOffset` on) contains a match of `pattern`. */
  waitForOutput(pattern: RegExp, options?: { fromOffset?: number; timeoutMs?: number }): Promise<void>;
  /** Send `signal` (default SIGTERM: graceful shutdown) and wait for the exit, SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<AppProcessExit>;
}

/**
 * Start `src/main.ts` in a child process on a free port (`PORT=0`) and wait for its "listening"
 * log line. Workspace packages load from TypeScript source, so no build is needed.
 *
 * @example
 * const server = await startAppProcess({ TABLE_PREFIX: 'demo_', LOG_LEVEL: 'info' });
 * await fetch(`${server.url}/healthz`);
 * await server.stop();
 */
export async function startAppProcess(
  env: Record<string, string>,
  startTimeoutMs = 30_000,
): Promise<AppProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@dlock/source', '--import', TSX_LOADER, MAIN],
    {
      cwd: APP_DIR,
      env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<AppProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app process ${child.pid} did not start within ${startTimeoutMs} ms:\n${output}`));
    }, startTimeoutMs);
    const onData = (chunk: string) => {
      output += chunk;
      const match = /"port":(\d+).*"msg":"listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`app process ${child.pid} exited with code ${code} before listening:\n${output}`));
    });
  });
  return {
    pid: child.pid ?? -1,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    output: () => output,
    waitForOutput: async (pattern, { fromOffset = 0, timeoutMs = 10_000 } = {}) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output.slice(fromOffset))) {
        if (Date.now() > deadline)
          throw new Error(
            `app process ${child.pid} printed no ${pattern} within ${timeoutMs} ms:\n${output}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async (signal = 'SIGTERM', timeoutMs = 20_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      const killTimer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.kill(signal);
      const result = await exited;
      clearTimeout(killTimer);
      return result;
    },
  };
}
