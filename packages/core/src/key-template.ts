import { InvalidLockKeyError } from './errors.js';

/** Longest key (in UTF-16 code units) accepted before any store call. */
export const MAX_KEY_LENGTH = 1024;

type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'arg'; index: number; path: readonly string[]; source: string };

/** A parsed `'stock:{0}'`-style template; parse once, resolve on every call. */
export interface KeyTemplate {
  readonly source: string;
  /** The key for one call's arguments; throws `InvalidLockKeyError` when a value cannot name a lock. */
  resolve(args: readonly unknown[]): string;
}

const PLACEHOLDER_BODY = /^(\d+)((?:\.[A-Za-z_$][\w$]*)*)$/;

/**
 * Parse a key template. `{0}` is the first argument, `{1.id}` the `id` property of the second,
 * `{0.user.id}` a nested path; `{{` and `}}` stand for literal braces.
 *
 * @example
 * parseKeyTemplate('stock:{0}').resolve([42]) // 'stock:42'
 */
export function parseKeyTemplate(source: string): KeyTemplate {
  if (typeof source !== 'string' || source.length === 0) {
    throw new InvalidLockKeyError('A lock key template must be a non-empty string.');
  }
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    const next = source[i + 1];
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      text += char;
      i++;
    } else if (char === '{') {
      if (source[i - 1] === '$') {
        // 'order:${0}' in plain quotes is a template-literal slip: it would lock on "order:$42".
        throw new InvalidLockKeyError(
          `Lock key template "${source}" has "\${" before a placeholder: write 'order:{0}' (dlock's ` +
            "placeholder) or build the key in a key function; write '$' then '{{' for a literal \"${\".",
        );
      }
      const end = source.indexOf('}', i);
      if (end < 0) throw new InvalidLockKeyError(`Unclosed "{" in lock key template "${source}".`);
      const body = source.slice(i + 1, end);
      const match = PLACEHOLDER_BODY.exec(body);
      if (!match) {
        throw new InvalidLockKeyError(
          `Invalid placeholder "{${body}}" in lock key template "${source}": use {0}, {1.id} or {0.user.id}.`,
        );
      }
      if (text) parts.push({ kind: 'text', text });
      text = '';
      const path = match[2] ? match[2].slice(1).split('.') : [];
      parts.push({ kind: 'arg', index: Number(match[1]), path, source: `{${body}}` });
      i = end;
    } else if (char === '}') {
      throw new InvalidLockKeyError(
        `Unmatched "}" in lock key template "${source}"; write "}}" for a literal brace.`,
      );
    } else {
      text += char;
    }
  }
  if (text) parts.push({ kind: 'text', text });

  return {
    source,
    resolve(args) {
      let key = '';
      for (const part of parts) {
        key += part.kind === 'text' ? part.text : resolvePlaceholder(source, part, args);
      }
      return validateLockKey(key);
    },
  };
}

function resolvePlaceholder(
  template: string,
  part: Extract<TemplatePart, { kind: 'arg' }>,
  args: readonly unknown[],
): string {
  if (part.index >= args.length) {
    throw new InvalidLockKeyError(
      `Placeholder ${part.source} in lock key "${template}" names argument ${part.index}, ` +
        `but the method was called with ${args.length} argument(s).`,
    );
  }
  let value: unknown = args[part.index];
  for (const property of part.path) {
    if (value === null || value === undefined) break;
    value = (value as Record<string, unknown>)[property];
  }
  return stringifyKeyPart(value, () => `placeholder ${part.source} in lock key "${template}"`);
}

/**
 * Turn one key component into text, refusing values that would silently produce a wrong lock
 * (`undefined`, `null`, objects, `NaN`, empty strings): locking on "undefined" serializes every caller.
 */
function stringifyKeyPart(value: unknown, describe: () => string): string {
  switch (typeof value) {
    case 'string':
      if (value.length > 0) return value;
      break;
    case 'number':
      if (Number.isFinite(value)) return String(value);
      break;
    case 'bigint':
    case 'boolean':
      return String(value);
  }
  const shown =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'an array'
        : typeof value === 'object'
          ? 'an object'
          : typeof value === 'string'
            ? 'an empty string'
            : String(value);
  throw new InvalidLockKeyError(
    `${describe()} resolved to ${shown}; a key part must be a non-empty string, a finite number, a bigint or a boolean.`,
  );
}

// A key part that reads "undefined", "null", "NaN" or "[object Object]" almost always comes from a
// missing value interpolated into a string; locking on it would serialize unrelated callers.
const SUSPICIOUS_PART = /(?:^|[^A-Za-z0-9_])(undefined|null|NaN|\[object Object\])(?:$|[^A-Za-z0-9_])/;

/** In `u` mode a valid surrogate pair is one code point, so only a lone half matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/** The key {@link validateLockKey} passed last (validation depends on the key alone). */
let lastValidKey: string | undefined;

/** Check a final key; returns it unchanged when valid. */
export function validateLockKey(key: unknown): string {
  // The same key again (a loop, a hot endpoint): it passed every check below already.
  if (key === lastValidKey && lastValidKey !== undefined) return lastValidKey;
  if (typeof key !== 'string') {
    throw new InvalidLockKeyError(`A lock key must be a string, got ${key === null ? 'null' : typeof key}.`);
  }
  if (key.length === 0) throw new InvalidLockKeyError('A lock key must not be empty.');
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidLockKeyError(
      `Lock key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}. Hash long identifiers first.`,
      key.slice(0, 64),
    );
  }
  const loneSurrogate = LONE_SURROGATE.exec(key);
  if (loneSurrogate) {
    // Stores encode keys as UTF-8, where every lone surrogate becomes U+FFFD: two different keys
    // would name one lock, and a pub/sub handoff message would miss its waiter.
    throw new InvalidLockKeyError(
      `Lock key contains a lone UTF-16 surrogate (\\u${loneSurrogate[0].charCodeAt(0).toString(16)} at index ` +
        `${loneSurrogate.index}), which no store can represent; build the key from well-formed text.`,
      key.slice(0, 64),
    );
  }
  const suspicious = SUSPICIOUS_PART.exec(key);
  if (suspicious) {
    throw new InvalidLockKeyError(
      `Lock key "${key.slice(0, 64)}" contains "${suspicious[1]}", which usually means a missing value was ` +
        'interpolated into it. Build the key from the real identifier (or use a {0.id} template, which checks it).',
      key.slice(0, 64),
    );
  }
  lastValidKey = key;
  return key;
}
