import { LockError, lockErrorHttpResponse } from '@dlock/core';
import { type ArgumentsHost, Catch, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/** The JSON body {@link LockErrorFilter} answers with. */
export interface LockErrorResponseBody {
  readonly statusCode: number;
  /** Stable machine-readable code, e.g. `LOCK_NOT_ACQUIRED`. */
  readonly code: string;
  /** Safe to show clients: names no key and no store address. */
  readonly message: string;
}

const logger = new Logger('LockErrorFilter');

/**
 * Answers dlock errors thrown by HTTP handlers from core's one table, `lockErrorHttpResponse`:
 * `LockNotAcquiredError` -> 409, `LockTimeoutError` / `LockCapacityError` / `LockAbortedError` /
 * a retryable `LockBackendError` -> 503 with `Retry-After`, anything that points at the server
 * (`LockLostError`, invalid keys or options, a misconfigured store) -> 500 and one error log line.
 *
 * It catches everything (`@Catch()`), because dlock errors are recognized by their brand, which
 * survives the ESM and CJS copies of `@dlock/core` where `instanceof` does not; every other
 * exception goes to Nest's own `BaseExceptionFilter`, so installing it globally changes nothing
 * else. It replies through the HTTP adapter, so Express and Fastify both work. HTTP only: in other
 * contexts (microservices, websockets) it rethrows.
 *
 * @example
 * // globally, with the module:
 * DlockModule.forRoot({ backends, errorFilter: true })
 * // or per controller:
 * @UseFilters(LockErrorFilter)
 * @Controller('stock')
 * export class StockController {}
 * // or in main.ts:
 * const { httpAdapter } = app.get(HttpAdapterHost);
 * app.useGlobalFilters(new LockErrorFilter(httpAdapter));
 */
export class LockErrorFilter extends BaseExceptionFilter {
  /** Answer a dlock error from the table; hand anything else to Nest's `BaseExceptionFilter`. */
  override catch(exception: unknown, host: ArgumentsHost): void {
    const answer = lockErrorHttpResponse(exception);
    if (!answer || !LockError.isInstance(exception)) {
      super.catch(exception, host);
      return;
    }
    if (host.getType() !== 'http') throw exception;
    const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
    if (!adapter) {
      throw new Error(
        'LockErrorFilter has no HTTP adapter: let Nest create it (APP_FILTER, @UseFilters(LockErrorFilter)) ' +
          'or pass one: new LockErrorFilter(app.get(HttpAdapterHost).httpAdapter).',
      );
    }
    const http = host.switchToHttp();
    const request: unknown = http.getRequest();
    const response: unknown = http.getResponse();
    if (answer.isServerFault) {
      const where = `${String(adapter.getRequestMethod?.(request))} ${String(adapter.getRequestUrl?.(request))}`;
      logger.error(
        `${where} answered ${answer.status} ${answer.code}: ${exception.name} ` +
          `(key ${JSON.stringify(exception.key ?? null)}, backend ${JSON.stringify(exception.backend ?? null)}): ` +
          exception.message,
        exception.stack,
      );
    }
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    if (answer.retryAfterSeconds !== undefined) {
      adapter.setHeader(response, 'Retry-After', String(answer.retryAfterSeconds));
    }
    const body: LockErrorResponseBody = {
      statusCode: answer.status,
      code: answer.code,
      message: answer.message,
    };
    adapter.reply(response, body, answer.status);
  }
}

// `@Catch()` applied as a call, for the reason given in dlock-module.ts.
Catch()(LockErrorFilter);
