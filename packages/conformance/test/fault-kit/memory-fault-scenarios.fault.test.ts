import { runFaultScenarios } from '../../src/fault/index.js';

// The memory backend lives in one process: only the scenarios without a network run.
runFaultScenarios({
  name: 'memory',
  backendModule: new URL('./memory-fault-backend.ts', import.meta.url),
  commandTimeoutMs: 0,
});
