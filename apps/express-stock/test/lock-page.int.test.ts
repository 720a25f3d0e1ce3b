import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, startAppProcess } from '../src/demo/app-process.js';
import { CHROMIUM, launchHeadlessChromium, warnIfNoChromium } from './support/headless-chromium.js';
import { connectTestDataSource, dropTables, testConfig } from './support/test-stores.js';

// The live lock page (/locks) in a real headless Chromium (Debian's package; never a downloaded
// browser): a lock held by ANOTHER OS process on the app's Redis shows up with that process's pid
// and host (the owner record the Redis acquire script wrote) and a lease that counts down.
const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url));
const WORKER = fileURLToPath(new URL('./workers/hold-lock-worker.ts', import.meta.url));
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

warnIfNoChromium('lock-page');

/** Start the holder process and wait until it holds `key`. */
async function startHolder(redisUrl: string, key: string): Promise<{ child: ChildProcess; pid: number }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@dlock/source', '--import', TSX_LOADER, WORKER, redisUrl, key, 'LockPageTest.hold'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holder did not take ${key}:\n${output}`)), 30_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /"held":true,"pid":(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited with ${code} before taking ${key}:\n${output}`));
    });
  });
  return { child, pid };
}

async function stopHolder(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  child.kill('SIGTERM');
  await exited;
  clearTimeout(killTimer);
}

describe.skipIf(!CHROMIUM)('GET /locks (the live lock page) in headless Chromium', () => {
  const config = testConfig();
  // A stock key (the app's pub/sub namespace) no other test uses.
  const key = `stock:lock-page-${randomBytes(4).toString('hex')}`;
  let server: AppProcess;
  let holder: { child: ChildProcess; pid: number } | undefined;
  let browser: Browser;

  beforeAll(async () => {
    server = await startAppProcess({ TABLE_PREFIX: config.tablePrefix, LOG_LEVEL: 'info' });
    holder = await startHolder(config.redisUrl, key);
    browser = await launchHeadlessChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stopHolder(holder?.child);
    await server?.stop('SIGTERM');
    const dataSource = await connectTestDataSource(config);
    await dropTables(dataSource, config.tablePrefix);
    await dataSource.destroy();
  });

  it("shows the other process's lock with its pid, host, app, method and a lease countdown", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 600 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}/locks`);
    await page.waitForSelector('body[data-state=live]', { timeout: 30_000 });
    const row = page.locator(`tr[data-key="${key}"]`);
    await row.waitFor({ timeout: 30_000 });

    const text = async (name: string) => ((await row.locator(`td.${name}`).textContent()) ?? '').trim();
    const owner = await text('owner');
    expect(owner).toContain(`pid ${holder!.pid}`);
    expect(owner).toContain(`on ${hostname()}`);
    expect(owner).toContain('lock-page-holder');
    expect(holder!.pid).not.toBe(server.pid);
    expect(await text('label')).toBe('LockPageTest.hold');
    expect(await text('held-for')).toMatch(/^\d+(\.\d)? s$/);

    // The lease counts down between server updates (and jumps back up when the holder renews).
    const leaseSeconds = async () => {
      const match = /^(\d+(?:\.\d)?) s$/.exec(await text('lease'));
      expect(match, 'lease cell shows seconds').not.toBeNull();
      return Number(match![1]);
    };
    const first = await leaseSeconds();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(6);
    await expect.poll(leaseSeconds, { timeout: 10_000, interval: 100 }).not.toBe(first);

    await mkdir(RESULTS_DIR, { recursive: true });
    const path = `${RESULTS_DIR}lock-page.png`;
    await page.screenshot({ path, fullPage: true });
    const png = await readFile(path);
    expect(png.length).toBeGreaterThan(PNG_SIGNATURE.length);
    expect(png.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)).toBe(true);
    expect(pageErrors).toEqual([]);

    // Released by its holder: the row goes away.
    await stopHolder(holder?.child);
    await row.waitFor({ state: 'detached', timeout: 30_000 });
  });
});
