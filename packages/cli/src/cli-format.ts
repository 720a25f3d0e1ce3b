import type { ForceReleaseResult, LockInspection, LockOwner } from '@dlock/core';

/**
 * A {@link LockInspection} as JSON: the fields of `manager.inspect()`, with `null` where the store
 * cannot tell (JSON has no `undefined`), so every field is always present.
 *
 * @example
 * JSON.stringify(inspectionJson(await manager.inspect('stock:42')));
 */
export function inspectionJson(lock: LockInspection): Record<string, unknown> {
  return {
    key: lock.key,
    backend: lock.backend,
    held: lock.held,
    owner: lock.owner ? ownerJson(lock.owner) : null,
    leaseRemainingMs: lock.leaseRemainingMs ?? null,
    fencingToken: lock.fencingToken ?? null,
    waiters: lock.waiters ?? null,
  };
}

function ownerJson(owner: LockOwner): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(owner)) if (value !== undefined) json[name] = value;
  return json;
}

/** `express-stock pid 4242 on web-1 (StockService.decrease)`, with what the store knows. */
export function describeOwner(owner: LockOwner | undefined): string {
  if (!owner) return 'unknown';
  const parts: string[] = [];
  if (owner.appName) parts.push(owner.appName);
  if (owner.pid !== undefined) parts.push(`pid ${owner.pid}`);
  if (owner.host) parts.push(parts.length > 0 ? `on ${owner.host}` : `host ${owner.host}`);
  if (owner.session)
    parts.push(
      `session ${owner.session.connectionId}${owner.session.user ? ` (${owner.session.user})` : ''}`,
    );
  if (owner.label) parts.push(`(${owner.label})`);
  return parts.length > 0 ? parts.join(' ') : 'unknown';
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The human-readable answer of `dlock inspect`.
 *
 * @example
 * process.stdout.write(formatInspection(await manager.inspect('stock:42'), Date.now()));
 */
export function formatInspection(lock: LockInspection, now: number): string {
  const lines = [`${lock.key}  ${lock.held ? 'HELD' : 'free'}  (${lock.backend})`];
  if (lock.held) {
    lines.push(`  owner    ${describeOwner(lock.owner)}`);
    if (lock.owner?.acquiredAt !== undefined) {
      lines.push(
        `  since    ${new Date(lock.owner.acquiredAt).toISOString()} (${duration(now - lock.owner.acquiredAt)} ago)`,
      );
    }
    if (lock.owner?.session?.stateSeconds !== undefined) {
      lines.push(`  idle     ${lock.owner.session.stateSeconds} s (the holding session's current state)`);
    }
    lines.push(
      `  lease    ${lock.leaseRemainingMs === undefined ? 'kept by the holder' : `${duration(lock.leaseRemainingMs)} left`}`,
    );
  }
  lines.push(`  fencing  ${lock.fencingToken ?? '-'}`);
  lines.push(`  waiters  ${lock.waiters ?? '-'}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The table `dlock list` prints.
 *
 * @example
 * process.stdout.write(formatList(await manager.list({ prefix: 'stock:' })));
 */
export function formatList(locks: readonly LockInspection[]): string {
  if (locks.length === 0) return 'No locks held.\n';
  const rows = [
    ['KEY', 'BACKEND', 'OWNER', 'LEASE LEFT', 'WAITERS', 'FENCING'],
    ...locks.map((lock) => [
      lock.key,
      lock.backend,
      describeOwner(lock.owner),
      duration(lock.leaseRemainingMs),
      String(lock.waiters ?? '-'),
      String(lock.fencingToken ?? '-'),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/**
 * What `dlock release --force` reports.
 *
 * @example
 * formatRelease({ key: 'stock:42', backend: 'redis', released: true }); // "Released stock:42 ..."
 */
export function formatRelease(result: ForceReleaseResult): string {
  if (!result.released) return `${result.key} was not held (${result.backend}); nothing released.\n`;
  return (
    `Released ${result.key} (${result.backend}), held by ${describeOwner(result.previousOwner)}` +
    `${result.previousFencingToken === undefined ? '' : ` with fencing token ${result.previousFencingToken}`}.\n` +
    'Its holder finds out at its next renewal; the next holder gets a greater fencing token.\n'
  );
}
