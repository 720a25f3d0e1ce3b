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
    if (subscribed.listeners.size === 0 && fanouts.get(signal) === subscribed) {
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
  return controller;
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
