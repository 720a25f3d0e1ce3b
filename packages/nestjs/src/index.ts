export { DlockModule } from './dlock-module.js';
export type {
  DlockManagerOptions,
  DlockModuleAsyncOptions,
  DlockModuleBehaviorOptions,
  DlockModuleOptions,
} from './dlock-module-options.js';
export { InjectLockManager } from './inject-lock-manager.js';
export type { LockErrorResponseBody } from './lock-error-filter.js';
export { LockErrorFilter } from './lock-error-filter.js';
