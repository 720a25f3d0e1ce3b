export type { AbortLink } from './abort-link.js';
export {
  AbortLinks,
  abortableDelay,
  createClosingController,
  linkAbortSignals,
  onAbort,
} from './abort-link.js';
export { getDefaultLockManager, setDefaultLockManager } from './default-manager.js';
export { DistributedLock, DistributedSemaphore, getDistributedLockMetadata } from './distributed-lock.js';
export type {
  DistributedLockDecorator,
  DistributedLockMetadata,
  DistributedLockOptions,
  DistributedSemaphoreOptions,
  LockKey,
  LockKeyFunction,
  LockKeyFunctionOne,
  OnLocked,
} from './distributed-lock-options.js';
export type { DurationRule } from './duration.js';
export { assertDuration, MAX_DURATION_MS } from './duration.js';
export type { LockBackendErrorOptions, LockErrorCode, LockErrorOptions } from './errors.js';
export {
  InvalidLockKeyError,
  InvalidLockOptionsError,
  LockAbortedError,
  LockBackendError,
  LockCapacityError,
  LockError,
  LockLostError,
  LockNotAcquiredError,
  LockTimeoutError,
} from './errors.js';
export type { KeyTemplate } from './key-template.js';
export { MAX_KEY_LENGTH, parseKeyTemplate } from './key-template.js';
export type {
  BackendAcquireRequest,
  BackendLock,
  BackendSharedAcquireRequest,
  LockBackend,
  SharedLockKind,
  SharedLockType,
} from './lock-backend.js';
export type { LockInfo } from './lock-context.js';
export { currentLock } from './lock-context.js';
export type { LockErrorHttpResponse } from './lock-error-http.js';
export { lockErrorHttpResponse } from './lock-error-http.js';
export type {
  LockAcquiredEvent,
  LockAcquiringEvent,
  LockCallEvent,
  LockContendedEvent,
  LockFailedEvent,
  LockLagEvent,
  LockLostEvent,
  LockManagerEvents,
  LockReleasedEvent,
  LockRenewalFailedEvent,
  LockRenewedEvent,
  LockSkippedEvent,
  LockTimeoutEvent,
} from './lock-events.js';
export type { LockHandle, LockView } from './lock-handle.js';
export type {
  BackendForceReleaseResult,
  BackendListRequest,
  BackendLockState,
  ForceReleaseOptions,
  ForceReleaseResult,
  InspectOptions,
  ListLocksOptions,
  LockInspection,
  LockInspectionCapability,
  LockOwner,
  LockOwnerRecord,
  LockOwnerSession,
} from './lock-inspection.js';
export { defaultAppName, LockInspectionUnsupportedError, processLockOwner } from './lock-inspection.js';
export { LockManager } from './lock-manager.js';
export type { LockManagerOptions } from './lock-manager-options.js';
export type {
  AcquireOptions,
  AcquireSemaphoreOptions,
  CallLockOptions,
  CallOptionsBase,
  CallSemaphoreOptions,
  DefaultBackendName,
  LockBackendNames,
  LockDefaults,
  LockMode,
  LockModeOption,
  LockOptions,
  RetryOption,
  SemaphoreLimit,
} from './lock-options.js';
export { DEFAULT_LEASE_MS, DEFAULT_WAIT_MS } from './lock-options.js';
export type { LockRoute, LockRouteRequest } from './lock-route.js';
export { recommendedRoute } from './lock-route.js';
export type { LockScope, TryLockResult } from './lock-scope-runner.js';
export type { MemoryLockBackendOptions } from './memory-lock-backend.js';
export { MemoryLockBackend } from './memory-lock-backend.js';
export { MemoryLockStore } from './memory-lock-store.js';
export {
  LockKindUnsupportedError,
  LockUpgradeError,
  SemaphorePermitsMismatchError,
} from './shared-lock-errors.js';
export type { WaitOrAbortOptions } from './wait-or-abort.js';
export { SharedDeadlines, waitOrAbort } from './wait-or-abort.js';
export { Wakeup } from './wakeup.js';
