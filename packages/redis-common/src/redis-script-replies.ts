/**
 * Reading script replies whatever the client's reply options: with ioredis' `stringNumbers`
 * integers arrive as strings, and a strict `=== 1` would turn a successful release into "lost".
 */

/** `{status, value}` of the acquire script, as numbers. */
export function parseAcquireReply(raw: unknown): [0 | 1, number] {
  if (Array.isArray(raw) && raw.length === 2) {
    const status = toInteger(raw[0]);
    const value = toInteger(raw[1]);
    if ((status === 0 || status === 1) && value !== undefined) return [status, value];
  }
  throw new TypeError(`Unexpected reply from the acquire script: ${JSON.stringify(raw)}`);
}

/** The 0/1 reply of the extend and release scripts, as a boolean. */
export function parseFlagReply(raw: unknown, action: string): boolean {
  const flag = toInteger(raw);
  if (flag === 0 || flag === 1) return flag === 1;
  throw new TypeError(`Unexpected reply while ${action}: ${JSON.stringify(raw)}`);
}

function toInteger(value: unknown): number | undefined {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value !== ''
        ? Number(value)
        : Number.NaN;
  return Number.isSafeInteger(number) ? number : undefined;
}
