import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AppContext } from './app-context.js';

export interface GracefulShutdownOptions {
  readonly server: Server;
  readonly context: Pick<AppContext, 'criticalSections' | 'close' | 'lifecycle'>;
  readonly logger: Logger;
  /** How long in-flight requests may take to finish before their critical sections are rolled back. */
  readonly graceMs: number;
  /** How long the rolled-back critical sections may take to settle. Default 5000 ms. */
  readonly settleMs?: number;
}

/**
 * Stop the app in the order that keeps locks honest:
 * 1. stop accepting connections (and end idle keep-alive ones);
 * 2. let in-flight requests finish, up to `graceMs`; their locks are released normally;
 * 3. abort the critical sections still running: each rolls its transaction back at its next check
 *    (before a write, before COMMIT) and its lock is then released normally, never before;
 * 4. once no critical section runs, `lockManager.close()`: requests still waiting for a lock fail
 *    fast (503) and locks still held (outside any transaction) are released at once, so other
 *    servers do not wait for the lease to expire;
 * 5. close the database pools and Redis.
 *
 * A lock released while its transaction still runs lets another server read the old value before
 * that transaction commits: exactly the lost update the lock exists to prevent. So if a critical
 * section has not settled within `settleMs` (a query stuck in the database), no lock is released:
 * the process exits, its sessions end (MySQL rolls back what did not commit and frees named locks)
 * and the Redis locks run out with their lease.
 *
 * Resolves `true` when everything closed in order, `false` when it gave up on a stuck critical
 * section; never rejects (a failing step is logged and skipped).
 *
 * @example
 * process.once('SIGTERM', () => void shutDownGracefully({ server, context, logger, graceMs: 10_000 }).then((clean) => process.exit(clean ? 0 : 1)));
 */
async function shutDownGracefully(options: GracefulShutdownOptions): Promise<boolean> {
  const { server, context, logger, graceMs, settleMs = 5_000 } = options;
  const inFlight = countInFlight(server);
  context.lifecycle.shuttingDown = true;
  logger.info({ inFlight: inFlight(), graceMs }, 'shutting down');

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();

  if (!(await waitUntil(() => inFlight() === 0, graceMs))) {
    logger.warn(
      { inFlight: inFlight(), criticalSections: context.criticalSections.count },
      'grace period over; rolling back the critical sections still running',
    );
  }
  context.criticalSections.abort();
  if (!(await context.criticalSections.settled(settleMs))) {
    logger.error(
      { criticalSections: context.criticalSections.count, settleMs },
      'critical sections did not settle; exiting without releasing locks (leases expire, sessions end)',
    );
    return false;
  }
  // No transaction runs under a lock any more: releasing the locks now cannot let another server
  // in before a COMMIT of ours.
  await step(logger, 'locks and connections', () => context.close());
  // Requests that were waiting for a lock have failed (503); give them a moment to send it.
  await waitUntil(() => inFlight() === 0, 2_000);
  server.closeAllConnections();
  await closed;
  logger.info('shut down');
  return true;
}

/**
 * Call {@link shutDownGracefully} on SIGTERM or SIGINT, then exit.
 *
 * @example
 * installShutdownSignals({ server, context, logger, graceMs: config.shutdownGraceMs });
 */
export function installShutdownSignals(options: GracefulShutdownOptions): void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    options.logger.info({ signal }, 'signal received');
    void shutDownGracefully(options).then((clean) => process.exit(clean ? 0 : 1));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

const inFlightCounters = new WeakMap<Server, () => number>();

/** Count requests whose response has not closed yet. Attach once per server, as early as possible. */
export function countInFlight(server: Server): () => number {
  const existing = inFlightCounters.get(server);
  if (existing) return existing;
  let active = 0;
  server.on('request', (_request, response) => {
    active++;
    response.once('close', () => active--);
  });
  const counter = () => active;
  inFlightCounters.set(server, counter);
  return counter;
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

async function step(logger: Logger, name: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    logger.error({ err: error }, `closing ${name} failed`);
  }
}
