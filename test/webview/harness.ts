/**
 * A stand-in for VS Code's webview: a page with the same strict CSP as the panel controllers (nonce'd
 * script, styles and fonts only from the bundle folder), a stubbed acquireVsCodeApi that records what
 * the webview posts, and helpers to push host messages (typed arrays travel through codec.ts's encoding).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { encodeModel } from '../../src/views/codec';

export const ROOT = join(__dirname, '..', '..');
export const ARTIFACTS = join(ROOT, '.test-artifacts');
const DIST = join(ROOT, 'dist', 'webviews');

const STUB = `
window.__posted = [];
window.__state = undefined;
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__posted.push(m),
  getState: () => window.__state,
  setState: (s) => { window.__state = s; },
});
window.__decode = (text) => JSON.parse(text, (k, v) => {
  if (v && typeof v === 'object' && typeof v.$typed === 'string') {
    const s = atob(v.b64); const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return new self[v.$typed](b.buffer);
  }
  if (v && typeof v === 'object' && typeof v.$num === 'string') return Number(v.$num);
  return v;
});
window.__host = (type, text) => window.postMessage({ kind: 'event', type, payload: window.__decode(text) }, '*');
`;

/** Writes the harness page for a panel bundle and returns its file URL. */
export type Theme = 'dark' | 'light' | 'high-contrast';

export function harnessUrl(panel: string, theme: Theme): string {
  const dir = join(ARTIFACTS, 'harness');
  mkdirSync(dir, { recursive: true });
  const nonce = 'dGVzdC1ub25jZQ';
  const distUrl = pathToFileURL(DIST).href;
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src file:; font-src file:; script-src 'nonce-${nonce}'">
<link rel="stylesheet" href="${distUrl}/${panel}.css">
<link rel="stylesheet" href="${pathToFileURL(join(ROOT, 'media', 'standalone.css')).href}">
</head><body class="vscode-${theme}"><div id="root"></div>
<script nonce="${nonce}">${STUB}</script>
<script nonce="${nonce}" src="${distUrl}/${panel}.js"></script></body></html>`;
  const file = join(dir, `${panel}-${theme}.html`);
  writeFileSync(file, html);
  return pathToFileURL(file).href;
}

/** Opens a panel and waits for its ready handshake. */
export async function openPanel(page: Page, panel: string, theme: Theme = 'dark'): Promise<void> {
  await page.goto(harnessUrl(panel, theme));
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
}

/** Sends a host event with any payload (typed arrays included). */
export async function hostEvent(page: Page, type: string, payload: unknown): Promise<void> {
  await page.evaluate(([t, text]) => (window as unknown as { __host(t: string, x: string): void }).__host(t, text), [type, encodeModel(payload)] as const);
}

export interface Posted { kind: string; type?: string; id?: number; payload?: unknown }

export async function posted(page: Page): Promise<Posted[]> {
  return page.evaluate(() => (window as unknown as { __posted: Posted[] }).__posted);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
