/**
 * The report path end to end: the analysis numbers against an independent dense computation, bad
 * inputs, the `report` command, and the written HTML opened in Chromium with no network, no CSP
 * violation, working tabs and inert hostile strings. Screenshots of the report go to .test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { run } from '../helpers/cli';
import { runDemo } from '../../src/cli/commands/demo';
import { generate, readGroundTruth, writeSynthetic } from '../../src/synthetic';
import { saveSaeLens } from '../../src/formats/saelens';
import { forward } from '../../src/sae/forward';
import { writeNpy } from '../../src/io/npy';
import { readActivationSample } from '../../src/views/activations';
import { rowTextFor } from '../../src/tokens/rows';
import { analyse, basicFlags, maxDecoderCosine } from '../../src/views/sparsePass';
import { featureModel } from '../../src/views/panelBuilders';
import { decodeModel, encodeModel } from '../../src/views/codec';
import { readTrainingLog } from '../../src/views/trainingLog';
import { splitLatentsOf, splitTreeModel } from '../../src/views/splitTreePanel';
import { Worker } from 'node:worker_threads';
import { MessageHandler } from '../../src/runtime/rpc';
import type { PanelDataRequests } from '../../src/protocol/panelData';
import type { DictionaryModel, ReportModel } from '../../src/protocol/viewModels';
import { FLAG } from '../../src/protocol/viewModels';
import { launch, watchedPage } from './browser';
import { passOf } from '../helpers/featurePass';
import { makeFixture, writeFixture } from './fixtures';
import { ARTIFACTS } from './harness';

let browser: Browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The CLI in-process; stderr as the user would read it. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await run(args);
  return { code: r.code, stderr: r.err };
}

describe('analysis', () => {
  const f = makeFixture(12, 40, 512, 20, 5);
  const dir = mkdtempSync(join(tmpdir(), 'analysis-'));
  const p = writeFixture(dir, f);
  const a = analyse(f.sae, readActivationSample(p.activations, 10_000, f.dIn));

  it('matches a dense computation of EV, L0, density and max activation', () => {
    const { codes, recon } = forward(f.sae, f.x, f.n);
    let sse = 0, sumSq = 0, active = 0;
    const mean = new Float64Array(f.dIn), fires = new Float64Array(f.dSae), max = new Float64Array(f.dSae);
    for (let r = 0; r < f.n; r++) {
      for (let j = 0; j < f.dIn; j++) { const x = f.x[r * f.dIn + j]!; sse += (x - recon[r * f.dIn + j]!) ** 2; sumSq += x * x; mean[j]! += x / f.n; }
      for (let i = 0; i < f.dSae; i++) { const c = codes[r * f.dSae + i]!; if (c > 0) { active++; fires[i]! += 1; max[i] = Math.max(max[i]!, c); } }
    }
    const ev = 1 - (sse / f.n) / (sumSq / f.n - mean.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(a.metrics.explainedVariance - ev) < 1e-4, `${a.metrics.explainedVariance} vs ${ev}`);
    assert.ok(Math.abs(a.metrics.l0 - active / f.n) < 1e-9);
    for (let i = 0; i < f.dSae; i++) {
      assert.ok(Math.abs(a.density[i]! - fires[i]! / f.n) < 1e-6);
      assert.ok(Math.abs(a.maxActivation[i]! - max[i]!) < 1e-6);
    }
    assert.equal(a.density[f.dSae - 1], 0, 'the dead atom is dead');
    assert.ok(a.density[f.dSae - 2]! > 0.1, 'the dense atom is dense');
    const flags = basicFlags(a);
    assert.equal(flags[f.dSae - 1]! & 1, 1);
    assert.equal(flags[f.dSae - 2]! & 2, 2);
  });

  it('finds nearest atoms by decoder cosine and max cosine exactly, and a lower bound when sampled', () => {
    const d = f.dIn;
    const cos = (i: number, j: number): number => { let s = 0; for (let k = 0; k < d; k++) s += a.unitAtoms[i * d + k]! * a.unitAtoms[j * d + k]!; return s; };
    const latent = 2;
    const best = [...Array(f.dSae).keys()].filter((j) => j !== latent).sort((x, y) => cos(latent, y) - cos(latent, x))[0]!;
    const page = featureModel(a, latent, basicFlags(a), passOf(a));
    assert.equal(page.nearestByDecoder.latents[0], best);
    const exact = maxDecoderCosine(a.unitAtoms, f.dSae, d);
    assert.ok(exact.exact);
    assert.ok(Math.abs(exact.value[latent]! - cos(latent, best)) < 1e-5);
    const sampled = maxDecoderCosine(a.unitAtoms, f.dSae, d, f.dSae * d * 5);
    assert.equal(sampled.exact, false);
    for (let i = 0; i < f.dSae; i++) assert.ok(!(sampled.value[i]! > exact.value[i]! + 1e-6), 'a sampled max never exceeds the exact one');
    // top examples come in decreasing order and start at the latent's max
    assert.equal(page.top[0]!.activation, a.maxActivation[latent]);
    for (let t = 1; t < page.top.length; t++) assert.ok(page.top[t]!.activation <= page.top[t - 1]!.activation);
    assert.ok(page.hasTokens && page.top[0]!.tokens!.length > 0);
  });

  it('round-trips typed arrays and non-finite numbers through the report encoding', () => {
    const v = { a: Float32Array.of(1.5, NaN, -Infinity), b: Int32Array.of(-3, 7), c: [Uint8Array.of(255)], d: NaN, s: '</script><b>' };
    const back = decodeModel<typeof v>(encodeModel(v));
    assert.ok(back.a instanceof Float32Array && back.a[0] === 1.5 && Number.isNaN(back.a[1]) && back.a[2] === -Infinity);
    assert.deepEqual(Array.from(back.b), [-3, 7]);
    assert.equal(back.c[0]![0], 255);
    assert.ok(Number.isNaN(back.d));
    assert.equal(back.s, v.s);
  });
});

describe('bad inputs', () => {
  it('refuses a width mismatch, token count mismatch, skips NaN rows, and exits 2 with one line', async () => {
    const f = makeFixture(8, 16, 64, 8, 2);
    const dir = mkdtempSync(join(tmpdir(), 'bad-'));
    const p = writeFixture(dir, f, false);
    const wrong = join(dir, 'wrong.npy');
    writeNpy(wrong, { dtype: 'F32', shape: [10, 9], data: new Float32Array(90) });
    const r = await cli(['report', '--sae', p.saeDir, '--activations', wrong, '--out', join(dir, 'x.html')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /wrong\.npy: activation width 9 does not match the SAE's d_in 8/);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('sae-workbench:')).length, 1, 'one error line');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(join(dir, 'x.html')), false);
    const x = f.x.slice();
    x[3 * 8 + 1] = NaN;
    const nan = join(dir, 'nan.npy');
    writeNpy(nan, { dtype: 'F32', shape: [64, 8], data: x });
    const s = readActivationSample(nan, 100, 8);
    assert.equal(s.n, 63);
    assert.equal(s.skippedNonFinite, 1);
    assert.equal(s.rowIndex[3], 4, 'sample rows keep their file row index');
    writeNpy(join(dir, 'nan.tokens.npy'), { dtype: 'I32', shape: [5], data: new Int32Array(5) });
    assert.throws(() => rowTextFor(nan, 64), /nan\.tokens\.npy: has 5 token ids but .* has 64 rows/);
    const short = await cli(['report', '--sae', p.saeDir, '--activations', nan, '--out', join(dir, 'x.html')]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /nan\.tokens\.npy: has 5 token ids but nan\.npy has 64 rows/);
    const missing = await cli(['report', '--sae', join(dir, 'nope'), '--out', join(dir, 'x.html')]);
    assert.equal(missing.code, 2);
  });

  it('refuses split trees that do not name their nodes', () => {
    assert.throws(() => splitTreeModel({ nodes: [] }, 't.json'), /t\.json: a split tree needs "nodes" and "edges" arrays/);
    assert.throws(() => splitTreeModel({ nodes: [{ sae: 0, latent: 1 }], edges: [{ from: 0, to: 3 }] }, 't.json'), /edges\[0\]\.to: does not name a node/);
    const t = splitTreeModel({ nodes: [{ sae: 0, latent: 1 }, { sae: 1, latent: 2 }, { sae: 1, latent: 3 }], edges: [{ from: 0, to: 1, kind: 'absorbed', cosine: 0.5, containment: 1 }] }, 't.json');
    assert.deepEqual(Array.from(t.nodes.kind), [0, 8, 4], 'absorbed child, novel orphan');
  });

  it('reads a training log leniently', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-'));
    const path = join(dir, 'training_log.jsonl');
    writeFileSync(path, [JSON.stringify({ step: 1, tokens: 10, loss: { mse: 2, l1: 0.5 }, explainedVariance: 0.1, l0: 50, deadFraction: 0 }), 'not json', JSON.stringify({ step: 2, tokens: 20, loss: { mse: 1 }, explained_variance: 0.4, l0: 40 }), ''].join('\n'));
    const r = readTrainingLog(path)!;
    assert.equal(r.skipped, 1);
    assert.deepEqual(Array.from(r.model.step), [1, 2]);
    assert.deepEqual(r.model.loss.map((l) => l.name), ['mse', 'l1']);
    assert.ok(Number.isNaN(r.model.loss[1]!.values[1]!));
    assert.ok(Math.abs(r.model.explainedVariance[1]! - 0.4) < 1e-7);
  });
});

describe('report command', () => {
  it('writes one self-contained HTML file that works offline in Chromium', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const f = makeFixture();
    const p = writeFixture(dir, f);
    writeFileSync(join(p.saeDir, 'training_log.jsonl'), [1, 2, 3].map((s) => JSON.stringify({ step: s * 100, tokens: s * 4096, loss: { mse: 1 / s }, explainedVariance: 1 - 1 / (s + 1), l0: 30 / s, deadFraction: 0.01 * s })).join('\n'));
    const out = join(dir, 'report.html');
    // A split tree in the diagnostics module's shape: SAE 'sae' (this one) and a wider 'wide'.
    const tree = {
      saes: [{ name: 'sae', width: f.dSae }, { name: 'wide', width: 96 }],
      nodes: [{ sae: 'sae', latent: 0, density: 0.4, label: '<script>window.__pwned=4</script>' }, { sae: 'sae', latent: 1, density: 0.1 },
        { sae: 'wide', latent: 0, density: 0.2 }, { sae: 'wide', latent: 5, density: 0.2 }, { sae: 'wide', latent: 9, density: 0.05 }],
      edges: [{ kind: 'split', from: 0, to: 2, cosine: 0.9, containment: 0.95 }, { kind: 'split', from: { sae: 'sae', latent: 0 }, to: { sae: 'wide', latent: 5 }, cosine: 0.8, containment: 0.9 }],
    };
    writeFileSync(join(dir, 'tree.json'), JSON.stringify(tree));
    const r = await cli(['report', '--sae', p.saeDir, '--activations', p.activations, '--out', out, '--features', '12', '--tree', join(dir, 'tree.json')]);
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'/);
    // No external resource in markup or CSS (URLs inside library error messages are text); the browser
    // run below also fails on any network request.
    assert.doesNotMatch(html, /<link |<script [^>]*src=|<img |url\(\s*["']?(https?:|\/\/)|@import/i, 'no external resources');
    assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'the data and the bundle, nothing closes early');
    for (const theme of ['dark', 'light'] as const) {
      const { page, problems } = await watchedPage(browser, 1200, 900);
      await page.goto(pathToFileURL(out).href);
      if (theme === 'light') await page.click('.theme-toggle');
      await page.waitForSelector('.metric');
      assert.equal(await page.locator('.tab').count(), 7, 'overview, latents, feature, atom map, split tree, diagnostics, training');
      assert.match((await page.locator('.gt-reason').textContent())!, /^Not available: no ground_truth\.safetensors beside the activations/);
      await page.screenshot({ path: join(ARTIFACTS, `report-overview-${theme}.png`), fullPage: true });
      await page.click('.tab[data-tab="features"]');
      await page.waitForSelector('.vtable-row');
      await page.locator('.vtable-row[aria-rowindex="1"] .vtable-cell').nth(1).click();
      await page.waitForSelector('.example');
      assert.equal(await page.evaluate(() => location.hash), '#feature/0');
      const tokens = await page.locator('.tok').allTextContents();
      assert.ok(tokens.some((t) => t.includes('<img src=x onerror="window.__pwned=2">')), 'hostile token shown as text');
      await page.screenshot({ path: join(ARTIFACTS, `report-feature-${theme}.png`), fullPage: true });
      await page.click('.tab[data-tab="tree"]');
      await page.waitForSelector('g.node');
      assert.equal(await page.locator('g.node').count(), 6, 'five nodes and the "novel in wide" group');
      assert.equal(await page.locator('g.node.node-split').count(), 1);
      assert.equal(await page.locator('g.node.node-novel').count(), 1, 'wide #9 has no parent');
      if (theme === 'dark') await page.screenshot({ path: join(ARTIFACTS, 'report-tree-dark.png') });
      await page.locator('text.node-label', { hasText: 'window.__pwned=4' }).click();
      assert.equal(await page.evaluate(() => location.hash), '#feature/0');
      await page.click('.tab[data-tab="map"]');
      await page.waitForSelector('main:not([hidden]) canvas.atom-canvas');
      assert.ok(await page.locator('main:not([hidden]) .atom-legend li').count() >= 2, 'the atom map has a legend');
      if (theme === 'dark') await page.screenshot({ path: join(ARTIFACTS, 'report-atommap-dark.png') });
      await page.click('.tab[data-tab="diagnostics"]');
      await page.waitForSelector('text=Per-atom optimality');
      await page.click('.tab[data-tab="training"]');
      await page.waitForSelector('main:not([hidden]) figure.chart svg');
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      assert.deepEqual(problems, []);
      await page.close();
    }
  });
});

describe('report with a ground truth', () => {
  it('shows the ground-truth card in the overview and the closest true feature on feature pages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-gt-'));
    const ds = generate('g1', { seed: 5, tokens: 1024, dIn: 32, features: 24, sparsity: 0.9 });
    const { activations } = writeSynthetic(ds, join(dir, 'data'));
    // an SAE with 16 of the 24 true features as atoms and 8 random ones: partial recovery
    const fx = makeFixture(32, 24, 16, 24, 9).sae;
    const wDec = fx.wDec.slice();
    wDec.set(ds.features.subarray(0, 16 * 32));
    const wEnc = Float32Array.from({ length: 32 * 24 }, (_, k) => wDec[(k % 24) * 32 + Math.floor(k / 24)]!);
    const saeDir = join(dir, 'sae');
    saveSaeLens({ ...fx, wDec, wEnc, bEnc: new Float32Array(24).fill(-0.5) }, saeDir);
    const out = join(dir, 'report.html');
    const r = await cli(['report', '--sae', saeDir, '--activations', activations, '--out', out, '--features', '6']);
    assert.equal(r.code, 0, r.stderr);
    for (const theme of ['dark', 'light'] as const) {
      const { page, problems } = await watchedPage(browser, 1200, 900);
      await page.goto(pathToFileURL(out).href);
      if (theme === 'light') await page.click('.theme-toggle');
      const card = page.locator('section.card', { has: page.locator('h2', { hasText: 'Ground truth' }) });
      await card.waitFor();
      const values = await card.locator('.gt-value').allTextContents();
      assert.equal(values.length, 6);
      assert.ok(Number(values[0]) > 0.6 && Number(values[0]) < 1, `MMCS between partial and full (${values[0]})`);
      assert.match((await card.locator('dd').last().textContent())!, /data\/ground_truth\.safetensors \(found beside the evaluation activations\)/);
      await card.screenshot({ path: join(ARTIFACTS, `report-groundTruth-${theme}.png`) });
      await page.click('.tab[data-tab="features"]');
      await page.waitForSelector('.vtable-row');
      await page.locator('.vtable-row[aria-rowindex="1"] .vtable-cell').nth(1).click();
      await page.waitForSelector('text=closest true feature');
      assert.match((await page.locator('dt:text-is("closest true feature") + dd').textContent())!, /^#\d+ of 24, decoder cosine [\d.]+$/);
      assert.deepEqual(problems, []);
      await page.close();
    }
  });
});

describe('demo', () => {
  it('composes synthesize → train → diagnose → report through its steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-'));
    const calls: string[] = [];
    const r = await runDemo({ outDir: dir, seed: 1, widths: [8, 16, 32], d: 32, rows: 512, trainTokens: 1000, tokens: 256 }, {
      synthesize: async (d) => { calls.push('synthesize'); return writeFixture(d, makeFixture()).activations; },
      trainFamily: async (_acts, d) => { calls.push('train'); return [writeFixture(join(d, 'w'), makeFixture()).saeDir]; },
      diagnose: async (dirs) => { calls.push(`diagnose ${dirs.length}`); return {}; },
    });
    assert.deepEqual(calls, ['synthesize', 'train', 'diagnose 1']);
    assert.ok(readFileSync(r.report, 'utf8').startsWith('<!DOCTYPE html>'));
  });

  it('runs for real at a tiny size: G2+G3 data, three trained widths, split tree, diagnostics, report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-real-'));
    const r = await runDemo({ outDir: dir, seed: 3, widths: [4, 8, 16], d: 32, rows: 2048, trainTokens: 20_000, tokens: 512 });
    assert.equal(r.saeDirs.length, 3);
    const gt = readGroundTruth(join(dir, 'data'));
    assert.equal(gt.nFeatures, 6 * 4 + 16, 'G2 (6 parents × 3 children) + G3 (16 features)');
    assert.equal(gt.hierarchy?.length, 6);
    assert.ok(gt.denseDirection, 'the dense direction is part of the ground truth');
    const html = readFileSync(r.report, 'utf8');
    const data = html.match(/<script type="application\/json"[^>]*>([\s\S]*?)<\/script>/);
    assert.ok(data, 'the report carries its data');
    const model = decodeModel<ReportModel>(data[1]!);
    assert.equal(model.splitTree?.saes.length, 3, 'the split tree spans the three widths');
    assert.deepEqual(model.splitTree?.saes.map((s) => s.width), [4, 8, 16]);
    assert.ok(model.diagnostics?.perAtom && model.diagnostics.spectrum && model.diagnostics.widthGap, 'per-atom, spectrum and width gap from the diagnostics module');
    assert.equal(model.dictionary.card.dSae, 16, 'the report is of the widest SAE');
    assert.ok(r.summary.some((s) => s.startsWith('width 4: decoder MMCS')), 'ground-truth metrics per width');
    const card = model.dictionary.groundTruth;
    assert.equal(card?.foundBy, 'evaluation activations');
    assert.equal(card?.metrics?.features, gt.nFeatures, 'the report carries the ground-truth card');
    assert.ok(r.summary.some((s) => s.includes(`decoder MMCS ${card!.metrics!.mmcs.toFixed(3)}`)), 'the card and the summary agree on the widest SAE');
    assert.ok(model.features.every((p) => p.groundTruth && p.groundTruth.features === gt.nFeatures), 'every feature page names its closest true feature');
    assert.ok(r.summary.some((s) => s.startsWith('split tree across widths 4 → 8 → 16')));
  });
});

describe('panel data worker', () => {
  it('answers dictionary, feature, diagnostics and report requests off the main thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'worker-'));
    const f = makeFixture();
    const p = writeFixture(dir, f);
    const worker = new Worker(join(__dirname, '..', '..', 'dist', 'workers', 'panelData.worker.js'));
    const rpc = new MessageHandler<PanelDataRequests, Record<string, unknown>, Record<string, [unknown, unknown]>, Record<string, unknown>>((m) => worker.postMessage(m));
    worker.on('message', (m) => { void rpc.receive(m); });
    try {
      const dict: DictionaryModel = await rpc.request('dictionary', { saeDir: p.saeDir, activations: p.activations });
      assert.ok(dict.latents.density instanceof Float32Array, 'typed arrays cross as typed arrays');
      assert.equal(dict.latents.count, f.dSae);
      const page = await rpc.request('feature', { saeDir: p.saeDir, latent: 2, activations: p.activations });
      assert.equal(page.latent, 2);
      // once the feature pages' pass has read every row, the browser shows its density: one figure per latent in both panels
      let full = page;
      for (let tries = 0; !full.pass?.complete && tries < 600; tries++) {
        await new Promise((res) => setTimeout(res, 50));
        full = await rpc.request('feature', { saeDir: p.saeDir, latent: 2, activations: p.activations });
      }
      assert.ok(full.pass?.complete, `the pass has read every row: ${JSON.stringify(full.pass)}`);
      const again = await rpc.request('dictionary', { saeDir: p.saeDir, activations: p.activations });
      assert.equal(again.latents.density[2], Math.fround(full.density));
      assert.equal(again.latents.maxActivation[2], Math.fround(full.maxActivation));
      assert.ok(again.notes.some((n) => /over all .* rows .*feature pages' pass/.test(n)), again.notes.join(' | '));
      await assert.rejects(rpc.request('feature', { saeDir: p.saeDir, latent: f.dSae, activations: p.activations }), /latent 48 is out of range/);
      const synth = await rpc.request('synthetic', { kind: 'hierarchy', outDir: join(dir, 'synth'), tokens: 300, seed: 2 });
      assert.equal(readGroundTruth(join(dir, 'synth')).hierarchy?.length, 4, 'G2 written by the worker, read back');
      assert.equal(synth.rows, 300);
      const diag = await rpc.request('diagnostics', { saeDir: p.saeDir, activations: p.activations });
      assert.equal(diag.residualNorms?.values.length, f.n);
      // A narrower SAE on the same activations: its 24 atoms are the wider one's first 24 (the true features).
      const narrow = makeFixture(f.dIn, 24, 16, 24);
      saveSaeLens({ ...narrow.sae, wEnc: Float32Array.from({ length: f.dIn * 24 }, (_, k) => f.sae.wEnc[Math.floor(k / 24) * f.dSae + (k % 24)]!), wDec: f.sae.wDec.slice(0, 24 * f.dIn), bEnc: f.sae.bEnc.slice(0, 24) }, join(dir, 'narrow'));
      const tree = await rpc.request('splitTree', { saeDirs: [p.saeDir, join(dir, 'narrow')], activations: p.activations });
      assert.deepEqual(tree.saes.map((s) => s.width), [24, 48], 'narrowest first');
      assert.deepEqual(tree.saes.map((s) => s.path), [join(dir, 'narrow'), p.saeDir], 'each column keeps its folder');
      // Shared atoms are each other's parent with cosine 1.
      const k = Array.from(tree.edges.to).findIndex((to) => tree.nodes.sae[to] === 1 && tree.nodes.latent[to] === 3);
      assert.ok(k >= 0 && tree.nodes.latent[tree.edges.from[k]!] === 3 && Math.abs(tree.edges.cosine[k]! - 1) < 1e-5);
      await assert.rejects(rpc.request('splitTree', { saeDirs: [p.saeDir], activations: p.activations }), /two or more SAEs/);
      // A coarse SAE whose 12 atoms are the sums of pairs of true features: across to the wide SAE, each splits.
      const coarseDir = join(dir, 'coarse'), d = f.dIn;
      const coarseDec = new Float32Array(12 * d);
      for (let i = 0; i < 12; i++) {
        let nrm = 0;
        for (let j = 0; j < d; j++) { const v = f.sae.wDec[2 * i * d + j]! + f.sae.wDec[(2 * i + 1) * d + j]!; coarseDec[i * d + j] = v; nrm += v * v; }
        for (let j = 0; j < d; j++) coarseDec[i * d + j]! /= Math.sqrt(nrm);
      }
      saveSaeLens({ ...makeFixture(d, 12, 16, 12).sae, wDec: coarseDec, wEnc: Float32Array.from({ length: d * 12 }, (_, k) => coarseDec[(k % 12) * d + Math.floor(k / 12)]!), bEnc: new Float32Array(12).fill(-0.3) }, coarseDir);
      const coarseTree = await rpc.request('splitTree', { saeDirs: [coarseDir, p.saeDir], activations: p.activations });
      // The tree is known now: the coarse SAE's panels mark the latents it splits (FLAG.split), found by folder.
      const splits = splitLatentsOf(coarseTree, coarseDir, 12);
      assert.ok(splits.length > 0, 'the coarse SAE has latents with two or more children in the wide one');
      const coarseDict = await rpc.request('dictionary', { saeDir: coarseDir, activations: p.activations });
      assert.deepEqual([...coarseDict.latents.flags.keys()].filter((i) => coarseDict.latents.flags[i]! & FLAG.split), splits);
      const splitPage = await rpc.request('feature', { saeDir: coarseDir, latent: splits[0]!, activations: p.activations });
      assert.ok(splitPage.diagnostics?.flags.includes('split'), 'the feature page lists the split flag');
      const wideDict = await rpc.request('dictionary', { saeDir: p.saeDir, activations: p.activations });
      assert.equal(wideDict.latents.flags.reduce((c, fl) => c + (fl & FLAG.split ? 1 : 0), 0), 0, 'the widest SAE has no next width to split into');
      // No ground truth beside the fixture's activations: the card says why.
      assert.match(wideDict.groundTruth?.reason ?? '', /no ground_truth\.safetensors beside the activations/);
      // An SAE whose atoms are the synthetic dataset's features, evaluated on it: the card's metrics.
      const gt = readGroundTruth(join(dir, 'synth'));
      const gtSae = join(dir, 'gt-sae');
      saveSaeLens({ ...makeFixture(gt.d, gt.nFeatures, 16, 4).sae, wDec: gt.features.slice(), wEnc: Float32Array.from({ length: gt.d * gt.nFeatures }, (_, k) => gt.features[(k % gt.nFeatures) * gt.d + Math.floor(k / gt.nFeatures)]!), bEnc: new Float32Array(gt.nFeatures).fill(-0.1) }, gtSae);
      const gtDict = await rpc.request('dictionary', { saeDir: gtSae, activations: synth.activations });
      assert.ok(gtDict.groundTruth?.metrics && gtDict.groundTruth.metrics.mmcs > 0.999, `decoder = ground truth: MMCS 1 (${gtDict.groundTruth?.reason ?? ''})`);
      const gtPage = await rpc.request('feature', { saeDir: gtSae, latent: 3, activations: synth.activations });
      assert.equal(gtPage.groundTruth?.feature, 3);
      const out = join(dir, 'r.html');
      const r = await rpc.request('report', { saeDir: p.saeDir, activations: p.activations, out, features: 4 });
      assert.ok(r.bytes > 10_000 && existsSync(out));
      const weightsOnly = await rpc.request('dictionary', { saeDir: p.saeDir });
      assert.equal(weightsOnly.metrics.tokens, 0);
    } finally {
      await worker.terminate();
    }
  });
});
