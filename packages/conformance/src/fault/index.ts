export type { CreateFaultBackend, FaultBackendHandle, FaultBackendOptions } from './fault-backend.js';
export { loadFaultBackend } from './fault-backend.js';
export type { FaultScenarioId, FaultScenarioOptions } from './fault-fixture.js';
export { runFaultScenarios } from './fault-scenarios.js';
export { FaultTimings, timed } from './fault-timings.js';
