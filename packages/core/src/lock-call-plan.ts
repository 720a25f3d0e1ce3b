import { describeValue } from './duration.js';
import { InvalidLockKeyError, InvalidLockOptionsError } from './errors.js';
import { validateLockKey } from './key-template.js';
import type { LockBackend } from './lock-backend.js';
import type { CallLockOptions, LockDefaults } from './lock-options.js';
import { resolveTiming } from './lock-options.js';
import { type LockRoute, recommendedRoute } from './lock-route.js';

/** One call's validated request: everything later steps need, nothing they would have to re-check. */
export interface LockCallPlan {
  /** Sorted, validated, without duplicates. */
  readonly keys: readonly string[];
  readonly backendName: string;
  readonly backend: LockBackend;
  /** 0 = a single attempt. */
  readonly waitMs: number;
  readonly leaseMs: number;
  readonly holdAtLeastMs: number;
  readonly signal: AbortSignal | undefined;
  readonly label: string | undefined;
  readonly keyTemplate: string | undefined;
}

/**
 * Turns a call's keys and options into a {@link LockCallPlan}, refusing bad input before any store
 * call: the manager's backends, route and defaults live here.
 */
export class LockPlanner {
  readonly #backends: ReadonlyMap<string, LockBackend>;
  readonly #route: LockRoute;
  readonly #defaults: LockDefaults;

  constructor(options: {
    readonly backends: Readonly<Record<string, LockBackend>>;
    readonly route: LockRoute<string> | undefined;
    readonly defaults: LockDefaults | undefined;
  }) {
    const entries = Object.entries(options.backends ?? {});
    if (entries.length === 0) {
      throw new InvalidLockOptionsError(
        'LockManager needs at least one backend: new LockManager({ backends: { name: backend } }).',
      );
    }
    for (const [name, backend] of entries) {
      if (typeof backend?.acquire !== 'function' || typeof backend.close !== 'function') {
        throw new InvalidLockOptionsError(
          `Backend "${name}" does not implement LockBackend (acquire, close).`,
          {
            backend: name,
          },
        );
      }
    }
    this.#backends = new Map(entries);
    const onlyBackend = entries.length === 1 ? entries[0]![0] : undefined;
    this.#route = options.route ?? (onlyBackend ? () => onlyBackend : recommendedRoute);
    this.#defaults = options.defaults ?? {};
    // Bad defaults fail when the manager is made, not at the first call.
    resolveTiming({}, this.#defaults);
  }

  get backendNames(): readonly string[] {
    return [...this.#backends.keys()];
  }

  get backends(): Iterable<LockBackend> {
    return this.#backends.values();
  }

  assertBackend(name: unknown): asserts name is string {
    if (typeof name !== 'string' || !this.#backends.has(name)) {
      throw new InvalidLockOptionsError(
        `Unknown lock backend ${JSON.stringify(name)}; this manager has: ${this.backendNames.map((n) => `"${n}"`).join(', ')}.`,
        { backend: typeof name === 'string' ? name : undefined },
      );
    }
  }

  plan(keys: string | readonly string[], options: CallLockOptions): LockCallPlan {
    if (options === null || typeof options !== 'object') {
      throw new InvalidLockOptionsError('Lock options must be an object (use {} for the defaults).');
    }
    const sortedKeys = normalizeKeys(keys);
    const { waitMs, leaseMs, holdAtLeastMs } = resolveTiming(options, this.#defaults);
    const backendName = options.backend ?? this.#route({ keys: sortedKeys, waitMs, leaseMs });
    this.assertBackend(backendName);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidLockOptionsError('signal must be an AbortSignal.');
    }
    for (const name of ['label', 'keyTemplate'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'string') {
        throw new InvalidLockOptionsError(`${name} must be a string, got ${describeValue(options[name])}.`);
      }
    }
    return {
      keys: sortedKeys,
      backendName,
      backend: this.#backends.get(backendName)!,
      waitMs,
      leaseMs,
      holdAtLeastMs,
      signal: options.signal,
      label: options.label,
      keyTemplate: options.keyTemplate,
    };
  }
}

function normalizeKeys(keys: string | readonly string[]): string[] {
  const list = typeof keys === 'string' ? [keys] : keys;
  if (!Array.isArray(list)) {
    throw new InvalidLockKeyError(
      `A lock key must be a string or an array of strings, got ${keys === null ? 'null' : typeof keys}.`,
    );
  }
  if (list.length === 0)
    throw new InvalidLockKeyError('At least one lock key is required; got an empty array.');
  // Sorted by code unit so every process takes the same keys in the same order.
  return [...new Set(list.map(validateLockKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
