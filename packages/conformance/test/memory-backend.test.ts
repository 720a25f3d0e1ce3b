import { runLockBackendConformance } from '../src/index.js';
import { MemoryLockBackend, MemoryLockStore } from '@dlock/core';

const store = new MemoryLockStore();
runLockBackendConformance({ name: 'memory', createBackend: () => new MemoryLockBackend({ store }) });
