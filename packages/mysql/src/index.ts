export type { LockDataSourceOptions } from './lock-data-source.js';
export { createLockDataSource } from './lock-data-source.js';
export {
  ER_USER_LOCK_DEADLOCK,
  ER_USER_LOCK_WRONG_NAME,
  toMySqlBackendError,
} from './mysql-backend-error.js';
export { MYSQL_LOCK_NAME_MAX_LENGTH, toMySqlLockName } from './mysql-lock-name.js';
export type { MySqlNamedLockBackendOptions } from './mysql-lock-options.js';
export { DEFAULT_KEY_PREFIX } from './mysql-lock-options.js';
export { MySqlNamedLockBackend } from './mysql-named-lock-backend.js';
