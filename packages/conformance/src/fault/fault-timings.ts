/**
 * Figures a fault test measured, printed once at the end of the file as one line per scenario,
 * so the README's failure-modes table can quote them.
 *
 * @example
 * const timings = new FaultTimings('redis-spin');
 * timings.note('paused link: takeover', 812);
 * timings.print();
 */
export class FaultTimings {
  readonly #label: string;
  readonly #figures = new Map<string, number>();

  constructor(label: string) {
    this.#label = label;
  }

  /** Remember one figure (ms) and return it, so a measurement can be noted where it is made. */
  note(name: string, ms: number): number {
    this.#figures.set(name, Math.round(ms));
    return ms;
  }

  print(): void {
    if (this.#figures.size === 0) return;
    const lines = [...this.#figures].map(([name, ms]) => `  ${name}: ${ms} ms`);
    console.log(`[fault-kit] ${this.#label} measured:\n${lines.join('\n')}`);
  }
}

/** Milliseconds `promise` took to settle, and how. Never rejects. */
export async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const startedAt = Date.now();
  try {
    const value = await promise;
    return { ms: Date.now() - startedAt, value };
  } catch (error) {
    return { ms: Date.now() - startedAt, error };
  }
}
