import type { RequestHandler } from 'express';
import { isRaceStrategy, RACE_STRATEGIES, type RaceStrategy } from '../race/race-strategies.js';
import { ApiError } from './api-error.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_QUANTITY = 1_000_000;

function invalid(field: string, message: string): ApiError {
  return new ApiError(400, 'INVALID_INPUT', message, { field });
}

/** An id that is safe in a lock key and a varchar(64) column. */
export function readId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw invalid(field, `${field} must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-".`);
  }
  return value;
}

/** A positive (or, with `allowZero`, non-negative) integer. */
export function readQuantity(value: unknown, field = 'quantity', allowZero = false): number {
  const min = allowZero ? 0 : 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_QUANTITY) {
    throw invalid(field, `${field} must be an integer from ${min} to ${MAX_QUANTITY}.`);
  }
  return value;
}

/**
 * The JSON body as an object with only the `allowed` fields: anything else (array, string,
 * missing, or a field the route does not know, like a misspelled `qty`) is a 400 naming it. A
 * typo must not silently fall back to a default. With `optional`, no body at all reads as `{}`.
 *
 * @example
 * const { quantity } = readBody(request.body, ['quantity']);
 */
export function readBody<F extends string>(
  body: unknown,
  allowed: readonly F[],
  options: { optional?: boolean } = {},
): Partial<Record<F, unknown>> {
  if (body === undefined && options.optional) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', 'The request body must be a JSON object (Content-Type: application/json).');
  }
  for (const field of Object.keys(body)) {
    if (!(allowed as readonly string[]).includes(field)) {
      throw invalid(field, `Unknown field "${field}"; this route takes ${allowed.join(', ')}.`);
    }
  }
  return body as Partial<Record<F, unknown>>;
}

/** An optional quantity: absent means 1; present (`null` included) must be valid. */
export function readOptionalQuantity(value: unknown): number {
  return value === undefined ? 1 : readQuantity(value);
}

/**
 * 415 for a request body that is not `application/json`. Without it, `express.json()` skips a form
 * or `text/plain` body, the route sees no body and a decrease silently defaults to one item.
 * Requests without a body (`curl -X POST`) pass.
 *
 * @example
 * app.use(requireJsonBody, express.json({ limit: '16kb' }));
 */
export const requireJsonBody: RequestHandler = (request, _response, next) => {
  const length = request.headers['content-length'];
  const hasBody =
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !request.is('application/json')) {
    const type = request.headers['content-type'] ?? 'none';
    throw new ApiError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `The request body must be JSON with Content-Type: application/json (got "${type}").`,
      { field: 'content-type' },
    );
  }
  next();
};

/**
 * The app's routes have one lock per resource on one store; a per-request strategy would put one
 * key on several stores. The switch lives on the demo's own endpoint only.
 */
export function rejectStrategySwitch(query: unknown, header: string | undefined): void {
  const fromQuery = (query as Record<string, unknown> | undefined)?.strategy;
  if (fromQuery === undefined && header === undefined) return;
  throw invalid(
    'strategy',
    'strategy (query or X-Lock-Strategy) is demo-only: use POST /race/:strategy/stocks/:productId/decrease.',
  );
}

/** The `:strategy` of the demo's race endpoint. */
export function readRaceStrategy(value: unknown): RaceStrategy {
  if (!isRaceStrategy(value)) {
    throw invalid('strategy', `strategy must be one of ${RACE_STRATEGIES.join(', ')}.`);
  }
  return value;
}
