import { runLockBackendConformance } from '@dlock/conformance';
import { MemoryLockBackend, MemoryLockStore } from '../src/index.js';

const store = new MemoryLockStore();
runLockBackendConformance({ name: 'memory', createBackend: () => new MemoryLockBackend({ store }) });
