export type { BackendFaults, BackendOperation, CallFailure, SwallowedWakeups } from './backend-faults.js';
export { FaultyBackend, faultyBackend } from './faulty-backend.js';
export type { FaultyLinkOptions } from './faulty-link.js';
export { FaultyLink } from './faulty-link.js';
export type {
  FencedRegisterOptions,
  FencedWrite,
  FencedWriteResult,
  FencedWriter,
} from './fenced-register.js';
export { FencedRegister } from './fenced-register.js';
export { FencedRegisterClient } from './fenced-register-client.js';
export type { FencedRegisterRequest } from './fenced-register-server.js';
export { FencedRegisterServer } from './fenced-register-server.js';
export type { HistoryCheckOptions, HistoryViolation, HistoryViolationKind } from './history-check.js';
export { checkHistory } from './history-check.js';
export type { HistoryAttempt } from './history-recorder.js';
export { HistoryRecorder, readHistory } from './history-recorder.js';
export type { LinkDirection, LinkDropOptions, LinkLatency } from './link-faults.js';
export type { HistoryOutcome, LockHistoryRecord } from './lock-history.js';
export { LOCK_ERROR_CODES, outcomeOf } from './lock-history.js';
