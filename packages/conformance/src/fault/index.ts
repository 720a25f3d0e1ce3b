export type { CreateFaultBackend, FaultBackendHandle, FaultBackendOptions } from './fault-backend.js';
export { loadFaultBackend } from './fault-backend.js';
export type { FaultScenarioId, FaultScenarioOptions, FaultStore } from './fault-scenarios.js';
export { runFaultScenarios } from './fault-scenarios.js';
export { FaultTimings, timed } from './fault-timings.js';
