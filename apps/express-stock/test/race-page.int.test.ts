import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, startAppProcess } from '../src/demo/app-process.js';
import { CHROMIUM, launchHeadlessChromium, warnIfNoChromium } from './support/headless-chromium.js';
import { connectTestDataSource, dropTables, testConfig } from './support/test-stores.js';

// The race page in a real headless Chromium (Debian's package; never a downloaded browser),
// driving two real app servers.
const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url));
const STOCK = 30;

warnIfNoChromium('race-page');

describe.skipIf(!CHROMIUM)('GET / (the race page) in headless Chromium', () => {
  const config = testConfig();
  let servers: AppProcess[] = [];
  let browser: Browser;

  beforeAll(async () => {
    const env = {
      TABLE_PREFIX: config.tablePrefix,
      STOCK_WORK_MS: '20',
      STOCK_LOCK_WAIT_MS: '30000',
      LOG_LEVEL: 'info',
    };
    servers = await Promise.all([startAppProcess(env), startAppProcess(env)]);
    browser = await launchHeadlessChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.stop('SIGTERM')));
    const dataSource = await connectTestDataSource(config);
    await dropTables(dataSource, config.tablePrefix);
    await dataSource.destroy();
  });

  it('runs every strategy against both servers and shows the final stock and lost updates', async () => {
    const [first, second] = servers as [AppProcess, AppProcess];
    const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${first.url}/?peer=${encodeURIComponent(second.url)}`);
    expect(await page.inputValue('input[name=peer]')).toBe(second.url);
    await page.fill('input[name=stock]', String(STOCK));
    await page.selectOption('select[name=strategy]', 'all');
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-state=done]', { timeout: 90_000 });

    await mkdir(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: `${RESULTS_DIR}race-page.png`, fullPage: true });

    const cells = async (strategy: string) => {
      const row = page.locator(`tr[data-strategy="${strategy}"]`);
      const text = async (name: string) => (await row.locator(`td.${name}`).textContent())?.trim();
      return {
        final: Number(await text('final')),
        sold: Number(await text('sold')),
        lost: Number(await text('lost')),
        verdict: await text('verdict'),
      };
    };
    for (const strategy of ['mysql', 'spin', 'pubsub']) {
      expect(await cells(strategy), strategy).toEqual({ final: 0, sold: STOCK, lost: 0, verdict: 'exact' });
    }
    // Without a lock, every request "sold" an item, yet the stock did not fall by as many.
    const none = await cells('none');
    expect(none.sold).toBe(STOCK);
    expect(none.lost).toBeGreaterThan(0);
    expect(none.final).toBe(none.lost);
    expect(none.verdict).toBe('wrong (expected)');
    // One line per strategy was drawn.
    expect(await page.locator('#chart polyline').count()).toBe(5);
    expect(pageErrors).toEqual([]);
  });
});
