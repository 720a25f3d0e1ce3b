import { Redis } from 'ioredis';

/** Calls per command name, from `INFO commandstats` (server side: counts calls inside Lua scripts). */
export type CommandCalls = ReadonlyMap<string, number>;

/** Commands the bench itself sends to the server; excluded from every delta. */
// `cluster` is an ioredis `Cluster` discovering the topology (CLUSTER SLOTS) when it connects: setup,
// like `hello` and `select` on a single server, not lock traffic.
const BENCH_OWN_COMMANDS = new Set(['info', 'client', 'hello', 'select', 'quit', 'ping', 'cluster']);

/**
 * Read `INFO commandstats` of the server behind `redis`, or the sum over several servers (every
 * node of a cluster, each through its own plain connection).
 *
 * @example
 * const before = await readCommandCalls(statsClient);
 * const clusterBefore = await readCommandCalls([node0, node1, node2]);
 */
export async function readCommandCalls(servers: Redis | readonly Redis[]): Promise<CommandCalls> {
  const list: readonly Redis[] = servers instanceof Redis ? [servers] : servers;
  const texts = await Promise.all(list.map((server) => server.info('commandstats')));
  const calls = new Map<string, number>();
  for (const line of texts.join('\n').split('\n')) {
    // cmdstat_evalsha:calls=12,usec=...  (subcommands look like cmdstat_client|setname)
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) {
      const name = match[1]!.toLowerCase();
      calls.set(name, (calls.get(name) ?? 0) + Number(match[2]));
    }
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
