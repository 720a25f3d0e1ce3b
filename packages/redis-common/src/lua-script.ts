import type { RedisLockClient } from './redis-client.js';

/** One Lua script of the lock format, embedded at build time from `src/lua/<name>-<numberOfKeys>.lua`. */
export interface LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  /** Hex SHA1 of `source`, the name Redis caches the script under. */
  readonly sha1: string;
  readonly source: string;
}

/**
 * Run a script with EVALSHA, and with EVAL when the server answers NOSCRIPT (first use, after a
 * restart or `SCRIPT FLUSH`); EVAL also loads it into the script cache for the next EVALSHA.
 * Nothing is registered on the client (no `defineCommand`): the client belongs to the user.
 *
 * @example
 * const reply = await runLuaScript(redis, LUA_SCRIPTS.extend, [keys.lock], [token, '30000']);
 */
export function runLuaScript(
  client: RedisLockClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  // Not async: a lock call waits for this reply, and an async frame here cost it a promise more.
  try {
    if (keys.length !== script.numberOfKeys) {
      throw new TypeError(
        `Lua script "${script.name}" takes ${script.numberOfKeys} keys, got ${keys.length}.`,
      );
    }
    return client.evalsha(script.sha1, keys.length, ...keys, ...args).then(undefined, (error: unknown) => {
      if (!isNoScriptError(error)) throw error;
      return client.eval(script.source, keys.length, ...keys, ...args);
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
