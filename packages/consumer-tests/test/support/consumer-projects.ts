// The consumer projects: every published package packed, fresh npm projects made from the fixtures
// and installed from the tarballs, compiled by each TypeScript and run.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), 'dlock-consumers-'));
const runPrefix = `dlock-consumer-${process.pid}-${Date.now()}`;
const childEnv = {
  ...process.env,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  MYSQL_URL: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  DLOCK_CONSUMER_PREFIX: runPrefix,
  NODE_OPTIONS: '',
};

let failed = false;

/** Delete the consumer projects, or keep them (and say where) after a failure or with DLOCK_KEEP_CONSUMERS. */
export function cleanUpConsumerProjects(): void {
  if (failed || process.env.DLOCK_KEEP_CONSUMERS) console.log(`consumer projects kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 180_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: childEnv, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? '') });
      },
    );
  });
}

async function succeed(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    failed = true;
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

function once<T>(create: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= create();
    return promise;
  };
}

interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
  readonly manifest: Record<string, unknown>;
}

/** The published packages: the fixed group of the changeset config, found under packages/. */
function publishedPackages(): WorkspacePackage[] {
  const config = JSON.parse(readFileSync(join(repoRoot, '.changeset/config.json'), 'utf8')) as {
    fixed: string[][];
  };
  const names = new Set(config.fixed.flat());
  const found: WorkspacePackage[] = [];
  for (const entry of readdirSync(join(repoRoot, 'packages'))) {
    const file = join(repoRoot, 'packages', entry, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (names.has(String(manifest.name))) found.push({ name: String(manifest.name), dir: entry, manifest });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** The packages the changeset config publishes. */
export const published = publishedPackages();

/** `pnpm pack` of every published package, in parallel: package name -> unpacked directory and tarball. */
export const packAll = once(async () => {
  const destination = join(workDir, 'tarballs');
  mkdirSync(destination, { recursive: true });
  const packed = await Promise.all(
    published.map(async (pkg) => {
      const packageDir = join(repoRoot, 'packages', pkg.dir);
      if (!existsSync(join(packageDir, 'dist'))) {
        throw new Error(`${pkg.name} has no dist/: run "pnpm build" first (pnpm test:consumers does).`);
      }
      const output = await succeed('pnpm', ['pack', '--pack-destination', destination], packageDir);
      const tarball = output.trim().split('\n').pop()?.trim() ?? '';
      const unpacked = join(workDir, 'unpacked', pkg.dir);
      mkdirSync(unpacked, { recursive: true });
      await succeed('tar', ['xzf', tarball, '-C', unpacked], workDir);
      return [pkg.name, { tarball, root: join(unpacked, 'package') }] as const;
    }),
  );
  return new Map(packed);
});

interface ProjectSpec {
  readonly fixture: 'esm-redis' | 'cjs-typeorm';
  readonly dlock: readonly string[];
  readonly dependencies: Readonly<Record<string, string>>;
}

/** The TypeScript versions every project is compiled with: label -> npm alias installed in it. */
export const compilers = {
  'TypeScript 5.9': 'typescript-5.9',
  'the newest TypeScript': 'typescript-latest',
} as const;
export type Compiler = keyof typeof compilers;

const redisPackages = ['@dlock/core', '@dlock/redis-common', '@dlock/redis-spin', '@dlock/redis-pubsub'];
const projects = {
  'esm-ioredis5': {
    fixture: 'esm-redis',
    dlock: redisPackages,
    dependencies: { ioredis: '^5.4.0' },
  },
  'esm-ioredis6': {
    fixture: 'esm-redis',
    dlock: redisPackages,
    dependencies: { ioredis: '^6.0.0' },
  },
  'cjs-typeorm0.3': {
    fixture: 'cjs-typeorm',
    dlock: ['@dlock/core', '@dlock/mysql'],
    dependencies: { typeorm: '^0.3.17', mysql2: '^3.15.3', 'reflect-metadata': '^0.2.2' },
  },
  'cjs-typeorm1': {
    fixture: 'cjs-typeorm',
    dlock: ['@dlock/core', '@dlock/mysql'],
    dependencies: { typeorm: '^1.0.0', mysql2: '^3.15.3', 'reflect-metadata': '^0.2.2' },
  },
} satisfies Record<string, ProjectSpec>;
export type ProjectName = keyof typeof projects;

/** One npm install per project, all in parallel; later calls share the first. */
const installs = new Map<ProjectName, () => Promise<string>>(
  (Object.keys(projects) as ProjectName[]).map((name) => [name, once(() => install(name))]),
);

async function install(name: ProjectName): Promise<string> {
  const spec: ProjectSpec = projects[name];
  const packed = await packAll();
  const dir = join(workDir, name);
  cpSync(join(fixtures, spec.fixture), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const dlock = Object.fromEntries(spec.dlock.map((pkg) => [pkg, `file:${packed.get(pkg)?.tarball}`]));
  manifest.dependencies = {
    ...dlock,
    ...spec.dependencies,
    '@types/node': '^20.19.0',
    'typescript-5.9': 'npm:typescript@~5.9.0',
    'typescript-latest': 'npm:typescript@latest',
  };
  // Sibling dependencies (redis-spin -> redis-common) come from the tarballs too, never the registry.
  manifest.overrides = Object.fromEntries(spec.dlock.map((pkg) => [pkg, `$${pkg}`]));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const compiler of Object.values(compilers)) {
    const tsconfig = readFileSync(join(dir, 'tsconfig.json'), 'utf8').replace('OUT_DIR', `dist/${compiler}`);
    writeFileSync(join(dir, `tsconfig.${compiler}.json`), tsconfig);
  }
  await succeed('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], dir);
  return dir;
}

/** The project's directory once npm has installed it (every install starts when this module loads). */
export function installed(name: ProjectName): Promise<string> {
  const start = installs.get(name);
  if (!start) throw new Error(`unknown project ${name}`);
  return start();
}

// Start every install at once; each test awaits only its own project.
for (const start of installs.values()) start().catch(() => undefined);

/** Run the project's copy of `compiler` on `tsconfig`. */
export function tsc(dir: string, compiler: Compiler, tsconfig: string): Promise<RunResult> {
  return run(
    process.execPath,
    [join(dir, 'node_modules', compilers[compiler], 'bin', 'tsc'), '-p', tsconfig],
    dir,
  );
}

const builds = new Map<string, Promise<RunResult>>();
/** The project compiled by `compiler` (once per pair). */
export function build(name: ProjectName, compiler: Compiler): Promise<RunResult> {
  const id = `${name}/${compiler}`;
  let promise = builds.get(id);
  if (!promise) {
    promise = installed(name).then((dir) => tsc(dir, compiler, `tsconfig.${compilers[compiler]}.json`));
    builds.set(id, promise);
  }
  return promise;
}

/** Fail the test (and keep the projects) unless `result` exited 0. */
export function expectSuccess(result: RunResult, what: string): void {
  if (result.code !== 0) failed = true;
  expect(result.code, `${what}\n${result.stdout}\n${result.stderr}`).toBe(0);
}

/** Run a compiled file of the project with Node. */
export async function runBuilt(name: ProjectName, compiler: Compiler, file: string): Promise<RunResult> {
  const compiled = await build(name, compiler);
  expectSuccess(compiled, `tsc (${compiler}) failed`);
  return run(process.execPath, [join('dist', compilers[compiler], file)], await installed(name), 60_000);
}

/** The project's npm lockfile: what got installed, and from where. */
export async function installedLockfile(name: ProjectName): Promise<{
  readonly dir: string;
  readonly packages: Record<string, { resolved?: string; version?: string }>;
}> {
  const dir = await installed(name);
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string; version?: string }>;
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.includes('node_modules/@dlock/')) expect(entry.resolved, path).toMatch(/^file:/);
  }
  return { dir, packages: lock.packages };
}
