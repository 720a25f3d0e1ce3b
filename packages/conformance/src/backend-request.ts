import { randomUUID } from 'node:crypto';
import type { BackendAcquireRequest } from '@dlock/core';

/**
 * A `BackendAcquireRequest` for calling a backend directly in tests: a fresh owner token, a 30 s
 * lease, one attempt, a signal nobody aborts; `overrides` change any of them.
 *
 * @example
 * const lock = await backend.acquire(backendRequest('stock:1', { waitMs: 5_000 }));
 */
export function backendRequest(
  key: string,
  overrides: Partial<BackendAcquireRequest> = {},
): BackendAcquireRequest {
  return {
    key,
    token: randomUUID(),
    leaseMs: 30_000,
    waitMs: 0,
    signal: new AbortController().signal,
    ...overrides,
  };
}
