import { formatTextTable } from './text-table.js';

/** One strategy's outcome in the demo. */
export interface RaceResult {
  readonly strategy: string;
  readonly initialStock: number;
  readonly finalStock: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Successful decreases whose write was overwritten: succeeded - (initial - final). */
  readonly lostUpdates: number;
  readonly wallMs: number;
  /** Lock commands the clients sent (scripts, subscriptions). */
  readonly redisCommandsSent: number;
  /** Everything the server executed, commands inside the scripts included. */
  readonly redisCommandsExecuted: number;
  readonly topRedisCommands: readonly [string, number][];
  /** Whether this strategy is supposed to be exact (the dlock backends). */
  readonly mustBeExact: boolean;
}

/** A race result is exact when every request succeeded and no update was lost. */
export function isExact(result: RaceResult): boolean {
  return result.finalStock === 0 && result.lostUpdates === 0 && result.failed === 0;
}

/**
 * Render the demo's results as a plain-text table.
 *
 * @example
 * console.log(formatRaceTable(results));
 */
export function formatRaceTable(results: readonly RaceResult[]): string {
  const header = [
    'strategy',
    'final stock',
    'lost updates',
    'failed',
    'wall time',
    'Redis cmds sent/executed',
    'verdict',
  ];
  const rows = results.map((result) => [
    result.strategy,
    `${result.finalStock} (exp. 0)`,
    String(result.lostUpdates),
    String(result.failed),
    `${result.wallMs} ms`,
    result.redisCommandsExecuted ? `${result.redisCommandsSent} / ${result.redisCommandsExecuted}` : '-',
    isExact(result) ? 'exact' : result.mustBeExact ? 'WRONG' : 'wrong (expected)',
  ]);
  return formatTextTable(header, rows);
}
