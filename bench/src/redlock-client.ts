// redlock 5 beta ships type declarations, but its package.json "exports" map does not point at
// them, so TypeScript (NodeNext) sees the module as untyped. Import the runtime value untyped and
// type it from the declaration file.
// @ts-expect-error TS7016: no types reachable through "exports".
import RedlockUntyped from 'redlock';
import type RedlockClass from '../node_modules/redlock/dist/index.js';

/**
 * The redlock 5 `Redlock` class, typed.
 *
 * @example
 * const redlock = new Redlock([redis], { retryDelay: 10 });
 */
export const Redlock = RedlockUntyped as typeof RedlockClass;
