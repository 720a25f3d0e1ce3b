// What a user gets from the registry: every published package is packed (`pnpm pack` rewrites
// `workspace:` ranges and applies `publishConfig`), the tarballs are installed with npm into fresh
// projects outside the workspace, compiled by TypeScript 5.9 and by the newest TypeScript, and run
// against the real Redis and MariaDB of this machine. Needs `pnpm build` first (`pnpm test:consumers`
// does it).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  build,
  type Compiler,
  cleanUpConsumerProjects,
  compilers,
  expectSuccess,
  installed,
  installedLockfile,
  packAll,
  published,
  repoRoot,
  runBuilt,
  tsc,
} from './support/consumer-projects.js';

afterAll(cleanUpConsumerProjects);

describe('published tarballs', () => {
  const rootLicense = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
  const rootEngines = (
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: unknown }
  ).engines;

  it.each(published.map((pkg) => [pkg.name, pkg] as const))('%s', async (_name, pkg) => {
    const root = (await packAll()).get(pkg.name)?.root ?? '';
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toBe(rootLicense);
    const text = readFileSync(join(root, 'package.json'), 'utf8');
    expect(text).not.toContain('@dlock/source');
    expect(text).not.toContain('workspace:');
    const manifest = JSON.parse(text) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      license: 'MIT',
      engines: rootEngines,
      repository: {
        type: 'git',
        url: 'git+https://github.com/dlock-js/dlock.git',
        directory: `packages/${pkg.dir}`,
      },
      homepage: `https://github.com/dlock-js/dlock/tree/main/packages/${pkg.dir}#readme`,
      bugs: { url: 'https://github.com/dlock-js/dlock/issues' },
    });
    expect(existsSync(join(root, 'src')), 'src/ is not published (the maps carry sourcesContent)').toBe(
      false,
    );
    // Relative links break on the registry page: package READMEs link absolutely.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/\]\((?!https?:|#|mailto:)([^)]+)\)/g)].map((match) => match[1]);
    expect(relative).toEqual([]);
  });
});

describe.concurrent('ESM + TC39 decorators, no reflect-metadata', () => {
  for (const name of ['esm-ioredis5', 'esm-ioredis6'] as const) {
    describe(name, () => {
      it('installs from the tarballs alone', async () => {
        const { dir, packages } = await installedLockfile(name);
        expect(existsSync(join(dir, 'node_modules', 'reflect-metadata'))).toBe(false);
        const ioredis = packages['node_modules/ioredis']?.version ?? '';
        expect(ioredis.split('.')[0]).toBe(name === 'esm-ioredis5' ? '5' : '6');
      });

      for (const compiler of Object.keys(compilers) as Compiler[]) {
        it(`compiles with ${compiler}`, async () => {
          expectSuccess(await build(name, compiler), `tsc (${compiler}) failed`);
        });

        it(`withLock through spin and pub/sub, built by ${compiler}`, async () => {
          const result = await runBuilt(name, compiler, 'with-lock.js');
          expectSuccess(result, 'with-lock.js failed');
          expect(JSON.parse(result.stdout)).toMatchObject({ mostInside: 1, tryOnce: 'LockNotAcquiredError' });
        });

        it(`@DistributedLock on a class method, built by ${compiler}`, async () => {
          const result = await runBuilt(name, compiler, 'decorated.js');
          expectSuccess(result, 'decorated.js failed');
          expect(JSON.parse(result.stdout)).toMatchObject({ stock: 0, secondOrder: 'LockNotAcquiredError' });
        });
      }

      it("@dlock/core's types under TypeScript 5.9's default `types`", async () => {
        const dir = await installed(name);
        expectSuccess(await tsc(dir, 'TypeScript 5.9', 'tsconfig.default-types.json'), 'tsc failed');
      });

      it("@dlock/core's types under the newest TypeScript's default `types` ([])", async () => {
        const dir = await installed(name);
        expectSuccess(await tsc(dir, 'the newest TypeScript', 'tsconfig.default-types.json'), 'tsc failed');
      });
    });
  }
});

describe.concurrent('CommonJS + experimentalDecorators + TypeORM', () => {
  for (const name of ['cjs-typeorm0.3', 'cjs-typeorm1'] as const) {
    describe(name, () => {
      it('installs from the tarballs alone', async () => {
        const { packages } = await installedLockfile(name);
        const typeorm = packages['node_modules/typeorm']?.version ?? '';
        expect(typeorm.startsWith(name === 'cjs-typeorm0.3' ? '0.3.' : '1.')).toBe(true);
      });

      for (const compiler of Object.keys(compilers) as Compiler[]) {
        it(`compiles with ${compiler}`, async () => {
          expectSuccess(await build(name, compiler), `tsc (${compiler}) failed`);
        });

        it(`@DistributedLock and withLock through @dlock/mysql, built by ${compiler}`, async () => {
          const result = await runBuilt(name, compiler, 'main.js');
          expectSuccess(result, 'main.js failed');
          expect(JSON.parse(result.stdout)).toMatchObject({
            stock: 0,
            tryOnce: 'LockNotAcquiredError',
            decoratedKey: 'stock:{0}',
            typeormMetadata: true,
          });
        });
      }
    });
  }
});
