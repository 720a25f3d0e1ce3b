import type { Redis } from 'ioredis';

/** Calls per command name, from `INFO commandstats`. */
export type CommandCounts = ReadonlyMap<string, number>;

/**
 * Read the server-wide call counters.
 *
 * @example
 * const before = await readCommandCounts(redis);
 */
export async function readCommandCounts(redis: Redis): Promise<CommandCounts> {
  const info = await redis.info('commandstats');
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

/**
 * Commands run between two snapshots, without the demo's own `INFO` calls, largest first.
 * The counters are server-wide: anything else using the same Redis meanwhile is counted too.
 *
 * @example
 * const used = commandDelta(before, await readCommandCounts(redis));
 */
export function commandDelta(before: CommandCounts, after: CommandCounts): [string, number][] {
  const delta: [string, number][] = [];
  for (const [name, calls] of after) {
    if (name === 'info') continue;
    const used = calls - (before.get(name) ?? 0);
    if (used > 0) delta.push([name, used]);
  }
  return delta.sort((a, b) => b[1] - a[1]);
}

// What lock clients send over the network; every other command in the counters runs inside those
// scripts on the server (INFO commandstats counts both).
const SENT_BY_LOCK_CLIENTS = new Set([
  'evalsha',
  'eval',
  'subscribe',
  'unsubscribe',
  'ssubscribe',
  'sunsubscribe',
]);

/**
 * Split a delta into commands the clients sent and all commands the server executed.
 *
 * @example
 * const { sent, executed } = sentAndExecuted(commandDelta(before, after));
 */
export function sentAndExecuted(delta: readonly [string, number][]): { sent: number; executed: number } {
  let sent = 0;
  let executed = 0;
  for (const [name, calls] of delta) {
    executed += calls;
    if (SENT_BY_LOCK_CLIENTS.has(name)) sent += calls;
  }
  return { sent, executed };
}
