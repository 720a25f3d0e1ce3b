// The MySQL backend as the fault scenarios and their worker processes build it: its own small
// DataSource, fencing tokens from a table every fault-kit run shares (keys never collide).
import { setTimeout as sleep } from 'node:timers/promises';
import type { CreateFaultBackend } from '@dlock/conformance/fault';
import { LockBackendError } from '@dlock/core';
import type { DataSource } from 'typeorm';
import { createLockDataSource, MySqlNamedLockBackend } from '../../src/index.js';

/** How long the link may keep failing the DataSource's first connection before creation gives up. */
const CONNECT_WITHIN_MS = 20_000;

/**
 * `createLockDataSource` through a link that may be faulted already. Unlike ioredis, which connects
 * lazily and reconnects, TypeORM's `initialize()` talks to the server at once (a pool connection,
 * then `SELECT version()`), and rejects for good when the link resets or blackholes it meanwhile.
 * The chaos test starts injecting faults 200-700 ms after spawning its workers, and a worker takes
 * a few seconds to boot, so on a busy machine a reset regularly hit a worker's `initialize()`; the
 * rejection reached the worker's top-level await and killed the process (exit 1, the QueryFailedError
 * `read ECONNRESET` of `SELECT version()` on stderr). A service starting during a network fault
 * retries its start-up; so does this one.
 */
async function connectThroughFaults(url: string): Promise<DataSource> {
  const giveUpAt = Date.now() + CONNECT_WITHIN_MS;
  for (;;) {
    try {
      return await createLockDataSource({ url, poolSize: 6, connectTimeoutMs: 3_000 });
    } catch (error) {
      // Retryable means the link failed, not the server refusing (e.g. ER_ACCESS_DENIED_ERROR).
      const linkFailed = LockBackendError.isInstance(error) && error.isRetryable;
      if (!linkFailed || Date.now() >= giveUpAt) throw error;
      await sleep(100);
    }
  }
}

export const createFaultBackend: CreateFaultBackend = async (url, options) => {
  const dataSource = await connectThroughFaults(url);
  const backend = new MySqlNamedLockBackend(dataSource, {
    keyPrefix: options.keyPrefix,
    fencingTable: 'dlock_fault_kit_fencing',
    waitSliceMs: 500,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
  });
  let closed: Promise<void> | undefined;
  return {
    backend,
    close: () => {
      closed ??= (async () => {
        await backend.close();
        await dataSource.destroy().catch(() => undefined);
      })();
      return closed;
    },
  };
};
