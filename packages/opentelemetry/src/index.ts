export type { LockInstrumentation, LockInstrumentationOptions } from './instrument-lock-manager.js';
export { INSTRUMENTATION_SCOPE, instrumentLockManager } from './instrument-lock-manager.js';
export type { KeyAttributeOption } from './key-attribute.js';
export type { AcquireOutcome, HoldEnd } from './telemetry-names.js';
export { DLOCK_ATTRIBUTES, DLOCK_METRICS } from './telemetry-names.js';
