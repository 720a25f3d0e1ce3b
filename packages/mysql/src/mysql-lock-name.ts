import { createHash } from 'node:crypto';

/** MySQL rejects `GET_LOCK` names longer than this (`ER_USER_LOCK_WRONG_NAME`). */
export const MYSQL_LOCK_NAME_MAX_LENGTH = 64;

const DIGEST_LENGTH = 25;
const SEPARATOR = '#';
const READABLE_LENGTH = MYSQL_LOCK_NAME_MAX_LENGTH - DIGEST_LENGTH - SEPARATOR.length;

/**
 * Map `keyPrefix + key` to a valid MySQL named-lock name: a readable ASCII head (other characters
 * become `_`, cut to 38 characters) plus `#` and a lowercase base-36 digest of the exact UTF-8
 * text (128 bits of SHA-256).
 *
 * Why the digest is always there: MySQL compares lock names without case and refuses names over
 * 64 characters, so `"Stock:1"` and `"stock:1"`, two long keys sharing a head, or two non-ASCII
 * keys would otherwise collide or fail. The digest is lowercase, so the server's case folding
 * cannot merge two names.
 *
 * @example
 * toMySqlLockName('dlock:', 'stock:42'); // "dlock:stock:42#0k3…" (always <= 64 ASCII characters)
 */
export function toMySqlLockName(keyPrefix: string, key: string): string {
  const full = keyPrefix + key;
  const readable = full.replace(/[^A-Za-z0-9:._\-/@]/g, '_').slice(0, READABLE_LENGTH);
  const digestHex = createHash('sha256').update(full, 'utf8').digest('hex').slice(0, 32);
  const digest = BigInt(`0x${digestHex}`).toString(36).padStart(DIGEST_LENGTH, '0');
  return `${readable}${SEPARATOR}${digest}`;
}
