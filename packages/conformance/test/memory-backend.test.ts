import { MemoryLockBackend, MemoryLockStore } from '@dlock/core';
import { runLockBackendConformance } from '../src/index.js';

const store = new MemoryLockStore();
runLockBackendConformance({ name: 'memory', createBackend: () => new MemoryLockBackend({ store }) });
