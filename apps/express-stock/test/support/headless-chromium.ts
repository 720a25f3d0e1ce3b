import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (Playwright's own browser download cannot work here), or undefined. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

/**
 * Say why a browser test is skipped, once, when there is no Chromium.
 *
 * @example
 * warnIfNoChromium('race-page');
 */
export function warnIfNoChromium(test: string): void {
  if (CHROMIUM) return;
  console.warn(
    `${test} test SKIPPED: no Chromium at /usr/bin/chromium. Install it with ` +
      '`apt-get install -y chromium` (scripts/ensure-services.sh does in CI).',
  );
}

/**
 * Headless Debian Chromium, quiet: no sandbox (containers), no GPU, no background traffic.
 *
 * @example
 * const browser = await launchHeadlessChromium();
 */
export function launchHeadlessChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
