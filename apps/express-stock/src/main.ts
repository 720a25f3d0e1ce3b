// TypeORM and @DistributedLock record metadata through reflect-metadata: load it once, first.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { loadAppConfig } from './config/app-config.js';
import { createApp } from './http/create-app.js';
import { createAppContext } from './server/app-context.js';
import { createAppLogger } from './server/app-logger.js';
import { countInFlight, installShutdownSignals } from './server/graceful-shutdown.js';
import { StoreUnreachableError } from './server/store-connections.js';
import { storeStartHint } from './server/store-start-hint.js';

const config = loadAppConfig();
const logger = createAppLogger(config.logLevel);

try {
  const context = await createAppContext(config, logger);
  // OTEL=console: lock spans and metrics on stdout; the SDK is loaded only then.
  if (process.env.OTEL === 'console')
    (await import('./telemetry/console-telemetry.js')).startConsoleTelemetry(context.lockManager);
  const server = createApp(context).listen(config.port, config.host);
  countInFlight(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  installShutdownSignals({ server, context, logger, graceMs: config.shutdownGraceMs });
  logger.info({ port, url: `http://${config.host}:${port}` }, 'listening');
} catch (error) {
  if (error instanceof StoreUnreachableError) {
    logger.fatal({ store: error.store }, error.message);
    console.error(`\n${error.message}\n${storeStartHint(error.store)}\n`);
  } else {
    logger.fatal({ err: error }, 'startup failed');
  }
  process.exit(1);
}
