import type { LockBackend } from '@dlock/core';

/** What a backend's fault-kit module gets to build one backend (one simulated server). */
export interface FaultBackendOptions {
  /** Prepended to every key by the backend, so parallel runs never share locks. */
  readonly keyPrefix: string;
  /** The backend's own `commandTimeoutMs`; the backend's default when omitted. */
  readonly commandTimeoutMs?: number;
  /**
   * Pub/sub only: where the subscriber connection goes (another `FaultyLink`), so a test can
   * drop or pause the handoff messages alone.
   */
  readonly subscriberUrl?: string;
}

/** A backend and what it opened (client, DataSource); `close()` ends both and is idempotent. */
export interface FaultBackendHandle {
  readonly backend: LockBackend;
  close(): Promise<void>;
}

/**
 * The one export a backend's fault-kit module (`test/fault-kit/*-fault-backend.ts`) provides. The
 * scenarios import that module in the test process and in every worker process they start, so
 * both sides build the backend the same way.
 *
 * @example
 * export const createFaultBackend: CreateFaultBackend = async (url, options) => {
 *   const redis = new Redis(url);
 *   const backend = new RedisSpinLockBackend(redis, options);
 *   return { backend, close: async () => { await backend.close(); redis.disconnect(); } };
 * };
 */
export type CreateFaultBackend = (url: string, options: FaultBackendOptions) => Promise<FaultBackendHandle>;

/**
 * Load `createFaultBackend` from a backend's fault-kit module (absolute path).
 *
 * @example
 * const create = await loadFaultBackend('/repo/packages/redis-spin/test/fault-kit/spin-fault-backend.ts');
 */
export async function loadFaultBackend(modulePath: string): Promise<CreateFaultBackend> {
  const loaded = (await import(modulePath)) as { createFaultBackend?: CreateFaultBackend };
  if (typeof loaded.createFaultBackend !== 'function') {
    throw new Error(`${modulePath} does not export createFaultBackend(url, options).`);
  }
  return loaded.createFaultBackend;
}
