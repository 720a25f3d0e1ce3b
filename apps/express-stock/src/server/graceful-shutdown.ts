import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AppContext } from './app-context.js';

export interface GracefulShutdownOptions {
  readonly server: Server;
  readonly context: Pick<AppContext, 'lockManager' | 'close' | 'lifecycle'>;
  readonly logger: Logger;
  /** How long in-flight requests may take to finish before their locks are released anyway. */
  readonly graceMs: number;
}

/**
 * Stop the app in the order that keeps locks honest:
 * 1. stop accepting connections (and end idle keep-alive ones);
 * 2. let in-flight requests finish, up to `graceMs`; their locks are released normally;
 * 3. `lockManager.close()`: requests still waiting for a lock fail fast (503) and locks still held
 *    are released at once, so other servers do not wait for the lease to expire;
 * 4. close the database pools and Redis.
 *
 * Resolves when everything is closed; never rejects (a failing step is logged and skipped).
 *
 * @example
 * process.once('SIGTERM', () => void shutDownGracefully({ server, context, logger, graceMs: 10_000 }).then(() => process.exit(0)));
 */
export async function shutDownGracefully(options: GracefulShutdownOptions): Promise<void> {
  const { server, context, logger, graceMs } = options;
  const inFlight = countInFlight(server);
  context.lifecycle.shuttingDown = true;
  logger.info({ inFlight: inFlight(), graceMs }, 'shutting down');

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();

  if (!(await waitUntil(() => inFlight() === 0, graceMs))) {
    logger.warn({ inFlight: inFlight() }, 'grace period over; releasing locks of unfinished requests');
  }
  await step(logger, 'lock manager', () => context.lockManager.close());
  // Requests that were waiting for a lock now fail at once; give them a moment to send their 503.
  await waitUntil(() => inFlight() === 0, 2_000);
  server.closeAllConnections();
  await closed;
  await step(logger, 'connections', () => context.close());
  logger.info('shut down');
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
    void shutDownGracefully(options).then(() => process.exit(0));
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
