import { setMaxListeners } from 'node:events';

interface AbortFanout {
  readonly listeners: Set<() => void>;
  readonly dispatch: () => void;
}

/**
 * One real listener per signal, however many calls wait on it: a caller's signal shared by a
 * hundred concurrent lock calls must not trip Node's MaxListenersExceededWarning, and a signal we
 * do not own must not be changed with setMaxListeners.
 */
const fanouts = new WeakMap<AbortSignal, AbortFanout>();

/**
 * Signals made here that live long and are waited on call after call (a backend's closing signal,
 * a kept link): their one real listener stays when the last subscriber leaves, so a call that
 * subscribes and leaves does not add and remove an event listener each time. Only our own signals:
 * a signal we do not own gets its listener back out.
 */
const keptFanouts = new WeakSet<AbortSignal>();

/**
 * Call `listener` once when `signal` aborts; the returned function unsubscribes (call it when the
 * wait ends, or a long-lived signal keeps every finished call alive). Does nothing for a signal
 * that is already aborted: check `signal.aborted` first.
 *
 * @example
 * const unsubscribe = onAbort(signal, () => controller.abort(signal.reason));
 * try { await work(); } finally { unsubscribe(); }
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) return () => {};
  let fanout = fanouts.get(signal);
  if (!fanout) {
    const listeners = new Set<() => void>();
    const dispatch = () => {
      fanouts.delete(signal);
      for (const each of [...listeners]) each();
    };
    fanout = { listeners, dispatch };
    fanouts.set(signal, fanout);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
  const subscription = () => listener();
  fanout.listeners.add(subscription);
  const subscribed = fanout;
  return () => {
    subscribed.listeners.delete(subscription);
    if (subscribed.listeners.size === 0 && !keptFanouts.has(signal) && fanouts.get(signal) === subscribed) {
      fanouts.delete(signal);
      signal.removeEventListener('abort', subscribed.dispatch);
    }
  };
}

/** A signal that aborts when any of its parents aborts; `dispose()` detaches it from them. */
export interface AbortLink {
  readonly signal: AbortSignal;
  /** Detach from the parents (call it when the wait ends). */
  dispose(): void;
}

/**
 * Like `AbortSignal.any()`, but detached explicitly when the call ends: `AbortSignal.any` keeps a
 * dependent signal per call on a long-lived parent (a backend's closing signal) on some Node 20
 * releases.
 *
 * @example
 * const link = linkAbortSignals([request.signal, closing.signal]);
 * try { await work(link.signal); } finally { link.dispose(); }
 */
export function linkAbortSignals(parents: readonly AbortSignal[]): AbortLink {
  const controller = new AbortController();
  const aborted = parents.find((parent) => parent.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const unsubscribes = parents.map((parent) =>
    onAbort(parent, () => {
      dispose();
      controller.abort(parent.reason);
    }),
  );
  const dispose = () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
  return { signal: controller.signal, dispose };
}

/**
 * The controller behind a backend's `close()`: every waiting call links to its signal.
 *
 * @example
 * readonly #closing = createClosingController();
 */
export function createClosingController(): AbortController {
  const controller = new AbortController();
  // Our own signal: many links to it are expected (one per waiting call).
  setMaxListeners(0, controller.signal);
  keptFanouts.add(controller.signal);
  return controller;
}

/**
 * Links each call's signal with one long-lived signal (a backend's closing signal), like
 * {@link linkAbortSignals}, but keeps the link of the last call's signal for the next call: every
 * call from a `LockManager` without a signal of its own passes the manager's one signal, so those
 * calls share one link instead of each making an AbortController and adding and removing listeners
 * (most of what an uncontended acquire cost on the client). At most one caller signal is kept; a
 * link no call uses any more is detached as soon as a call with another signal comes.
 *
 * @example
 * readonly #links = new AbortLinks(this.#closing.signal);
 * const link = this.#links.link(request.signal);
 * try { await work(link.signal); } finally { link.dispose(); }
 */
export class AbortLinks {
  readonly #closing: AbortSignal;
  #kept: SharedAbortLink | undefined;

  constructor(closing: AbortSignal) {
    this.#closing = closing;
  }

  /** `parent` linked with the closing signal; `dispose()` the link once, when the call ends. */
  link(parent: AbortSignal): AbortLink {
    const kept = this.#kept;
    if (kept && kept.parent === parent && !kept.signal.aborted) {
      kept.users++;
      return kept;
    }
    if (parent.aborted || this.#closing.aborted) return linkAbortSignals([parent, this.#closing]);
    if (kept) kept.retire();
    const link = new SharedAbortLink(parent, this.#closing);
    this.#kept = link;
    return link;
  }
}

/** A link shared by the calls that pass the same signal; detached once retired and unused. */
class SharedAbortLink implements AbortLink {
  readonly parent: AbortSignal;
  readonly #controller = new AbortController();
  readonly #unsubscribes: readonly (() => void)[];
  users = 1;
  #retired = false;

  constructor(parent: AbortSignal, closing: AbortSignal) {
    this.parent = parent;
    const abort = (reason: unknown) => {
      this.#detach();
      this.#controller.abort(reason);
    };
    this.#unsubscribes = [
      onAbort(parent, () => abort(parent.reason)),
      onAbort(closing, () => abort(closing.reason)),
    ];
    setMaxListeners(0, this.#controller.signal);
    keptFanouts.add(this.#controller.signal);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** One call is over with the link (a shared method: the calls make no function of their own). */
  readonly dispose = (): void => {
    this.users--;
    if (this.#retired && this.users === 0) this.#detach();
  };

  /** No new call will get this link: detach it when its last call ends. */
  retire(): void {
    this.#retired = true;
    if (this.users === 0) this.#detach();
  }

  #detach(): void {
    for (const unsubscribe of this.#unsubscribes) unsubscribe();
  }
}

/**
 * Resolve after `ms`, or reject with `signal.reason` as soon as `signal` aborts. No timer or
 * listener is left behind either way.
 *
 * @example
 * await abortableDelay(50, request.signal);
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const unsubscribe = onAbort(signal, () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
    const timer = setTimeout(
      () => {
        unsubscribe();
        resolve();
      },
      Math.max(0, ms),
    );
  });
}
