import { InvalidLockOptionsError, type LockManager } from '@dlock/core';
import { type Request, type RequestHandler, Router } from 'express';
import { renderLockPage } from './lock-dashboard-page.js';
import { LockFeed, readLockSnapshot } from './lock-snapshot.js';

/**
 * Decides who may see (and, with `allowRelease`, operate) the page: resolve `true` to let the
 * request in, `false` for 403. Runs for every request of the router: the page, its JSON and its
 * event stream.
 *
 * @example
 * const guard: LockDashboardGuard = (request) => request.get('x-admin-token') === process.env.ADMIN_TOKEN;
 */
export type LockDashboardGuard = (request: Request) => boolean | Promise<boolean>;

/** Options of {@link createLockDashboard}. */
export interface LockDashboardOptions<B extends string = string> {
  /**
   * Required: who may see the page. Lock keys and owners (host names, pids, method names) are
   * operational details; pass your admin check, or the literal `'allow-all'` for local
   * development only. Without it, `createLockDashboard` refuses to build the router.
   */
  readonly guard: LockDashboardGuard | 'allow-all';
  /** Show only keys starting with this (as your code writes keys). Default `""` (every key). */
  readonly prefix?: string | undefined;
  /** The backend to list (it must support `list`). Default: the manager's first that does. */
  readonly backend?: B | undefined;
  /** At most this many locks on the page. Default 200. */
  readonly limit?: number | undefined;
  /** How often the page is updated, in ms (one store read per period, shared by all viewers). Default 1000. */
  readonly refreshMs?: number | undefined;
  /** Page title. Default `"dlock: held locks"`. */
  readonly title?: string | undefined;
  /**
   * Show a "force release" button per lock and accept `POST release?key=` (an operator's
   * break-glass, see `manager.forceRelease`). Default `false`: the page is read-only.
   */
  readonly allowRelease?: boolean | undefined;
}

/**
 * An Express router serving a live page of the locks held in `manager`'s store: key, owner (app,
 * pid, host, method), how long held, a lease countdown, queued waiters and fencing token, updated
 * over server-sent events. Mount it under any path; every request passes `guard` first.
 *
 * Routes (relative to the mount path): `GET /` the page, `GET /locks.json` one snapshot,
 * `GET /events` the SSE stream, and with `allowRelease` `POST /release?key=<key>` (needs the
 * header `X-Dlock-Release: <key>`, which a cross-site form cannot send).
 *
 * @throws InvalidLockOptionsError without a guard, or with bad options.
 * @example
 * app.use('/admin/locks', createLockDashboard(manager, { guard: (request) => isAdmin(request), prefix: 'stock:' }));
 */
export function createLockDashboard<B extends string>(
  manager: LockManager<B>,
  options: LockDashboardOptions<NoInfer<B>>,
): Router {
  const guard = resolveGuard(options?.guard);
  const prefix = options.prefix ?? '';
  const limit = options.limit ?? 200;
  const refreshMs = options.refreshMs ?? 1_000;
  if (typeof prefix !== 'string')
    throw new InvalidLockOptionsError('createLockDashboard: prefix must be a string.');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InvalidLockOptionsError('createLockDashboard: limit must be an integer from 1 to 10000.');
  }
  if (!Number.isFinite(refreshMs) || refreshMs < 100) {
    throw new InvalidLockOptionsError('createLockDashboard: refreshMs must be at least 100 ms.');
  }
  if (options.backend !== undefined) manager.assertBackend(options.backend);
  const source = { manager: manager as LockManager<string>, prefix, limit, backend: options.backend };
  const feed = new LockFeed(source, refreshMs);
  const allowRelease = options.allowRelease === true;
  const title = options.title ?? 'dlock: held locks';

  const router = Router();
  router.use(guardMiddleware(guard));
  router.get('/', (request, response) => {
    response
      .type('html')
      .set('Cache-Control', 'no-store')
      .set(
        'Content-Security-Policy',
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      )
      .send(renderLockPage({ title, baseUrl: request.baseUrl, prefix, allowRelease, refreshMs }));
  });
  router.get('/locks.json', async (_request, response) => {
    response.set('Cache-Control', 'no-store').json(await readLockSnapshot(source));
  });
  router.get('/events', (request, response) => {
    response.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Proxies (nginx) must not buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    response.flushHeaders();
    response.write(`retry: ${Math.max(1_000, refreshMs)}\n\n`);
    const unsubscribe = feed.subscribe(response);
    request.on('close', unsubscribe);
  });
  if (allowRelease) {
    router.post('/release', async (request, response) => {
      const key = typeof request.query.key === 'string' ? request.query.key : undefined;
      if (!key || request.get('x-dlock-release') !== key) {
        response
          .status(400)
          .json({ error: 'POST release?key=<key> with the header X-Dlock-Release: <key>.' });
        return;
      }
      if (!key.startsWith(prefix)) {
        response.status(403).json({ error: `This page only shows keys starting with "${prefix}".` });
        return;
      }
      const result = await manager.forceRelease(
        key,
        options.backend === undefined ? {} : { backend: options.backend },
      );
      response.json(result);
    });
  }
  return router;
}

function resolveGuard(guard: unknown): LockDashboardGuard | undefined {
  if (guard === 'allow-all') return undefined;
  if (typeof guard === 'function') return guard as LockDashboardGuard;
  throw new InvalidLockOptionsError(
    "createLockDashboard: a guard is required, e.g. guard: (request) => isAdmin(request); the page shows hosts, pids and method names. Use guard: 'allow-all' for local development only.",
  );
}

function guardMiddleware(guard: LockDashboardGuard | undefined): RequestHandler {
  return (request, response, next) => {
    if (!guard) return next();
    Promise.resolve()
      .then(() => guard(request))
      .then(
        (allowed) => {
          if (allowed === true) next();
          else response.status(403).type('text').send('Forbidden');
        },
        (error: unknown) => next(error),
      );
  };
}
