import { InvalidLockOptionsError } from './errors.js';

/**
 * Longest duration dlock accepts, in ms (2^31 - 1, about 24.8 days). Node fires a timer set
 * beyond it after 1 ms, so a longer lease would be lost at once and a longer wait would time
 * out at once: such values are refused instead of silently shortened.
 */
export const MAX_DURATION_MS = 2_147_483_647;

/** How {@link assertDuration} judges a value. */
export interface DurationRule {
  /** Accept 0 (e.g. "no wait"). Default: only positive values. */
  readonly allowZero?: boolean | undefined;
  /** Backend the option belongs to, named in the error. */
  readonly backend?: string | undefined;
}

/**
 * Validate a duration option before any store call: a finite number of milliseconds, positive
 * (or zero where `allowZero`), at most {@link MAX_DURATION_MS}. Backends use it for their own
 * options so every message reads the same.
 *
 * @throws InvalidLockOptionsError naming the option, the value and its type.
 * @example
 * assertDuration('commandTimeoutMs', options.commandTimeoutMs ?? 5_000, { backend: 'redis-spin' });
 */
export function assertDuration(name: string, value: unknown, rule: DurationRule = {}): number {
  const lowest = rule.allowZero ? 0 : Number.MIN_VALUE;
  if (typeof value === 'number' && Number.isFinite(value) && value >= lowest && value <= MAX_DURATION_MS) {
    return value;
  }
  const owner = rule.backend ? `${rule.backend}: ` : '';
  const range = rule.allowZero ? 'zero or a positive' : 'a positive';
  const tooLong =
    typeof value === 'number' && value > MAX_DURATION_MS
      ? ` Durations above ${MAX_DURATION_MS} ms (about 24.8 days) cannot be timed by Node.`
      : '';
  throw new InvalidLockOptionsError(
    `${owner}${name} must be ${range} number of milliseconds up to ${MAX_DURATION_MS}, got ${describeValue(value)}.${tooLong}`,
    { backend: rule.backend },
  );
}

/** `"5000" (string)`, `NaN (number)`: environment variables arrive as strings, so show the type. */
export function describeValue(value: unknown): string {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${shown} (${value === null ? 'null' : typeof value})`;
}
