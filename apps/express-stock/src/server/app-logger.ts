import { type Logger, pino } from 'pino';

/**
 * Structured JSON logs on stdout. `LOG_LEVEL=silent` (tests) or `warn` keeps them quiet.
 *
 * @example
 * const logger = createAppLogger('info');
 * logger.info({ port: 3000 }, 'listening');
 */
export function createAppLogger(level: string): Logger {
  return pino({ level, base: { app: 'express-stock', pid: process.pid } });
}
