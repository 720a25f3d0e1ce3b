/** What a {@link LockRoute} sees to pick a backend. */
export interface LockRouteRequest {
  /** The keys of the call, sorted. */
  readonly keys: readonly string[];
  /** 0 for a single attempt. */
  readonly waitMs: number;
  readonly leaseMs: number;
}

/** Picks a backend name for a call that does not name one. */
export type LockRoute<B extends string = string> = (request: LockRouteRequest) => B;

/**
 * The recommended mix: a lock that must not wait spins once (cheapest), a lock that waits sleeps on
 * pub/sub (no polling load while it waits).
 *
 * @example
 * new LockManager({ backends: { spin, pubsub }, route: recommendedRoute }); // the default for these names
 */
export const recommendedRoute: LockRoute<'spin' | 'pubsub'> = ({ waitMs }) =>
  waitMs > 0 ? 'pubsub' : 'spin';
