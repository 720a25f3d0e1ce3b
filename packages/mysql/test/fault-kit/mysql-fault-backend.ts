// The MySQL backend as the fault scenarios and their worker processes build it: its own small
// DataSource, fencing tokens from a table every fault-kit run shares (keys never collide).
import type { CreateFaultBackend } from '@dlock/conformance/fault';
import { createLockDataSource, MySqlNamedLockBackend } from '../../src/index.js';

export const createFaultBackend: CreateFaultBackend = async (url, options) => {
  const dataSource = await createLockDataSource({ url, poolSize: 6, connectTimeoutMs: 3_000 });
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
