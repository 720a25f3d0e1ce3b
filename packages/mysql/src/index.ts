export type { LockDataSourceOptions } from './lock-data-source.js';
export { createLockDataSource } from './lock-data-source.js';
export type { MySqlNamedLockBackendOptions } from './mysql-lock-options.js';
export { DEFAULT_KEY_PREFIX } from './mysql-lock-options.js';
export { MySqlNamedLockBackend } from './mysql-named-lock-backend.js';
