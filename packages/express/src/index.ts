export type { LockDashboardGuard, LockDashboardOptions } from './lock-dashboard.js';
export { createLockDashboard } from './lock-dashboard.js';
export type { LockSnapshot, LockSnapshotEntry, LockSnapshotSource } from './lock-snapshot.js';
export { readLockSnapshot } from './lock-snapshot.js';
