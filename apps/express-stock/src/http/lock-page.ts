import { createLockDashboard } from '@dlock/express';
import type { Request, Router } from 'express';
import type { AppContext } from '../server/app-context.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * The sample's guard: only requests from this machine see the lock page. A real app passes its
 * admin check (session role, SSO group, an internal network) instead.
 */
function onlyFromThisMachine(request: Request): boolean {
  return LOOPBACK.has(request.socket.remoteAddress ?? '');
}

/**
 * `GET /locks`: the live page of the locks held in Redis (stock, order and race keys: spin and
 * pub/sub share them), with owners, lease countdowns and waiters. MySQL named locks (the schema
 * lock) cannot be listed by key; `dlock inspect schema:<prefix> --mysql <url>` shows one.
 *
 * @example
 * app.use('/locks', createLockPageRoutes(context));
 */
export function createLockPageRoutes(context: AppContext): Router {
  return createLockDashboard(context.lockManager, {
    guard: onlyFromThisMachine,
    backend: 'pubsub',
    title: 'express-stock: held locks',
  });
}
