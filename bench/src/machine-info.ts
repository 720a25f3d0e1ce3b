import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import type { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';

/** The machine a run was measured on, printed with the results. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly redis: string;
  readonly mysql: string;
  readonly loadAverage: string;
  readonly date: string;
}

/**
 * Describe this machine and the store versions.
 *
 * @example
 * const machine = await describeMachine(statsRedis, mysqlUrl);
 */
export async function describeMachine(redis: Redis, mysqlUrl: string): Promise<MachineInfo> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
  const serverInfo = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(serverInfo)?.[1] ?? 'unknown';
  return {
    cpus: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    node: process.version,
    redis: `Redis ${redisVersion} (private redis-server started by the bench, no persistence)`,
    mysql: await mysqlVersion(mysqlUrl),
    loadAverage: loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

async function mysqlVersion(url: string): Promise<string> {
  try {
    const connection = await createConnection(url);
    try {
      const [rows] = await connection.query('SELECT VERSION() AS version');
      const version = (rows as { version: string }[])[0]?.version ?? 'unknown';
      return `${version.includes('MariaDB') ? 'MariaDB' : 'MySQL'} ${version} (shared server at MYSQL_URL)`;
    } finally {
      await connection.end();
    }
  } catch (error) {
    return `unreachable (${error instanceof Error ? error.message : String(error)})`;
  }
}
