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

/** The JSON body as an object; anything else (array, string, missing) is a 400. */
export function readBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', 'The request body must be a JSON object (Content-Type: application/json).');
  }
  return body as Record<string, unknown>;
}

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
