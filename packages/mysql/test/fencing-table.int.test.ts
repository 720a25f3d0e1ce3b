import { setTimeout as sleep } from 'node:timers/promises';
import { backendRequest as request } from '@dlock/conformance';
import { LockBackendError } from '@dlock/core';
import type { DataSource, QueryRunner } from 'typeorm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MySqlNamedLockBackend, type MySqlNamedLockBackendOptions } from '../src/index.js';
import { dataSources, uniqueSuffix } from './support/mysql-test-support.js';

// The fencing table's CREATE TABLE runs once per backend, on a connection of its own, bounded by
// commandTimeoutMs: not on the first caller's lock session under that caller's deadline.
const suffix = uniqueSuffix();
const sources = dataSources();
const tables: string[] = [];
const open: MySqlNamedLockBackend[] = [];
let tableCount = 0;

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((backend) => backend.close()));
});
afterAll(async () => {
  const dataSource = await sources.open(2);
  for (const table of tables) await dataSource.query(`DROP TABLE IF EXISTS \`${table}\``);
  await sources.destroyAll();
});

interface Statement {
  readonly sql: string;
  readonly runner: QueryRunner;
}

/**
 * A DataSource whose every statement is logged with the connection (runner) it went to, and whose
 * CREATE TABLE statements first wait for `beforeCreate` (a slow or failing DDL, on demand).
 */
async function watchedDataSource(beforeCreate: (attempt: number) => Promise<void>) {
  const dataSource: DataSource = await sources.open(6);
  const statements: Statement[] = [];
  let creates = 0;
  const createQueryRunner = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = (mode) => {
    const runner = createQueryRunner(mode);
    const query = runner.query.bind(runner);
    runner.query = async (sql: string, parameters?: unknown[]) => {
      statements.push({ sql, runner });
      if (/^CREATE TABLE/.test(sql)) await beforeCreate(++creates);
      return query(sql, parameters);
    };
    return runner;
  };
  const creating = () => statements.filter((statement) => /^CREATE TABLE/.test(statement.sql));
  return { dataSource, statements, creating };
}

function fencedBackend(dataSource: DataSource, options: MySqlNamedLockBackendOptions = {}) {
  const fencingTable = `dlock_fencing_setup_${suffix}_${++tableCount}`;
  tables.push(fencingTable);
  const backend = new MySqlNamedLockBackend(dataSource, {
    keyPrefix: `setup-${suffix}:`,
    fencingTable,
    ...options,
  });
  open.push(backend);
  return backend;
}

describe('creating the fencing table', () => {
  it("a slow CREATE TABLE does not fail a first acquire with a tiny waitMs: it runs on its own connection, not under the caller's deadline", async () => {
    const watched = await watchedDataSource(() => sleep(600)); // far past waitMs + the 250 ms reply grace
    const backend = fencedBackend(watched.dataSource);
    const lock = await backend.acquire(request('tiny-wait', { waitMs: 5 }));
    expect(lock).not.toBeNull();
    expect(lock!.fencingToken).toEqual(expect.any(Number));
    const [create] = watched.creating();
    const getLock = watched.statements.find((statement) => statement.sql.includes('GET_LOCK'));
    expect(create).toBeDefined();
    expect(create!.runner).not.toBe(getLock!.runner);
    await lock!.release();
  });

  it('concurrent first callers share one CREATE TABLE', async () => {
    const watched = await watchedDataSource(() => sleep(200));
    const backend = fencedBackend(watched.dataSource);
    const locks = await Promise.all(
      ['a', 'b', 'c', 'd'].map((key) => backend.acquire(request(`concurrent-${key}`, { waitMs: 5 }))),
    );
    expect(locks.every((lock) => typeof lock?.fencingToken === 'number')).toBe(true);
    expect(watched.creating()).toHaveLength(1);
    await Promise.all(locks.map((lock) => lock!.release()));
    // Created once for the backend's lifetime: later acquisitions do not ask again.
    await (await backend.acquire(request('later')))!.release();
    expect(watched.creating()).toHaveLength(1);
  });

  it('a CREATE TABLE that outlasts commandTimeoutMs fails with a LockBackendError, and the next acquire creates the table', async () => {
    const watched = await watchedDataSource((attempt) => (attempt === 1 ? sleep(1_500) : Promise.resolve()));
    const backend = fencedBackend(watched.dataSource, { commandTimeoutMs: 500 });
    const startedAt = Date.now();
    const error = await backend.acquire(request('timed-out', { waitMs: 5_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as LockBackendError).isRetryable).toBe(true);
    expect((error as Error).message).toContain('commandTimeoutMs (500 ms)');
    expect(Date.now() - startedAt).toBeLessThan(1_400);
    const lock = await backend.acquire(request('timed-out'));
    expect(lock?.fencingToken).toEqual(expect.any(Number));
    expect(watched.creating()).toHaveLength(2);
    await lock!.release();
  });

  it('a CREATE TABLE the server refuses fails with a LockBackendError naming the fencing table, and is not remembered', async () => {
    const refusal = Object.assign(new Error("CREATE command denied to user 'app'"), {
      code: 'ER_TABLEACCESS_DENIED_ERROR',
      errno: 1142,
    });
    const watched = await watchedDataSource(async (attempt) => {
      if (attempt === 1) throw refusal;
    });
    const backend = fencedBackend(watched.dataSource);
    const error = await backend.acquire(request('refused')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as Error).message).toMatch(/creating the fencing table for lock "refused"/);
    expect((error as Error).cause).toBe(refusal);
    const lock = await backend.acquire(request('refused'));
    expect(lock?.fencingToken).toEqual(expect.any(Number));
    await lock!.release();
  });
});
