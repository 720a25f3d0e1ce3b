import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { currentLock, DistributedLock, LockManager } from '@dlock/core';
import { createLockDataSource, MySqlNamedLockBackend } from '@dlock/mysql';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { DlockModule } from '../src/index.js';
import { createGate } from './support/redis-backends.js';

const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

@Injectable()
class NightlyExport {
  runs = 0;
  during: (() => Promise<void>) | undefined;

  @DistributedLock({ key: 'job:export', onLocked: 'skip', leaseMs: 30_000 })
  async run(): Promise<string | undefined> {
    this.runs += 1;
    await this.during?.();
    return currentLock('job:export')?.backend;
  }
}

describe('DlockModule with the MySQL named-lock backend', () => {
  it('forRootAsync builds a MySQL-backed manager; skip works across sessions; close frees the lock and the pool', async () => {
    const keyPrefix = `test:nest-mysql:${randomUUID().slice(0, 8)}:`;
    let appDataSource: DataSource | undefined;
    const app = await Test.createTestingModule({
      imports: [
        DlockModule.forRootAsync({
          useFactory: async () => {
            const dataSource = await createLockDataSource({ url: MYSQL_URL, poolSize: 4 });
            appDataSource = dataSource;
            return {
              backends: { mysql: new MySqlNamedLockBackend(dataSource) },
              keyPrefix,
              afterClose: () => dataSource.destroy(),
            };
          },
        }),
      ],
      providers: [NightlyExport],
    }).compile();
    await app.init();
    let appClosed = false;

    // Another replica: its own pool, so its GET_LOCK runs in other MySQL sessions.
    const otherDataSource = await createLockDataSource({ url: MYSQL_URL, poolSize: 2 });
    const otherReplica = new LockManager({
      backends: { mysql: new MySqlNamedLockBackend(otherDataSource) },
      keyPrefix,
    });
    try {
      const job = app.get(NightlyExport);
      await expect(job.run()).resolves.toBe('mysql');

      const inside = createGate();
      const leave = createGate();
      const holding = otherReplica.withLock('job:export', {}, async () => {
        inside.open();
        await leave.opened;
      });
      await inside.opened;
      await expect(job.run()).resolves.toBeUndefined();
      expect(job.runs).toBe(1);
      leave.open();
      await holding;

      const entered = createGate();
      job.during = async () => {
        entered.open();
        await new Promise((resolve) => currentLock('job:export')?.signal.addEventListener('abort', resolve));
      };
      const running = job.run().catch((error: Error) => error.name);
      await entered.opened;
      await expect(otherReplica.tryWithLock('job:export', {}, async () => 1)).resolves.toMatchObject({
        acquired: false,
      });

      await app.close();
      appClosed = true;
      expect(await running).toBe('LockLostError');
      await expect(otherReplica.tryWithLock('job:export', {}, async () => 'ran')).resolves.toEqual({
        acquired: true,
        value: 'ran',
      });
      expect(appDataSource?.isInitialized).toBe(false);
    } finally {
      if (!appClosed) await app.close();
      await otherReplica.close();
      await otherDataSource.destroy();
    }
  });
});
