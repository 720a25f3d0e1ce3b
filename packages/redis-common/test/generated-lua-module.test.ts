import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LUA_SCRIPTS } from '../src/index.js';

describe('generated lua-scripts.ts', () => {
  it('embeds every src/lua file with its includes, its SHA1 and key count (run `pnpm generate` if this fails)', () => {
    const luaDir = join(import.meta.dirname, '..', 'src', 'lua');
    const files = readdirSync(luaDir).filter((file) => file.endsWith('.lua'));
    expect(Object.keys(LUA_SCRIPTS)).toHaveLength(files.length);
    for (const file of files) {
      const [, name, keys] = /^(.+)-(\d+)\.lua$/.exec(file)!;
      // The generator names scripts in camelCase: rw-read-acquire-4.lua -> rwReadAcquire.
      const camel = name!.replace(/-([a-z0-9])/g, (_, char: string) => char.toUpperCase());
      const script = LUA_SCRIPTS[camel as keyof typeof LUA_SCRIPTS];
      const source = readFileSync(join(luaDir, file), 'utf8').replace(
        /^-- @include (\S+)$/gm,
        (_, path: string) => readFileSync(join(luaDir, path), 'utf8').trimEnd(),
      );
      expect(script.source).toBe(source);
      expect(script.source).not.toContain('@include');
      expect(script.numberOfKeys).toBe(Number(keys));
      expect(script.sha1).toBe(createHash('sha1').update(source).digest('hex'));
      expect(source.startsWith('--[[')).toBe(true);
      for (const section of ['KEYS[1]', 'ARGV[1]', 'Reply']) expect(source).toContain(section);
    }
  });
});
