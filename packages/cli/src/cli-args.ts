import { parseArgs } from 'node:util';

/** What `dlock` was asked to do, parsed from its arguments. */
export interface CliCommand {
  /** `list`, `inspect`, `watch`, `release` or `help`. */
  readonly name: 'list' | 'inspect' | 'watch' | 'release' | 'help';
  /** The lock key (`inspect`, `watch`, `release`) or key prefix filter (`list`). */
  readonly key: string | undefined;
  /** `--redis <url>`. */
  readonly redis: string | undefined;
  /** `--mysql <url>`. */
  readonly mysql: string | undefined;
  /** `--prefix <prefix>`: the backends' key prefix (default: theirs, `"dlock:"`). */
  readonly prefix: string | undefined;
  /** `--json`: machine-readable output, the shape of `manager.inspect()`. */
  readonly json: boolean;
  /** `--limit <n>` for `list`. */
  readonly limit: number;
  /** `--interval <ms>` for `watch`. */
  readonly intervalMs: number;
  /** `--count <n>` for `watch`: stop after n updates (default: until Ctrl-C). */
  readonly count: number | undefined;
  /** `--force` for `release`. */
  readonly force: boolean;
  /** `--yes`: do not ask for confirmation. */
  readonly yes: boolean;
}

/** A usage error: the message is shown with the usage text, and `dlock` exits with code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** The `dlock --help` text. */
export const USAGE = `dlock: see and operate dlock locks

Usage:
  dlock list [key-prefix]        held locks (keys starting with key-prefix), owners, leases, waiters
  dlock inspect <key>            who holds <key>, since when, lease left, fencing token, waiters
  dlock watch <key>              inspect <key> again every --interval ms until Ctrl-C
  dlock release <key> --force    break-glass: free <key> whoever holds it (asks first)

Options:
  --redis <url>      Redis holding the locks (redis-spin / redis-pubsub format)
  --mysql <url>      MySQL/MariaDB holding the locks (GET_LOCK)
  --prefix <prefix>  the backends' keyPrefix (default "dlock:")
  --json             JSON output: the shape of manager.inspect() (list: an array; watch: one line per update)
  --limit <n>        list: at most n locks (default 100)
  --interval <ms>    watch: refresh period (default 1000)
  --count <n>        watch: stop after n updates
  --yes              release: do not ask (required without a terminal)
  -h, --help         this text

Keys are the ones your code passes to withLock() or @DistributedLock (with the LockManager's
keyPrefix, if it has one). Exit codes: 0 ok, 1 failure, 2 usage error, 3 release refused.`;

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new CliUsageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}

/**
 * Parse `dlock`'s arguments (without `node` and the script).
 *
 * @throws CliUsageError for an unknown command or option, or a missing key.
 * @example
 * parseCliArgs(['inspect', 'stock:42', '--redis', 'redis://127.0.0.1:6379', '--json']);
 */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [name, key, ...extra] = positionals;
  if (values.help || name === undefined || name === 'help')
    return { ...defaults(values), name: 'help', key: undefined };
  if (name !== 'list' && name !== 'inspect' && name !== 'watch' && name !== 'release') {
    throw new CliUsageError(`Unknown command ${JSON.stringify(name)}; use list, inspect, watch or release.`);
  }
  if (extra.length > 0) throw new CliUsageError(`Unexpected argument ${JSON.stringify(extra[0])}.`);
  if (name !== 'list' && key === undefined) throw new CliUsageError(`dlock ${name} needs a lock key.`);
  if (values.redis === undefined && values.mysql === undefined) {
    throw new CliUsageError('Say where the locks live: --redis <url> and/or --mysql <url>.');
  }
  return { ...defaults(values), name, key };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      redis: { type: 'string' },
      mysql: { type: 'string' },
      prefix: { type: 'string' },
      json: { type: 'boolean', default: false },
      limit: { type: 'string' },
      interval: { type: 'string' },
      count: { type: 'string' },
      force: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function defaults(values: ReturnType<typeof parse>['values']): Omit<CliCommand, 'name' | 'key'> {
  return {
    redis: values.redis,
    mysql: values.mysql,
    prefix: values.prefix,
    json: values.json === true,
    limit: positiveInteger('limit', values.limit, 100),
    intervalMs: positiveInteger('interval', values.interval, 1_000),
    count: values.count === undefined ? undefined : positiveInteger('count', values.count, 1),
    force: values.force === true,
    yes: values.yes === true,
  };
}
