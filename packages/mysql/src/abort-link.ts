import { setMaxListeners } from 'node:events';

/** A signal that aborts when any of its parents aborts; `dispose()` detaches it from them. */
export interface AbortLink {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Like `AbortSignal.any()`, but detached explicitly when the call ends. The backend's long-lived
 * "closing" signal would otherwise collect one dependent signal per acquisition (`AbortSignal.any`
 * keeps them until the parent is collected or aborts, which for a backend is never or at exit).
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
  const listeners = parents.map((parent) => {
    const onAbort = () => {
      dispose();
      controller.abort(parent.reason);
    };
    parent.addEventListener('abort', onAbort, { once: true });
    return { parent, onAbort };
  });
  const dispose = () => {
    for (const { parent, onAbort } of listeners) parent.removeEventListener('abort', onAbort);
  };
  return { signal: controller.signal, dispose };
}

/**
 * The controller behind the backend's `close()`: every call in progress links to its signal, so it
 * may have as many listeners as there are concurrent callers (no MaxListenersExceeded warning).
 *
 * @example
 * readonly #closing = createClosingController();
 */
export function createClosingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
