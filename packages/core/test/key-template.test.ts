import { describe, expect, it } from 'vitest';
import { InvalidLockKeyError, MAX_KEY_LENGTH, parseKeyTemplate } from '../src/index.js';

describe('parseKeyTemplate', () => {
  it('substitutes arguments by position and property path', () => {
    expect(parseKeyTemplate('stock:{0}').resolve([42])).toBe('stock:42');
    expect(parseKeyTemplate('order:{1.id}').resolve(['x', { id: 'o-7' }])).toBe('order:o-7');
    expect(parseKeyTemplate('cart:{0.user.id}:{1}').resolve([{ user: { id: 9 } }, 'eu'])).toBe('cart:9:eu');
    expect(parseKeyTemplate('big:{0}').resolve([12345678901234567890n])).toBe('big:12345678901234567890');
  });

  it('keeps literal braces written twice', () => {
    expect(parseKeyTemplate('{{tenant}}:{0}').resolve(['a'])).toBe('{tenant}:a');
  });

  it.each([
    ['undefined', [undefined]],
    ['null', [null]],
    ['an object', [{}]],
    ['an array', [[1, 2]]],
    ['NaN', [Number.NaN]],
    ['an empty string', ['']],
  ])('refuses a placeholder that resolves to %s', (_label, args) => {
    expect(() => parseKeyTemplate('stock:{0}').resolve(args)).toThrow(InvalidLockKeyError);
  });

  it('refuses a missing nested property instead of locking on "undefined"', () => {
    expect(() => parseKeyTemplate('order:{0.id}').resolve([{ name: 'x' }])).toThrow(/resolved to undefined/);
    expect(() => parseKeyTemplate('order:{0.user.id}').resolve([{}])).toThrow(InvalidLockKeyError);
  });

  it('refuses an index past the arguments', () => {
    expect(() => parseKeyTemplate('a:{2}').resolve([1, 2])).toThrow(/names argument 2.*2 argument/);
  });

  it.each(['', 'a:{', 'a:{x}', 'a:{0.}', 'a:{-1}', 'a}'])(
    'rejects the malformed template %j at parse time',
    (template) => {
      expect(() => parseKeyTemplate(template)).toThrow(InvalidLockKeyError);
    },
  );

  it('refuses a resolved key over the length limit', () => {
    expect(() => parseKeyTemplate('k:{0}').resolve(['x'.repeat(MAX_KEY_LENGTH)])).toThrow(/limit is 1024/);
    expect(parseKeyTemplate('{0}').resolve(['x'.repeat(MAX_KEY_LENGTH)])).toHaveLength(MAX_KEY_LENGTH);
  });
});
