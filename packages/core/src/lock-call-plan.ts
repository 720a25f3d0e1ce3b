import { describeValue } from './duration.js';
import { InvalidLockKeyError, InvalidLockOptionsError } from './errors.js';
import { validateLockKey } from './key-template.js';
import type { LockBackend, SharedLockType } from './lock-backend.js';
import type { CallLockOptions, LockDefaults } from './lock-options.js';
import { resolveTiming } from './lock-options.js';
import { type LockRoute, recommendedRoute } from './lock-route.js';
import { LockKindUnsupportedError } from './shared-lock-errors.js';

/**
 * What a call holds: an exclusive lock (a write lock: what every lock without `mode` is), a read
 * lock, or one permit of a semaphore.
 */
export type LockKind =
  | { readonly type: 'exclusive' }
  | { readonly type: 'read' }
  | { readonly type: 'semaphore'; readonly permits: number };

const EXCLUSIVE: LockKind = Object.freeze({ type: 'exclusive' });
const READ: LockKind = Object.freeze({ type: 'read' });

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
  readonly kind: LockKind;
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

  plan(
    keys: string | readonly string[],
    options: CallLockOptions,
    semaphore?: { readonly permits: unknown },
  ): LockCallPlan {
    if (options === null || typeof options !== 'object') {
      throw new InvalidLockOptionsError('Lock options must be an object (use {} for the defaults).');
    }
    const kind = semaphore ? semaphoreKind(semaphore.permits) : modeKind(options.mode);
    if (kind.type === 'semaphore' && typeof keys !== 'string') {
      throw new InvalidLockKeyError(
        `A semaphore takes one key, got ${Array.isArray(keys) ? `${keys.length} keys` : typeof keys}.`,
      );
    }
    const sortedKeys = normalizeKeys(keys);
    const { waitMs, leaseMs, holdAtLeastMs } = resolveTiming(options, this.#defaults);
    const backendName = options.backend ?? this.#route({ keys: sortedKeys, waitMs, leaseMs });
    this.assertBackend(backendName);
    const backend = this.#backends.get(backendName)!;
    if (kind.type !== 'exclusive' && !supports(backend, kind.type)) {
      throw new LockKindUnsupportedError({
        kind: kind.type,
        key: sortedKeys[0],
        backend: backendName,
        supportedBy: this.backendNames.filter((name) => supports(this.#backends.get(name)!, kind.type)),
      });
    }
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidLockOptionsError('signal must be an AbortSignal.');
    }
    assertOptionalString('label', options.label);
    assertOptionalString('keyTemplate', options.keyTemplate);
    return {
      keys: sortedKeys,
      backendName,
      backend,
      waitMs,
      leaseMs,
      holdAtLeastMs,
      signal: options.signal,
      label: options.label,
      keyTemplate: options.keyTemplate,
      kind,
    };
  }
}

function normalizeKeys(keys: string | readonly string[]): string[] {
  // One key, the usual call: nothing to sort or de-duplicate.
  if (typeof keys === 'string') return [validateLockKey(keys)];
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

function assertOptionalString(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new InvalidLockOptionsError(`${name} must be a string, got ${describeValue(value)}.`);
  }
}

function modeKind(mode: unknown): LockKind {
  if (mode === undefined || mode === 'write') return EXCLUSIVE;
  if (mode === 'read') return READ;
  throw new InvalidLockOptionsError(`mode must be "read" or "write", got ${describeValue(mode)}.`);
}

function semaphoreKind(permits: unknown): LockKind {
  if (typeof permits !== 'number' || !Number.isSafeInteger(permits) || permits < 1) {
    throw new InvalidLockOptionsError(
      `permits must be a positive integer (at most that many holders at once), got ${describeValue(permits)}.`,
    );
  }
  return { type: 'semaphore', permits };
}

/** Whether `backend` can hold `type` (it implements `acquireShared`, and lists the type if it lists any). */
function supports(backend: LockBackend, type: SharedLockType): boolean {
  if (typeof backend.acquireShared !== 'function') return false;
  return backend.sharedLockTypes === undefined || backend.sharedLockTypes.includes(type);
}
