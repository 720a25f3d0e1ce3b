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
  return (await readCommandStats(servers)).calls;
}

/** Calls and server CPU time (µs, `usec`) per command name, from `INFO commandstats`. */
export interface CommandStats {
  readonly calls: CommandCalls;
  readonly usec: CommandCalls;
}

/**
 * Like {@link readCommandCalls}, plus the `usec` Redis spent in each command (a script's `usec`
 * includes the commands it calls, which also count their own: compare {@link usecBetween} only).
 *
 * @example
 * const before = await readCommandStats(statsClient);
 */
export async function readCommandStats(servers: Redis | readonly Redis[]): Promise<CommandStats> {
  const list: readonly Redis[] = servers instanceof Redis ? [servers] : servers;
  const texts = await Promise.all(list.map((server) => server.info('commandstats')));
  const calls = new Map<string, number>();
  const usec = new Map<string, number>();
  for (const line of texts.join('\n').split('\n')) {
    // cmdstat_evalsha:calls=12,usec=...  (subcommands look like cmdstat_client|setname)
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (match) {
      const name = match[1]!.toLowerCase();
      calls.set(name, (calls.get(name) ?? 0) + Number(match[2]));
      usec.set(name, (usec.get(name) ?? 0) + Number(match[3]));
    }
  }
  return { calls, usec };
}

/**
 * CPU time the Redis server(s) used so far, user + system, in µs (`INFO cpu`): everything the
 * server did (parsing, scripts, replies, network), which is what other apps on a shared Redis feel.
 *
 * @example
 * const cpuBefore = await readServerCpuUs(statsClient);
 */
export async function readServerCpuUs(servers: Redis | readonly Redis[]): Promise<number> {
  const list: readonly Redis[] = servers instanceof Redis ? [servers] : servers;
  const texts = await Promise.all(list.map((server) => server.info('cpu')));
  let total = 0;
  for (const text of texts) {
    for (const field of ['used_cpu_user', 'used_cpu_sys']) {
      const match = new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text);
      if (match) total += Number(match[1]) * 1_000_000;
    }
  }
  return total;
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
