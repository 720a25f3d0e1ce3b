import { describe, expect, it } from 'vitest';
import { MYSQL_LOCK_NAME_MAX_LENGTH, toMySqlLockName } from './mysql-lock-name.js';

const VALID_NAME = /^[\x21-\x7e]{1,64}$/;

describe('toMySqlLockName', () => {
  it('is deterministic, readable and within 64 printable ASCII characters', () => {
    const name = toMySqlLockName('dlock:', 'stock:42');
    expect(name).toBe(toMySqlLockName('dlock:', 'stock:42'));
    expect(name.startsWith('dlock:stock:42#')).toBe(true);
    expect(name).toMatch(VALID_NAME);
  });

  it('keeps keys that differ only in case apart, even after the server folds case', () => {
    const upper = toMySqlLockName('dlock:', 'Stock:42');
    const lower = toMySqlLockName('dlock:', 'stock:42');
    expect(upper.toLowerCase()).not.toBe(lower.toLowerCase());
  });

  it('maps long keys (65 and 1000 characters) sharing a head to distinct valid names', () => {
    const head = 'x'.repeat(64);
    const names = [`${head}a`, `${head}b`, 'y'.repeat(1000), `${'y'.repeat(999)}z`].map((key) =>
      toMySqlLockName('dlock:', key),
    );
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(MYSQL_LOCK_NAME_MAX_LENGTH);
      expect(name).toMatch(VALID_NAME);
    }
    expect(new Set(names.map((name) => name.toLowerCase())).size).toBe(names.length);
  });

  it('maps non-ASCII keys and SQL-looking keys to distinct ASCII names', () => {
    const keys = ['재고:42', '재고:43', 'ключ', '🔒', 'e\u0301', '\u00e9', "a'; DROP TABLE t; --", 'a"`\\'];
    const names = keys.map((key) => toMySqlLockName('p:', key));
    for (const name of names) expect(name).toMatch(VALID_NAME);
    expect(new Set(names.map((name) => name.toLowerCase())).size).toBe(keys.length);
    expect(names[6]).not.toContain("'");
  });

  it('different prefixes keep the same key apart (like a Redis key prefix)', () => {
    expect(toMySqlLockName('app1:', 'stock:1')).not.toBe(toMySqlLockName('app2:', 'stock:1'));
  });
});
