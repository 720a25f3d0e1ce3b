// Compile-time checks of a decorator application: the key must be buildable from the method's
// arguments, and a method that may be skipped must admit `undefined`. Each failure shows up as an
// impossible property, whose name says what is wrong.

declare const keyMismatch: unique symbol;
declare const skipMismatch: unique symbol;
declare const placeholderMismatch: unique symbol;
declare const pathMismatch: unique symbol;

/** Argument indexes a template names, e.g. `0 | 1` for `'order:{0}:{1.id}'` (`{{` escapes are skipped). */
type TemplateIndexes<S extends string> = S extends `${string}{${infer Body}}${infer Rest}`
  ?
      | (Body extends `${infer N extends number}.${string}`
          ? N
          : Body extends `${infer N extends number}`
            ? N
            : never)
      | TemplateIndexes<Rest>
  : never;

/** Placeholder bodies with a property path, e.g. `'1.id'` for `'order:{0}:{1.id}'`. */
type TemplatePaths<S extends string> = S extends `${string}{${infer Body}}${infer Rest}`
  ? (Body extends `${number}.${string}` ? Body : never) | TemplatePaths<Rest>
  : never;

/** Whether `T` has the dotted property path `P`; `unknown`/`any` pass (nothing to check against). */
type HasPath<T, P extends string> = unknown extends T
  ? true
  : P extends `${infer Head}.${infer Tail}`
    ? Head extends keyof NonNullable<T>
      ? HasPath<NonNullable<T>[Head], Tail>
      : false
    : P extends keyof NonNullable<T>
      ? true
      : false;

/** Template paths the method's argument types do not have, e.g. `'0.idd'`. */
type MissingPaths<S extends string, A extends readonly unknown[]> =
  TemplatePaths<S> extends infer Body
    ? Body extends `${infer N extends number}.${infer Path}`
      ? number extends A['length']
        ? never
        : N extends ParameterIndexes<A>
          ? HasPath<A[N], Path> extends true
            ? never
            : Body
          : never
      : never
    : never;

/** Indexes of a parameter tuple, or `number` when its length is open (rest or optional parameters). */
type ParameterIndexes<A extends readonly unknown[]> = number extends A['length']
  ? number
  : Extract<keyof A, `${number}`> extends `${infer I extends number}`
    ? I
    : never;

/** Makes a decorator application fail to compile when the key cannot be built from the method's arguments. */
export type KeyFitsMethod<K, A extends readonly unknown[]> = K extends string
  ? string extends K
    ? unknown
    : [Exclude<TemplateIndexes<K>, ParameterIndexes<A>>] extends [never]
      ? [MissingPaths<K, A>] extends [never]
        ? unknown
        : { readonly [pathMismatch]: 'the key template names a property the argument does not have' }
      : { readonly [placeholderMismatch]: 'the key template names an argument the method does not have' }
  : K extends (...args: A) => unknown
    ? unknown
    : { readonly [keyMismatch]: 'the key function parameters do not match the decorated method' };

/** `onLocked: 'skip'` resolves to undefined: the method's declared result must admit it. */
export type SkipFitsResult<S, R> = 'skip' extends S
  ? undefined extends R
    ? unknown
    : {
        readonly [skipMismatch]: "onLocked: 'skip' resolves to undefined when the lock is taken: declare the method as Promise<T | undefined>";
      }
  : unknown;
