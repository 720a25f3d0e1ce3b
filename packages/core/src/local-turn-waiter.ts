import type { LockError } from './errors.js';
import { LocalWaiter } from './local-key-queue.js';
import type { LockAcquirer } from './lock-acquirer.js';
import type { LockCallPlan } from './lock-call-plan.js';
import type { TakenLocksUse } from './taken-lock.js';

/** What a one-key call waiting for its local turn keeps until then. */
export interface Admission<R> {
  readonly plan: LockCallPlan;
  readonly renew: boolean;
  readonly use: TakenLocksUse<R>;
  readonly startedAt: number;
  /** Its owner token, made (and announced in `acquiring`) before the wait. */
  readonly token: string;
}

/**
 * A one-key call waiting for its local turn: the queue's record of it, and what the call needs
 * to go on. Resolves `admitted` with itself, so the continuation is one shared function.
 */
export class TurnWaiter<R = unknown> extends LocalWaiter implements Admission<R> {
  readonly admitted: Promise<TurnWaiter<R>>;
  readonly acquirer: LockAcquirer;
  readonly plan: LockCallPlan;
  readonly renew: boolean;
  readonly use: TakenLocksUse<R>;
  readonly startedAt: number;
  readonly token: string;
  #resolve!: (waiter: TurnWaiter<R>) => void;
  #reject!: (error: LockError) => void;

  constructor(acquirer: LockAcquirer, admission: Admission<R>) {
    super();
    this.acquirer = acquirer;
    this.plan = admission.plan;
    this.renew = admission.renew;
    this.use = admission.use;
    this.startedAt = admission.startedAt;
    this.token = admission.token;
    this.admitted = new Promise<TurnWaiter<R>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get key(): string {
    return this.plan.keys[0]!;
  }

  protected turnGiven(): void {
    this.#resolve(this);
  }
  protected timedOut(): void {
    this.#reject(this.acquirer.turnNotGiven(this, undefined, true));
  }
  protected aborted(reason: unknown): void {
    this.#reject(this.acquirer.turnNotGiven(this, reason, false));
  }
}
