/**
 * The tensor-file editor's webview in headless Chromium: the bundle is loaded into a page with a stand-in
 * for acquireVsCodeApi, the host's messages are posted to it, and the DOM is read back. Checks the ready
 * handshake, text-only rendering of names from files, statistics, sorting, filtering, setState and the
 * "Open as SAE" message.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

const root = join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
let browser: Browser | undefined;
let page: Page;

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

before(async () => {
  if (!existsSync(CHROMIUM)) return;
  const built = await esbuild.build({ entryPoints: [join(root, 'webviews', 'tensorEditor', 'main.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false });
  const bundle = built.outputFiles[0]!.text;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage();
  await page.setContent('<!DOCTYPE html><html><body><main id="app"></main></body></html>');
  // Code for the page goes as strings: tsx would wrap functions in helpers that do not exist there.
  await page.evaluate(`window.__posted = []; window.__state = undefined;
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__state, setState: (s) => { window.__state = s; } });`);
  await page.addScriptTag({ content: bundle });
});

after(async () => { await browser?.close(); });

async function post(type: string, payload: unknown): Promise<void> {
  await page.evaluate(`window.postMessage(${JSON.stringify({ kind: 'event', type, payload })}, '*')`);
  await page.waitForTimeout(50);
}

async function posted(): Promise<{ type: string }[]> {
  return page.evaluate('window.__posted') as Promise<{ type: string }[]>;
}

async function names(): Promise<string[]> {
  return page.locator('td.name').allInnerTexts();
}

test('tensor editor webview: handshake, text-only rendering, stats, sort, filter, state, Open as SAE', { skip: !existsSync(CHROMIUM) && 'Chromium is not installed (scripts/ensure-chromium.sh)' }, async () => {
  assert.deepEqual((await posted()).map((m) => m.type), ['tensorEditor/ready']);
  await post('tensorEditor/listing', {
    fileName: `${HOSTILE}.safetensors`,
    listing: { path: '/w/x.safetensors', kind: 'safetensors', metadata: { note: HOSTILE }, tensors: [
      { name: 'W_enc', dtype: 'F32', shape: [16, 64], bytes: 4096 },
      { name: HOSTILE, dtype: 'BF16', shape: [3], bytes: 6 },
      { name: 'b_dec', dtype: 'F32', shape: [16], bytes: 64 },
    ] },
    sae: { dir: '/w', architecture: 'topk', dSae: 64, dIn: 16, k: 4, hookName: 'blocks.8.hook_resid_pre' },
    trusted: true,
  });
  assert.equal(await page.locator('img').count(), 0, 'no element made from file text');
  assert.equal(await page.locator('h1.file-name').innerText(), `${HOSTILE}.safetensors`);
  assert.deepEqual(await names(), [HOSTILE, 'b_dec', 'W_enc']);
  assert.match(await page.locator('.file-header .muted').innerText(), /3 tensors · computing statistics/);
  assert.equal(await page.locator('td.num', { hasText: '4.0 KB' }).count(), 1);

  const stat = (name: string, min: number, max: number, mean: number, nan = 0) => ({ name, dtype: 'F32', shape: [1], min, max, mean, nan, inf: 0 });
  await post('tensorEditor/stats', { report: { path: '/w/x.safetensors', kind: 'safetensors', tensors: [stat('W_enc', -0.5, 0.25, 0.001234), stat(HOSTILE, 0, 1e5, 2, 1), stat('b_dec', 0, 0, 0)], warnings: ['/w/x.safetensors: tensor has 1 NaN'] } });
  assert.doesNotMatch(await page.locator('.file-header .muted').innerText(), /computing/);
  const wEnc = page.locator('tr', { has: page.locator('td.name', { hasText: 'W_enc' }) });
  assert.deepEqual((await wEnc.locator('td').allInnerTexts()).slice(4), ['-0.5000', '0.2500', '0.0012', '0 / 0']);
  assert.equal(await page.locator('tr.nonfinite td.name').innerText(), HOSTILE);
  assert.equal(await page.locator('p.warning').innerText(), 'tensor has 1 NaN');
  assert.equal(await page.evaluate('window.__pwned'), undefined);

  // Sort by max, descending on the second click; the choice is kept with setState.
  await page.locator('th', { hasText: 'Max' }).click();
  assert.deepEqual(await names(), ['b_dec', 'W_enc', HOSTILE]);
  await page.locator('th', { hasText: 'Max' }).click();
  assert.deepEqual(await names(), [HOSTILE, 'W_enc', 'b_dec']);
  await page.locator('#filter').fill('B_');
  assert.deepEqual(await names(), ['b_dec'], 'case-insensitive name filter');
  assert.deepEqual(await page.evaluate('window.__state'), { filter: 'B_', sortKey: 'max', descending: true });

  await page.locator('#open-as-sae').click();
  assert.deepEqual((await posted()).map((m) => m.type), ['tensorEditor/ready', 'tensorEditor/openAsSae']);

  await post('tensorEditor/failed', { message: 'x.safetensors: header length 99 exceeds file size' });
  assert.equal(await page.locator('p.error').innerText(), 'x.safetensors: header length 99 exceeds file size');
});
