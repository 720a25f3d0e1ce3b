import type { BackendLock } from '@dlock/core';
import type { KeyTurn, KeyTurns } from './key-turns.js';

/**
 * A held lock that tells {@link KeyTurns} when it is released, so the next caller of this process
 * knows how long the process has kept the key. Everything else is the store's lock, unchanged:
 * the release itself (token-checked) decides, and a release that finds the lock lost records
 * nothing (another process holds the key, the turn is over).
 */
export class TurnHeldLock implements BackendLock {
  readonly #lock: BackendLock;
  readonly #turns: KeyTurns;
  readonly #key: string;
  readonly #turn: KeyTurn;

  constructor(lock: BackendLock, turns: KeyTurns, key: string, turn: KeyTurn) {
    this.#lock = lock;
    this.#turns = turns;
    this.#key = key;
    this.#turn = turn;
  }

  get fencingToken(): number | undefined {
    return this.#lock.fencingToken;
  }

  get expiresAt(): number {
    return this.#lock.expiresAt;
  }

  get lostSignal(): AbortSignal | undefined {
    return this.#lock.lostSignal;
  }

  extend(leaseMs: number): Promise<boolean> {
    return this.#lock.extend(leaseMs);
  }

  async release(): Promise<boolean> {
    const released = await this.#lock.release();
    if (released) this.#turns.released(this.#key, this.#turn, othersWaited(this.#lock));
    return released;
  }
}

/** Whether the store reported a caller turned away while `lock` was held (see RedisHeldLock). */
function othersWaited(lock: BackendLock): boolean {
  return 'othersWaited' in lock && lock.othersWaited === true;
}
