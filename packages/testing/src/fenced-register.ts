/**
 * One write a {@link FencedRegister} saw, accepted or not.
 *
 * @example
 * const stale = register.writes.filter((write) => !write.accepted);
 */
export interface FencedWrite {
  readonly key: string;
  readonly token: number;
  /** The value written, as given (JSON for writes that came through a client). */
  readonly value: unknown;
  readonly accepted: boolean;
  /** The highest token accepted for `key` before this write, if any. */
  readonly highestTokenBefore: number | undefined;
  /** Epoch ms (`Date.now()`) when the register handled the write. */
  readonly at: number;
}

/**
 * What a write tells the writer.
 *
 * @example
 * const { accepted } = await register.write('stock:42', lock.fencingToken, 41);
 */
export interface FencedWriteResult {
  readonly accepted: boolean;
  /** The highest token accepted for the key, after this write. */
  readonly highestToken: number;
}

/**
 * The async write API shared by {@link FencedRegister} and {@link FencedRegisterClient}, so code
 * under test can be given either.
 *
 * @example
 * async function saveStock(target: FencedWriter, token: number) { await target.write('stock:42', token, 41); }
 */
export interface FencedWriter {
  /** Write `value` under `key` if `token` is not older than the last accepted token of `key`. */
  write(key: string, token: number, value: unknown): Promise<FencedWriteResult>;
}

/**
 * @example
 * const unfenced = new FencedRegister({ enforce: false }); // accepts stale writes, for showing the checker catches them
 */
export interface FencedRegisterOptions {
  /** Reject writes whose token is lower than the highest accepted one. Default `true`. */
  readonly enforce?: boolean;
}

/**
 * A stand-in for the resource a lock protects (a database row, a file): it remembers, per lock key,
 * the highest fencing token it accepted and rejects a write with a lower one, as a fenced storage
 * system should. An equal token is the same holder writing again and is accepted. Every write is
 * logged, accepted or not, for {@link checkHistory}.
 *
 * @example
 * const register = new FencedRegister();
 * await register.write('stock:42', 7, 'a'); // accepted
 * await register.write('stock:42', 6, 'b'); // rejected: a holder with token 7 already wrote
 */
export class FencedRegister implements FencedWriter {
  readonly #enforce: boolean;
  readonly #highest = new Map<string, { token: number; value: unknown }>();
  readonly #writes: FencedWrite[] = [];

  constructor(options: FencedRegisterOptions = {}) {
    this.#enforce = options.enforce ?? true;
  }

  /**
   * Write `value` under `key` if `token` is not older than the newest accepted one.
   *
   * @example
   * const { accepted } = await register.write(scope.locks[0].key, scope.locks[0].fencingToken, 41);
   */
  async write(key: string, token: number, value: unknown): Promise<FencedWriteResult> {
    return this.writeNow(key, token, value);
  }

  /**
   * The synchronous form of {@link write}.
   *
   * @example
   * register.writeNow('k', 1, 'v').accepted; // true
   */
  writeNow(key: string, token: number, value: unknown): FencedWriteResult {
    if (!Number.isFinite(token))
      throw new TypeError(`A fencing token must be a finite number, got ${token}.`);
    const current = this.#highest.get(key);
    const accepted = !this.#enforce || current === undefined || token >= current.token;
    this.#writes.push({ key, token, value, accepted, highestTokenBefore: current?.token, at: Date.now() });
    if (accepted && (current === undefined || token >= current.token))
      this.#highest.set(key, { token, value });
    else if (accepted) this.#highest.set(key, { token: current!.token, value });
    return { accepted, highestToken: this.#highest.get(key)?.token ?? token };
  }

  /**
   * The last accepted value of `key` and the highest token accepted for it.
   *
   * @example
   * register.read('stock:42'); // { token: 7, value: 'a' }
   */
  read(key: string): { readonly token: number; readonly value: unknown } | undefined {
    return this.#highest.get(key);
  }

  /**
   * Every write so far, in the order the register handled them.
   *
   * @example
   * expect(register.writes.filter((write) => !write.accepted)).toHaveLength(1);
   */
  get writes(): readonly FencedWrite[] {
    return this.#writes;
  }
}
