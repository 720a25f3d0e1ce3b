import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { LockManager } from '@dlock/core';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { type AppConfig, loadAppConfig } from '../../src/config/app-config.js';
import { createLockBackends, routeByKeyNamespace } from '../../src/locking/lock-backends.js';
import { type AppContext, createAppContext } from '../../src/server/app-context.js';
import {
  connectAppDataSource,
  connectLockDataSource,
  connectRedis,
} from '../../src/server/store-connections.js';

/** A table prefix no other test file uses, e.g. `demo_t3fa9c1_`. */
export function uniqueTablePrefix(): string {
  return `demo_t${randomBytes(4).toString('hex')}_`;
}

/** The app's config for a test: its own tables, no simulated work unless asked. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    ...loadAppConfig({ ...process.env, PORT: '0' }),
    tablePrefix: uniqueTablePrefix(),
    stockWorkMs: 0,
    ...overrides,
  };
}

/** A connected app context on its own tables (created by `synchronize`). */
export async function createTestContext(overrides: Partial<AppConfig> = {}): Promise<AppContext> {
  return createAppContext(testConfig(overrides), pino({ level: 'silent' }));
}

/**
 * A pool of the test's own (like another server's, it sees only committed data). It creates no
 * tables: the app servers or contexts of the test do, with their migrations.
 */
export async function connectTestDataSource(config: AppConfig): Promise<DataSource> {
  return connectAppDataSource({ ...config, appPoolSize: 2 });
}

/** Drop the tables of `prefix`, the migrations record included (best effort; the prefix is unique to one test file). */
export async function dropTables(dataSource: DataSource, prefix: string): Promise<void> {
  await dataSource.query(
    `DROP TABLE IF EXISTS \`${prefix}order\`, \`${prefix}stock\`, \`${prefix}race_stock\`, \`${prefix}migrations\``,
  );
}

/**
 * A lock manager of "another server": its own Redis client, its own lock DataSource, its own
 * backends. It contends with the app's manager only through the stores.
 */
export async function createOtherServerManager(
  config: AppConfig,
): Promise<{ manager: LockManager; close(): Promise<void> }> {
  const redis = await connectRedis(config.redisUrl);
  const lockDataSource = await connectLockDataSource(config);
  const manager = new LockManager({
    backends: createLockBackends({ redis, lockDataSource }),
    route: routeByKeyNamespace,
  });
  return {
    manager,
    close: async () => {
      await manager.close();
      await lockDataSource.destroy();
      await redis.quit();
    },
  };
}
