/**
 * The atom map. (1) Layout of `m` atoms × d_in 768 (clustered random directions) in one process per case:
 * wall time and peak RSS of the full layout (PCA to 64 dims, exact cosine neighbours, UMAP), against a
 * PCA projection to 2-D of the same atoms (the floor) in the same process. (2) In headless Chromium: first
 * paint of a 131,072-point map whose layout is cached (load message posted → canvas drawn, two frames
 * later) and frames per second while panning, against a 1,024-point map in the same run.
 *   npm run bench -- atommap            ATOMMAP_BENCH_SIZES=16384,131072 (default) ATOMMAP_BENCH_WEBVIEW=0 to skip (2)
 */
import { spawnSync } from 'node:child_process';
import { fastMatmulEngine } from '../src/compute/fastMatmul';
import { layoutAtoms, pcaLayout } from '../src/views/atomLayout';
import type { AtomMapModel } from '../src/protocol/viewModels';
import { encodeModel } from '../src/views/codec';
import { seededRandom } from '../src/util/random';
import { launch, watchedPage } from '../test/webview/browser';
import { openPanel } from '../test/webview/harness';

const D = 768;

function clusteredAtoms(m: number, d: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: Math.max(1, Math.round(m / 64)) }, () => Float32Array.from({ length: d }, gauss));
  const w = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    const c = centres[i % centres.length]!;
    for (let j = 0; j < d; j++) w[i * d + j] = c[j]! + 0.8 * gauss();
  }
  return w;
}

function layoutCase(m: number): void {
  const w = clusteredAtoms(m, D, 1);
  let t = performance.now();
  pcaLayout(w, m, D);
  const pcaSeconds = (performance.now() - t) / 1000;
  const stages: Record<string, number> = {};
  t = performance.now();
  let last = t;
  let stage = '';
  layoutAtoms(w, m, D, { seed: 0, onProgress: (s) => { if (s !== stage) { const now = performance.now(); if (stage) stages[stage] = (now - last) / 1000; stage = s; last = now; } } });
  const now = performance.now();
  stages[stage] = (now - last) / 1000;
  const seconds = (now - t) / 1000;
  console.log(JSON.stringify({
    case: `atommap layout ${m}x${D}`, engine: fastMatmulEngine(), seconds: Math.round(seconds * 10) / 10,
    stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    baseline: 'PCA to 2-D, same atoms, same process', baselineSeconds: Math.round(pcaSeconds * 100) / 100,
    ratio: Math.round((seconds / pcaSeconds) * 10) / 10, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
}

function mapModel(count: number): AtomMapModel {
  const r = seededRandom(2);
  return {
    saes: [{ name: 'bench', dir: '/tmp/bench', width: count, offset: 0 }], count,
    xy: Float32Array.from({ length: 2 * count }, () => r() * 2 - 1),
    density: Float32Array.from({ length: count }, () => 10 ** (-5 + 4 * r())),
    flags: new Uint16Array(count), family: new Int32Array(count).fill(-1), groundTruthCos: new Float32Array(count).fill(NaN),
    labels: { latents: new Int32Array(0), texts: [] }, tag: new Int16Array(count).fill(-1), tagNames: [],
    pairs: { a: new Int32Array(0), b: new Int32Array(0), dense: new Uint8Array(0) }, notes: [], layout: { seed: 0, neighbors: 15, epochs: 200, cached: true },
  };
}

async function webviewCases(): Promise<void> {
  const browser = await launch();
  try {
    const measure = async (count: number): Promise<{ firstPaintMs: number; fps: number; p95FrameMs: number }> => {
      const { page, problems } = await watchedPage(browser, 1280, 900);
      await openPanel(page, 'atomMap');
      await page.evaluate((text) => { const w = window as unknown as { __payload: unknown; __decode(t: string): unknown }; w.__payload = w.__decode(text); }, encodeModel({ model: mapModel(count), args: { saeDirs: ['/tmp/bench'] } }));
      const firstPaintMs = await page.evaluate(() => new Promise<number>((resolve) => {
        const t0 = performance.now();
        window.postMessage({ kind: 'event', type: 'load', payload: (window as unknown as { __payload: unknown }).__payload }, '*');
        const wait = (): void => { if (document.querySelector('canvas.atom-canvas')) requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0))); else setTimeout(wait, 1); };
        wait();
      }));
      // pan: drag across the canvas, one pointer move per frame
      const box = (await page.locator('canvas.atom-canvas').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      const frames: number[] = [];
      for (let i = 0; i < 60; i++) {
        const t = await page.evaluate(() => new Promise<number>((res) => { const a = performance.now(); requestAnimationFrame(() => res(performance.now() - a)); }));
        await page.mouse.move(box.x + box.width / 2 + (i % 20) * 8 - 80, box.y + box.height / 2 + (i % 10) * 4);
        frames.push(t);
      }
      await page.mouse.up();
      const timed = await page.evaluate(() => new Promise<number[]>((resolve) => {
        const c = document.querySelector('canvas.atom-canvas')!;
        const times: number[] = []; let last = performance.now(); let i = 0;
        const step = (now: number): void => {
          times.push(now - last); last = now;
          c.dispatchEvent(new WheelEvent('wheel', { deltaY: i % 30 < 15 ? 30 : -30, clientX: 400, clientY: 300, bubbles: true, cancelable: true }));
          if (++i < 90) requestAnimationFrame(step); else resolve(times.slice(2));
        };
        requestAnimationFrame(step);
      }));
      if (problems.length) throw new Error(problems.join('; '));
      await page.close();
      const sorted = [...timed].sort((a, b) => a - b);
      return { firstPaintMs: Math.round(firstPaintMs), fps: Math.round((timed.length * 1000) / timed.reduce((a, b) => a + b, 0) * 10) / 10, p95FrameMs: Math.round(sorted[Math.floor(sorted.length * 0.95)]! * 10) / 10 };
    };
    const base = await measure(1024);
    const big = await measure(131072);
    console.log(JSON.stringify({ case: 'atommap webview 131072 points, cached layout (zooming)', ...big, baseline: '1,024 points, same run', baselineFirstPaintMs: base.firstPaintMs, baselineFps: base.fps, ratioFirstPaint: Math.round((big.firstPaintMs / base.firstPaintMs) * 10) / 10 }));
  } finally {
    await browser.close();
  }
}

if (process.argv[2] === 'layout') layoutCase(Number(process.argv[3]));
else {
  for (const m of (process.env.ATOMMAP_BENCH_SIZES ?? '16384,131072').split(',').filter(Boolean).map(Number)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, 'layout', String(m)], { stdio: 'inherit' });
    if (r.status !== 0) console.log(JSON.stringify({ case: `atommap layout ${m}x${D}`, error: `exited with ${r.status}` }));
  }
  if (process.env.ATOMMAP_BENCH_WEBVIEW !== '0') void webviewCases();
}
