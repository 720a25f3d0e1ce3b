import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileCounter, runWorkers } from '@dlock/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MYSQL_URL, uniqueSuffix } from './support/mysql-test-support.js';

const WORKERS = 4;
const ITERATIONS = 25;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'dlock-mysql-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('mutual exclusion across OS processes', () => {
  it(`${WORKERS} processes x ${ITERATIONS} increments of a non-atomic file counter end exact`, async () => {
    const counterFile = join(directory, 'counter');
    await writeFile(counterFile, '0');
    const results = await runWorkers(WORKERS, {
      script: fileURLToPath(new URL('./workers/counter-worker.ts', import.meta.url)),
      env: {
        MYSQL_URL,
        KEY_PREFIX: `proc-${uniqueSuffix()}:`,
        LOCK_KEY: 'counter',
        COUNTER_FILE: counterFile,
        ITERATIONS: String(ITERATIONS),
      },
      timeoutMs: 90_000,
    });
    for (const result of results) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`done ${ITERATIONS}`);
    }
    expect(await readFileCounter(counterFile)).toBe(WORKERS * ITERATIONS);
  }, 120_000);
});
