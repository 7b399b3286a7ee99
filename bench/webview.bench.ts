/**
 * Panels in headless Chromium: the feature browser with 131,072 latents and the split tree with 5,000
 * nodes (all expanded). Per case: first paint (host message posted → rows/nodes on screen, two frames
 * later) and frames per second while scrolling (browser) or zooming (tree), with the 95th-percentile
 * frame time. Baselines in the same run: the same panel with 1,024 latents / 500 nodes, so the ratio
 * shows what size costs. Medians of 3 runs. One JSON line per case.
 *   npm run bench -- webview
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { encodeModel } from '../src/views/codec';
import { launch, watchedPage } from '../test/webview/browser';
import { openPanel } from '../test/webview/harness';
import { bigDictionary, splitTreeModel } from '../test/webview/models';

const ROOT = join(__dirname, '..');
const RUNS = 3;
const FRAMES = 120;

interface Measure { firstPaintMs: number; fps: number; p95FrameMs: number; domRows: number }

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(browser: Browser, panel: 'features' | 'splitTree', payload: string, state?: unknown): Promise<Measure> {
  const { page, problems } = await watchedPage(browser, 1280, 900);
  await openPanel(page, panel);
  // Decode outside the timed region: in VS Code the payload arrives already structured-cloned.
  await page.evaluate(([text, st]) => {
    const w = window as unknown as { __payload: unknown; __decode(t: string): unknown; __state: unknown };
    w.__payload = w.__decode(text);
    if (st) w.__state = JSON.parse(st);
  }, [payload, state ? JSON.stringify(state) : ''] as const);
  const selector = panel === 'features' ? '.vtable-row' : 'g.node';
  const firstPaintMs = await page.evaluate((sel) => new Promise<number>((resolve) => {
    const t0 = performance.now();
    window.postMessage({ kind: 'event', type: 'load', payload: (window as unknown as { __payload: unknown }).__payload }, '*');
    const wait = (): void => {
      if (document.querySelector(sel)) requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
      else setTimeout(wait, 1);
    };
    wait();
  }), selector);
  const frames = await page.evaluate(([p, n]) => new Promise<number[]>((resolve) => {
    const times: number[] = [];
    const viewport = document.querySelector<HTMLElement>('.vtable-viewport');
    const svg = document.querySelector<SVGSVGElement>('.tree-svg');
    let last = performance.now(), i = 0;
    const step = (now: number): void => {
      times.push(now - last);
      last = now;
      if (p === 'features' && viewport) viewport.scrollTop += 1800; // a fast fling: ~75 rows per frame
      else if (svg) {
        const r = svg.getBoundingClientRect();
        svg.dispatchEvent(new WheelEvent('wheel', { deltaY: i % 40 < 20 ? 40 : -40, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
      }
      if (++i < n) requestAnimationFrame(step); else resolve(times.slice(2));
    };
    requestAnimationFrame(step);
  }), [panel, FRAMES] as const);
  const total = frames.reduce((a, b) => a + b, 0);
  const sorted = [...frames].sort((a, b) => a - b);
  const domRows = await page.locator(selector).count();
  if (problems.length) throw new Error(problems.join('; '));
  await page.close();
  return { firstPaintMs, fps: (frames.length * 1000) / total, p95FrameMs: sorted[Math.floor(sorted.length * 0.95)]!, domRows };
}

async function runCase(browser: Browser, panel: 'features' | 'splitTree', payload: string, state?: unknown): Promise<Measure> {
  const runs: Measure[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await measure(browser, panel, payload, state));
  return {
    firstPaintMs: median(runs.map((m) => m.firstPaintMs)), fps: median(runs.map((m) => m.fps)),
    p95FrameMs: median(runs.map((m) => m.p95FrameMs)), domRows: runs[0]!.domRows,
  };
}

const round = (v: number): number => Math.round(v * 10) / 10;

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'webviews', 'features.js'))) {
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: ROOT });
    if (b.status !== 0) throw new Error('build failed');
  }
  const browser = await launch();
  try {
    const args = { saeDirs: ['/bench'] };
    const browserPayload = (n: number): string => encodeModel({ model: bigDictionary(n), args });
    await measure(browser, 'features', browserPayload(1024)); // warm-up (fonts, caches), not reported
    const base = await runCase(browser, 'features', browserPayload(1024));
    const big = await runCase(browser, 'features', browserPayload(131072));
    console.log(JSON.stringify({
      case: 'feature-browser-131072', latents: 131072, firstPaintMs: round(big.firstPaintMs), scrollFps: round(big.fps), p95FrameMs: round(big.p95FrameMs), domRows: big.domRows,
      baseline: 'feature-browser-1024', baselineFirstPaintMs: round(base.firstPaintMs), baselineScrollFps: round(base.fps), ratio: round(big.firstPaintMs / base.firstPaintMs), fpsRatio: round(big.fps / base.fps),
    }));
    const expanded = { args, view: { collapsed: [], query: '' } };
    const treePayload = (n: number): string => encodeModel({ model: splitTreeModel(n), args });
    const tBase = await runCase(browser, 'splitTree', treePayload(500), expanded);
    const tBig = await runCase(browser, 'splitTree', treePayload(5000), expanded);
    console.log(JSON.stringify({
      case: 'split-tree-5000', nodes: 5000, firstPaintMs: round(tBig.firstPaintMs), zoomFps: round(tBig.fps), p95FrameMs: round(tBig.p95FrameMs), domNodes: tBig.domRows,
      baseline: 'split-tree-500', baselineFirstPaintMs: round(tBase.firstPaintMs), baselineZoomFps: round(tBase.fps), ratio: round(tBig.firstPaintMs / tBase.firstPaintMs), fpsRatio: round(tBig.fps / tBase.fps),
    }));
  } finally {
    await browser.close();
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
