import { appendFileSync, readFileSync } from 'node:fs';
import { type LockHistoryRecord, outcomeOf } from './lock-history.js';

/**
 * What the function given to {@link HistoryRecorder.attempt} reports while it runs.
 *
 * @example
 * await manager.withLock(key, options, async (scope) => {
 *   attempt.acquired(scope.locks[0]?.fencingToken);
 *   await work();
 * });
 */
export interface HistoryAttempt {
  /** Call first thing inside the critical section. */
  acquired(fencingToken?: number): void;
  /** Call when the critical section's work is done; otherwise it ends when the function settles. */
  released(): void;
  /** Mark this attempt as one the test disturbed on purpose (see `faultInjected`). */
  markFaultInjected(): void;
}

/**
 * Appends {@link LockHistoryRecord}s as JSON lines to a file, one file per process, so several
 * worker processes can record without sharing a handle. Read them back with {@link readHistory}.
 *
 * @example
 * const recorder = new HistoryRecorder(`${dir}/worker-${index}.jsonl`, { process: `worker-${index}` });
 * await recorder.attempt({ key, waitMs: 2000 }, (attempt) =>
 *   manager.withLock(key, { retry: { waitMs: 2000 } }, async (scope) => {
 *     attempt.acquired(scope.locks[0]?.fencingToken);
 *     await register.write(key, scope.locks[0]!.fencingToken!, 'x');
 *   }),
 * );
 */
export class HistoryRecorder {
  readonly file: string;
  readonly process: string;

  constructor(file: string, options: { process: string }) {
    this.file = file;
    this.process = options.process;
  }

  /**
   * Append one record (its `process` defaults to the recorder's). Synchronous: one `write()` per
   * line, so a worker killed right after still leaves whole lines.
   *
   * @example
   * recorder.record({ key, requestedAt, failedAt: Date.now(), outcome: 'LOCK_TIMEOUT', waitMs: 100 });
   */
  record(record: Omit<LockHistoryRecord, 'process'> & { process?: string }): LockHistoryRecord {
    const complete: LockHistoryRecord = { ...record, process: record.process ?? this.process };
    appendFileSync(this.file, `${JSON.stringify(complete)}\n`);
    return complete;
  }

  /**
   * Run one critical-section attempt and record how it went. Resolves with the record and never
   * rejects for the attempt's own failure: the outcome holds the `LockError` code, or
   * `"untyped-error"`.
   *
   * @example
   * const record = await recorder.attempt({ key: 'stock:42', waitMs: 0 }, (attempt) =>
   *   manager.withLock('stock:42', {}, () => attempt.acquired()),
   * );
   */
  async attempt(
    options: { readonly key: string; readonly waitMs?: number; readonly faultInjected?: boolean },
    run: (attempt: HistoryAttempt) => Promise<unknown>,
  ): Promise<LockHistoryRecord> {
    const requestedAt = Date.now();
    let acquiredAt: number | undefined;
    let releasedAt: number | undefined;
    let fencingToken: number | undefined;
    let faultInjected = options.faultInjected ?? false;
    const attempt: HistoryAttempt = {
      acquired: (token) => {
        acquiredAt ??= Date.now();
        fencingToken = token;
      },
      released: () => {
        releasedAt ??= Date.now();
      },
      markFaultInjected: () => {
        faultInjected = true;
      },
    };
    const base = {
      key: options.key,
      requestedAt,
      ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
    };
    const held = () => ({
      ...(acquiredAt === undefined ? {} : { acquiredAt, releasedAt: releasedAt ?? Date.now() }),
      ...(fencingToken === undefined ? {} : { fencingToken }),
      ...(faultInjected ? { faultInjected } : {}),
    });
    try {
      await run(attempt);
      return this.record({ ...base, ...held(), outcome: 'ok' });
    } catch (error) {
      const failedAt = Date.now();
      return this.record({
        ...base,
        ...held(),
        ...(acquiredAt === undefined ? { failedAt } : {}),
        outcome: outcomeOf(error),
        errorName: error instanceof Error ? error.name : typeof error,
      });
    }
  }
}

/**
 * Read the records of one or more history files, sorted by `requestedAt`. A last line without its
 * newline (a process killed mid-write) is skipped; any other bad line throws, naming file and line.
 *
 * @example
 * const history = readHistory(workerFiles);
 * expect(checkHistory(history, { commandTimeoutMs: 1000 })).toEqual([]);
 */
export function readHistory(files: string | readonly string[]): LockHistoryRecord[] {
  const records: LockHistoryRecord[] = [];
  for (const file of typeof files === 'string' ? [files] : files) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    // After the last "\n" comes "" for a whole file, or a torn line for a killed writer.
    lines.pop();
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        records.push(JSON.parse(line) as LockHistoryRecord);
      } catch (error) {
        throw new Error(`${file}:${index + 1}: not a JSON history record`, { cause: error });
      }
    });
  }
  return records.sort((left, right) => left.requestedAt - right.requestedAt);
}
