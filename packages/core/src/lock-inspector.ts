import { describeValue } from './duration.js';
import { InvalidLockOptionsError, LockBackendError, type LockError, withBackendName } from './errors.js';
import { validateLockKey } from './key-template.js';
import type { LockBackend } from './lock-backend.js';
import {
  type BackendLockState,
  type ForceReleaseResult,
  type InspectOptions,
  type ListLocksOptions,
  type LockInspection,
  type LockInspectionCapability,
  LockInspectionUnsupportedError,
} from './lock-inspection.js';

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 10_000;

/**
 * The read side of a manager: asks a backend's optional `inspect` / `list` / `forceRelease`, maps
 * keys between what users write and what the backend stores (the manager's `keyPrefix`).
 */
export class LockInspector {
  readonly #backends: ReadonlyMap<string, LockBackend>;
  readonly #keyPrefix: string;

  constructor(backends: ReadonlyMap<string, LockBackend>, keyPrefix: string) {
    this.#backends = backends;
    this.#keyPrefix = keyPrefix;
  }

  async inspect(key: string, options: InspectOptions = {}): Promise<LockInspection> {
    const valid = validateLockKey(key);
    const [name, backend] = this.#choose('inspect', options, valid);
    const state = await this.#call(name, valid, 'inspecting', () =>
      backend.inspect!(this.#keyPrefix + valid),
    );
    return this.#toInspection(name, valid, state);
  }

  async list(options: ListLocksOptions = {}): Promise<LockInspection[]> {
    if (options === null || typeof options !== 'object') {
      throw new InvalidLockOptionsError(
        'list(options): options must be an object, e.g. { prefix: "stock:" }.',
      );
    }
    const prefix = options.prefix ?? '';
    if (typeof prefix !== 'string')
      throw new InvalidLockOptionsError(`prefix must be a string, got ${describeValue(prefix)}.`);
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new InvalidLockOptionsError(
        `limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${describeValue(limit)}.`,
      );
    }
    const [name, backend] = this.#choose('list', options, undefined);
    const states = await this.#call(name, undefined, 'listing', () =>
      backend.list!({ prefix: this.#keyPrefix + prefix, limit }),
    );
    const locks: LockInspection[] = [];
    for (const state of states) {
      if (!state.key.startsWith(this.#keyPrefix)) continue;
      const key = state.key.slice(this.#keyPrefix.length);
      if (key.startsWith(prefix)) locks.push(this.#toInspection(name, key, state));
    }
    locks.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return locks.slice(0, limit);
  }

  async forceRelease(key: string, options: InspectOptions = {}): Promise<ForceReleaseResult> {
    const valid = validateLockKey(key);
    const [name, backend] = this.#choose('forceRelease', options, valid);
    const result = await this.#call(name, valid, 'force-releasing', () =>
      backend.forceRelease!(this.#keyPrefix + valid),
    );
    return {
      key: valid,
      backend: name,
      released: result.released,
      previousOwner: result.previousOwner,
      previousFencingToken: result.previousFencingToken,
    };
  }

  #toInspection(backend: string, key: string, state: BackendLockState): LockInspection {
    return {
      key,
      backend,
      held: state.held,
      owner: state.held ? state.owner : undefined,
      leaseRemainingMs: state.held ? state.leaseRemainingMs : undefined,
      fencingToken: state.fencingToken,
      waiters: state.waiters,
    };
  }

  async #call<T>(
    backend: string,
    key: string | undefined,
    action: string,
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const wrapped: LockError = LockBackendError.wrap(error, { key: key ?? '(list)', backend, action });
      throw withBackendName(wrapped, backend);
    }
  }

  #choose(
    capability: LockInspectionCapability,
    options: InspectOptions,
    key: string | undefined,
  ): [string, LockBackend] {
    if (options === null || typeof options !== 'object') {
      throw new InvalidLockOptionsError(`${capability}(): options must be an object.`);
    }
    const capable = [...this.#backends].filter(([, backend]) => typeof backend[capability] === 'function');
    const requested = options.backend;
    if (requested === undefined) {
      const first = capable[0];
      if (first) return first;
      const [name] = this.#backends.keys();
      throw new LockInspectionUnsupportedError({ capability, backend: name!, key, supportedBy: [] });
    }
    const backend = this.#backends.get(requested);
    if (!backend) {
      throw new InvalidLockOptionsError(
        `Unknown lock backend ${JSON.stringify(requested)}; this manager has: ${[...this.#backends.keys()].map((n) => `"${n}"`).join(', ')}.`,
        { backend: typeof requested === 'string' ? requested : undefined },
      );
    }
    if (typeof backend[capability] !== 'function') {
      throw new LockInspectionUnsupportedError({
        capability,
        backend: requested,
        key,
        supportedBy: capable.map(([name]) => name),
      });
    }
    return [requested, backend];
  }
}
