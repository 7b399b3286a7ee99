/**
 * Headless Chromium for the webview tests and benchmarks (Debian's /usr/bin/chromium via playwright-core).
 * Pages collect console errors, page errors and CSP violations so tests can assert there are none.
 */
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

export interface WatchedPage { page: Page; problems: string[] }

export async function watchedPage(browser: Browser, width = 1200, height = 900): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems: string[] = [];
  // tsx compiles functions passed to page.evaluate with esbuild's keepNames, which calls __name().
  await page.addInitScript('self.__name = (f) => f;');
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // Nothing may leave the page: every request that is not the page itself is a failure.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('http://127.0.0.1') || url.startsWith('http://localhost')) return route.continue();
    problems.push(`network: ${url}`);
    return route.abort();
  });
  return { page, problems };
}
