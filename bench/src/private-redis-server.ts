import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** A `redis-server` the bench started for itself, so `INFO commandstats` sees only bench traffic. */
export interface PrivateRedisServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Stop this server (by its PID) and wait for it to exit. */
  stop(): Promise<void>;
}

/**
 * Start a throwaway `redis-server` on a free loopback port, without persistence.
 * The shared server at `REDIS_URL` is never used for lock traffic: other sessions' tests would
 * pollute its command counts.
 *
 * @example
 * const server = await startPrivateRedisServer();
 * try { ... new Redis(server.url) ... } finally { await server.stop(); }
 */
export async function startPrivateRedisServer(binary = 'redis-server'): Promise<PrivateRedisServer> {
  const port = await freeLoopbackPort();
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const spawnFailed = once(child, 'error').then(([error]) => {
    throw new Error(`could not start ${binary}: ${String(error)}`);
  });
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([waitUntilAnswers(url, child, () => stderr), spawnFailed]);
  return {
    url,
    port,
    pid: child.pid ?? -1,
    stop: async () => {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

async function waitUntilAnswers(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start: ${stderr()}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server did not answer at ${url}: ${stderr()}`);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
