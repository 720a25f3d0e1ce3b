import { isRaceStrategy, RACE_STRATEGIES, type RaceStrategy } from '../stock/stock-race-strategies.js';
import { ApiError } from './api-error.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_QUANTITY = 1_000_000;

/** An id that is safe in a lock key and a varchar(64) column. */
export function readId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new ApiError(
      400,
      'INVALID_INPUT',
      `${field} must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-".`,
    );
  }
  return value;
}

/** A positive (or, with `allowZero`, non-negative) integer. */
export function readQuantity(value: unknown, field = 'quantity', allowZero = false): number {
  const min = allowZero ? 0 : 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_QUANTITY) {
    throw new ApiError(400, 'INVALID_INPUT', `${field} must be an integer from ${min} to ${MAX_QUANTITY}.`);
  }
  return value;
}

/** The JSON body as an object; anything else (array, string, missing) is a 400. */
export function readBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(
      400,
      'INVALID_INPUT',
      'The request body must be a JSON object (Content-Type: application/json).',
    );
  }
  return body as Record<string, unknown>;
}

/** `?strategy=` or the `X-Lock-Strategy` header (demo only); undefined = the app's normal path. */
export function readStrategy(query: unknown, header: string | undefined): RaceStrategy | undefined {
  const fromQuery = (query as Record<string, unknown> | undefined)?.strategy;
  const value = fromQuery ?? header;
  if (value === undefined) return undefined;
  if (!isRaceStrategy(value)) {
    throw new ApiError(400, 'INVALID_INPUT', `strategy must be one of ${RACE_STRATEGIES.join(', ')}.`);
  }
  return value;
}
