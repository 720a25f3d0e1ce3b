import type { Redis } from 'ioredis';

/** Calls per command name, from `INFO commandstats` (server side: counts calls inside Lua scripts). */
export type CommandCalls = ReadonlyMap<string, number>;

/** Commands the bench itself sends to the server; excluded from every delta. */
const BENCH_OWN_COMMANDS = new Set(['info', 'client', 'hello', 'select', 'quit', 'ping']);

/**
 * Read `INFO commandstats` of the server behind `redis`.
 *
 * @example
 * const before = await readCommandCalls(statsClient);
 */
export async function readCommandCalls(redis: Redis): Promise<CommandCalls> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    // cmdstat_evalsha:calls=12,usec=...  (subcommands look like cmdstat_client|setname)
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1]!.toLowerCase(), Number(match[2]));
  }
  return calls;
}

/**
 * Commands executed between two snapshots, without the bench's own stats and setup commands.
 *
 * @example
 * const executed = executedBetween(before, await readCommandCalls(statsClient));
 */
export function executedBetween(before: CommandCalls, after: CommandCalls): number {
  let total = 0;
  for (const [name, calls] of after) {
    const base = name.split('|')[0]!;
    if (BENCH_OWN_COMMANDS.has(base)) continue;
    total += calls - (before.get(name) ?? 0);
  }
  return total;
}
