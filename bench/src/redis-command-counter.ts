import { Redis } from 'ioredis';

/** Commands that the bench itself sends (stats, connection setup); never counted against a library. */
// `cluster` is an ioredis `Cluster` discovering the topology (CLUSTER SLOTS) when it connects: setup,
// like `hello` and `select` on a single server, not lock traffic.
const BENCH_OWN_COMMANDS = new Set(['info', 'client', 'hello', 'select', 'quit', 'ping', 'cluster']);

let sentCommands = 0;
let installed = false;

/**
 * Count every command any ioredis `Redis` client of this process sends, including pipelined ones
 * and those of connections a library creates itself (the pub/sub backend's `duplicate()`
 * subscriber), by wrapping `Redis.prototype.sendCommand` once. Idempotent.
 *
 * A `Cluster` is covered too, once per command actually sent: it is not a `Redis` itself but hands
 * every command (and every MOVED/ASK retry, and its sharded subscribers' SSUBSCRIBE) to one of its
 * per-node `Redis` connections.
 *
 * Why the prototype and not the client we pass in: a subscriber made with `duplicate()` is a new
 * instance, and its SUBSCRIBE/UNSUBSCRIBE traffic is exactly what the pub/sub design must keep low.
 *
 * @example
 * installRedisCommandCounter();
 * const before = redisCommandsSent();
 * await redis.get('k');
 * redisCommandsSent() - before; // 1
 */
export function installRedisCommandCounter(): void {
  if (installed) return;
  installed = true;
  const prototype = Redis.prototype as unknown as {
    sendCommand: (this: Redis, command: { name: string }, ...rest: unknown[]) => unknown;
  };
  const original = prototype.sendCommand;
  prototype.sendCommand = function countedSendCommand(this: Redis, command, ...rest) {
    if (!BENCH_OWN_COMMANDS.has(command.name.toLowerCase())) sentCommands++;
    return original.call(this, command, ...rest);
  };
}

/**
 * Redis commands sent by this process since it started counting.
 *
 * @example
 * const sent = redisCommandsSent();
 */
export function redisCommandsSent(): number {
  return sentCommands;
}
