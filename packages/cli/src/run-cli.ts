import { createInterface } from 'node:readline/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { LockInspection } from '@dlock/core';
import { type CliCommand, CliUsageError, parseCliArgs, USAGE } from './cli-args.js';
import { type CliLocks, openCliLocks } from './cli-backends.js';
import { formatInspection, formatList, formatRelease, inspectionJson } from './cli-format.js';

/** Where `dlock` reads and writes: the process' streams, or test doubles. */
export interface CliIo {
  /** Where answers go. */
  readonly stdout: {
    /** Write `text` as is. */
    write(text: string): unknown;
  };
  /** Where errors and refusals go. */
  readonly stderr: {
    /** Write `text` as is. */
    write(text: string): unknown;
  };
  /** Read for the `release` confirmation; `isTTY` says whether a person can answer. */
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
  /** Stops `watch` (Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Run `dlock` with `argv` (without `node` and the script) and resolve to its exit code: 0 ok,
 * 1 failure, 2 usage error, 3 release refused or not confirmed.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`dlock: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (command.name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command.name === 'release' && !command.force) {
    io.stderr.write('dlock: release frees a lock another process holds; say you mean it with --force.\n');
    return 2;
  }
  let locks: CliLocks;
  try {
    locks = await openCliLocks(command);
  } catch (error) {
    io.stderr.write(`dlock: cannot connect: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  try {
    switch (command.name) {
      case 'list':
        return await list(locks, command, io);
      case 'inspect':
        return await inspect(locks, command, io);
      case 'watch':
        return await watch(locks, command, io);
      case 'release':
        return await release(locks, command, io);
    }
  } catch (error) {
    io.stderr.write(`dlock: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await locks.close();
  }
}

async function inspectAll(locks: CliLocks, key: string): Promise<LockInspection[]> {
  return Promise.all(locks.backends.map((backend) => locks.manager.inspect(key, { backend })));
}

async function inspect(locks: CliLocks, command: CliCommand, io: CliIo): Promise<number> {
  const results = await inspectAll(locks, command.key!);
  if (command.json) {
    const json = results.map(inspectionJson);
    io.stdout.write(`${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n`);
  } else {
    const now = Date.now();
    io.stdout.write(results.map((result) => formatInspection(result, now)).join('\n'));
  }
  return 0;
}

async function list(locks: CliLocks, command: CliCommand, io: CliIo): Promise<number> {
  const found: LockInspection[] = [];
  for (const backend of locks.backends) {
    found.push(...(await locks.manager.list({ backend, prefix: command.key ?? '', limit: command.limit })));
  }
  io.stdout.write(
    command.json ? `${JSON.stringify(found.map(inspectionJson), null, 2)}\n` : formatList(found),
  );
  return 0;
}

async function watch(locks: CliLocks, command: CliCommand, io: CliIo): Promise<number> {
  const interactive = !command.json && (io.stdout as { isTTY?: boolean }).isTTY === true;
  for (let update = 1; ; update += 1) {
    const results = await inspectAll(locks, command.key!);
    if (command.json) {
      for (const result of results) io.stdout.write(`${JSON.stringify(inspectionJson(result))}\n`);
    } else {
      const now = Date.now();
      // A terminal gets the screen redrawn in place; a pipe gets one block per update.
      const text = results.map((result) => formatInspection(result, now)).join('\n');
      io.stdout.write(interactive ? `\x1b[H\x1b[2J${new Date(now).toISOString()}\n${text}` : `${text}\n`);
    }
    if (command.count !== undefined && update >= command.count) return 0;
    try {
      await delay(command.intervalMs, undefined, { signal: io.signal });
    } catch {
      return 0; // Ctrl-C
    }
  }
}

async function release(locks: CliLocks, command: CliCommand, io: CliIo): Promise<number> {
  const key = command.key!;
  const before = (await inspectAll(locks, key)).filter((lock) => lock.held);
  if (before.length === 0) {
    io.stdout.write(
      command.json
        ? `${JSON.stringify({ key, released: false })}\n`
        : `${key} is not held; nothing to release.\n`,
    );
    return 0;
  }
  if (!command.yes) {
    if (io.stdin.isTTY !== true) {
      io.stderr.write(
        `dlock: refusing to force-release "${key}" without a terminal to confirm; pass --yes if you are sure.\n`,
      );
      return 3;
    }
    const now = Date.now();
    io.stdout.write(before.map((lock) => formatInspection(lock, now)).join('\n'));
    const prompt = createInterface({ input: io.stdin, output: io.stdout as NodeJS.WritableStream });
    try {
      const answer = await prompt.question(
        `Force-release "${key}"? Its holder keeps running until its next renewal fails. Type the key to confirm: `,
      );
      if (answer.trim() !== key) {
        io.stderr.write('dlock: not confirmed; nothing released.\n');
        return 3;
      }
    } finally {
      prompt.close();
    }
  }
  const results = [];
  for (const lock of before) results.push(await locks.manager.forceRelease(key, { backend: lock.backend }));
  if (command.json) {
    const json = results.map((result) => ({
      ...result,
      previousOwner: result.previousOwner ?? null,
      previousFencingToken: result.previousFencingToken ?? null,
    }));
    io.stdout.write(`${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n`);
  } else {
    io.stdout.write(results.map(formatRelease).join(''));
  }
  return 0;
}
