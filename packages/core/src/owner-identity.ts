import { randomUUID } from 'node:crypto';
import type { LockOwnerRecord } from './lock-inspection.js';

/**
 * A random UUID as one flat string. Node builds `randomUUID()` by concatenating 20 pieces, and V8
 * keeps that as a tree of about 16 cons strings (~490 bytes) until something reads a character;
 * every held lock and every waiter keeps its token, so reading one here cuts ~430 bytes from each.
 */
export function ownerToken(): string {
  const token = randomUUID();
  token.charCodeAt(0);
  return token;
}

/** This process' owner record with each call's label: one frozen object per label, not per call. */
export class LabelledOwners {
  readonly #base: LockOwnerRecord | undefined;
  readonly #byLabel = new Map<string, LockOwnerRecord>();

  constructor(base: LockOwnerRecord | undefined) {
    this.#base = base;
  }

  /** The record of a call labelled `label` (this process' own record without a label). */
  of(label: string | undefined): LockOwnerRecord | undefined {
    const base = this.#base;
    if (!base || label === undefined) return base;
    let record = this.#byLabel.get(label);
    if (!record) {
      // Bounded: decorator labels are few; free-form labels beyond this are simply not cached.
      record = Object.freeze({ ...base, label });
      if (this.#byLabel.size < 1000) this.#byLabel.set(label, record);
    }
    return record;
  }
}
