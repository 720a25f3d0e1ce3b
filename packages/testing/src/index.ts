export type { BackendFaults, BackendOperation, CallFailure, SwallowedWakeups } from './backend-faults.js';
export { FaultyBackend, faultyBackend } from './faulty-backend.js';
export type { FaultyLinkOptions } from './faulty-link.js';
export { FaultyLink } from './faulty-link.js';
export type { LinkDirection, LinkDropOptions, LinkLatency } from './link-faults.js';
