// The in-memory backend for the fault scenarios: one store per process, as the backend is meant
// to be used; `memory://slow` adds 2 ms to every call, standing in for a slow link.
import { MemoryLockBackend, MemoryLockStore } from '@dlock/core';
import { faultyBackend } from '@dlock/testing';
import type { CreateFaultBackend } from '../../src/fault/index.js';

const store = new MemoryLockStore();

export const createFaultBackend: CreateFaultBackend = async (url) => {
  const memory = new MemoryLockBackend({ store });
  const backend =
    url === 'memory://slow'
      ? faultyBackend(memory, { delayMs: { acquire: 2, extend: 2, release: 2 } })
      : memory;
  return { backend, close: () => backend.close() };
};
