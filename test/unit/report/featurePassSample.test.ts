// The feature pages' pass above its row cap: a stated, seeded uniform sample (src/io/rowSample.ts), keyed
// apart from the full pass in the cache, with token contexts and values of the very rows it sampled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../../../src/sae/forward';
import { loadSae } from '../../../src/formats';
import { sampleRowIndices } from '../../../src/io/rowSample';
import { ALL_PASS_ROWS, DEFAULT_PASS_ROWS, featurePass, featurePassCachePath, openPassSource, parsePassRows, passRowCount, resolveRowCap } from '../../../src/views/featurePass';
import { pageData, passCoverage, passFields } from '../../../src/views/featurePage';
import { finishedPassData, passDataFor, setPassRows } from '../../../src/views/featurePassRuns';
import type { PassProgress } from '../../../src/protocol/viewModels';
import { run } from '../../helpers/cli';
import { makeFixture, writeFixture } from '../../webview/fixtures';
import { dictionarySae } from '../../helpers/exactDictionary';
import { writeFakeCapture } from '../../helpers/capture';

test('above the cap the pass reads the seeded sample it states: its count, its rows, the top within it; the same seed gives the same pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-sample-'));
  const fx = makeFixture(16, 24, 1500, 12, 7);
  const { saeDir, activations } = writeFixture(dir, fx, false);
  const sae = loadSae(saeDir);
  const { dSae } = sae.cfg;
  const rows = { maxRows: 400, seed: 3 };
  const run = featurePass(sae, activations, { rows });
  const s = run.stats;
  const picked = sampleRowIndices(fx.n, { rows: 400, seed: 3 });
  assert.equal(passRowCount(run.source), 400);
  assert.deepEqual(run.source.sample?.indices, picked, 'the sample is rowSample\'s, not another draw');
  assert.equal(s.rowsSeen, 400, 'the stated count of rows is read');
  const inSample = new Set(picked);
  const codes = encode(sae, fx.x, fx.n).codes;
  let differsFromAll = 0;
  for (let i = 0; i < dSae; i++) {
    const firings: [number, number][] = [];
    for (const r of picked) { const v = codes[r * dSae + i]!; if (v > 0) firings.push([r, v]); }
    firings.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    assert.deepEqual(Array.from(s.top(i).rows), firings.slice(0, s.topK).map((f) => f[0]), `latent ${i}: the top within the sample`);
    assert.equal(s.count[i], firings.length, 'density is the sample\'s estimate');
    assert.ok(Math.abs(s.density(i) - firings.length / 400) < 1e-12);
    for (const b of s.bands(i)) for (const r of b.rows) assert.ok(inSample.has(r), 'band examples come from the sample');
    let all = 0;
    for (let r = 0; r < fx.n; r++) if (codes[r * dSae + i]! > 0) all++;
    if (all !== firings.length) differsFromAll++;
  }
  assert.ok(differsFromAll > 0, 'the sample is not the whole file');
  const line = passCoverage(pageData(sae, s, run.source)).describe;
  assert.match(line, /^a uniform sample of 400 of 1,500 rows \(seed 3\) of activations\.npy \(one pass\): density, mean, max and histogram are estimates from the sample, top examples the top within it$/);

  const again = featurePass(sae, activations, { rows });
  const other = featurePass(sae, activations, { rows: { maxRows: 400, seed: 4 } });
  assert.notDeepEqual(other.source.sample?.indices, picked, 'another seed draws other rows');
  for (let i = 0; i < dSae; i++) {
    assert.deepEqual(again.stats.top(i), s.top(i), 'reproducible per seed');
    assert.deepEqual(again.stats.bands(i), s.bands(i));
  }
  [run, again, other].forEach((r) => r.source.close());
});

test('at or below the cap every row is read as before, under the full pass\'s cache key; a sample has a key of its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-sample-'));
  const fx = makeFixture(16, 24, 600, 12, 5);
  const { saeDir, activations } = writeFixture(dir, fx, false);
  const sae = loadSae(saeDir);
  const full = featurePass(sae, activations, { rows: ALL_PASS_ROWS, saeDir });
  const capped = featurePass(sae, activations, { rows: { maxRows: 600, seed: 9 }, saeDir });
  assert.equal(capped.source.sample, undefined, 'a cap of the file\'s size is every row');
  assert.equal(capped.cached, true, 'the full pass\'s cache serves a cap at or above the file\'s rows');
  assert.match(passCoverage(pageData(sae, capped.stats, capped.source)).describe, /^all 600 rows of activations\.npy \(one pass\)$/);
  const sampled = featurePass(sae, activations, { rows: { maxRows: 200, seed: 0 }, saeDir });
  assert.equal(sampled.cached, false, 'a cached full pass is not read as a sample');
  assert.equal(sampled.stats.rowsSeen, 200);
  assert.equal(featurePass(sae, activations, { rows: { maxRows: 200, seed: 1 }, saeDir }).cached, false, 'nor one sample as another');
  assert.equal(readdirSync(join(saeDir, '.feature-pass')).length, 3);
  const fullAgain = featurePass(sae, activations, { rows: ALL_PASS_ROWS, saeDir });
  assert.equal(fullAgain.cached, true);
  assert.equal(fullAgain.stats.rowsSeen, 600, 'nor a sample as the full pass');
  const keys = [ALL_PASS_ROWS, { maxRows: 200, seed: 0 }].map((r) => featurePassCachePath(saeDir, sae, openPassSource(activations, r)));
  assert.notEqual(keys[0], keys[1]);
  for (let i = 0; i < sae.cfg.dSae; i++) assert.deepEqual(capped.stats.top(i), full.stats.top(i));
});

test('a sampled pass over a sharded capture folder reads the sampled rows themselves, and each example\'s token context is that row\'s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-sample-'));
  const d = 8;
  const cap = writeFakeCapture(dir, { shardRows: [130, 70, 100], sites: ['blocks.0'], d });
  // identity atoms: latent j's activation on row r is x_rj = r + j/1000, so a value names the row it came from
  const eye = new Float32Array(d * d);
  for (let j = 0; j < d; j++) eye[j * d + j] = 1;
  const sae = dictionarySae(eye, d, d, new Float32Array(d), 0);
  const rows = { maxRows: 60, seed: 11 };
  const run = featurePass(sae, `${dir}#blocks.0`, { rows });
  const picked = sampleRowIndices(cap.rows, { rows: 60, seed: 11 });
  assert.ok(picked.some((r) => r < 130) && picked.some((r) => r >= 200), 'the sample spans the shards');
  const data = pageData(sae, run.stats, run.source);
  assert.ok(data.text.tokens, 'the capture\'s token ids are found');
  for (let j = 0; j < d; j++) {
    const top = run.stats.top(j);
    top.rows.forEach((row, t) => assert.ok(Math.abs(top.values[t]! - (row + j / 1000)) < 1e-3, `latent ${j}: row ${row} holds the values of row ${row}`));
  }
  const fields = passFields(sae, data, 0);
  assert.ok(fields.top.length > 0);
  const decoded = (row: number): string => String.fromCharCode(cap.tokenId(row));
  for (const ex of [...fields.top, ...fields.quantiles.flatMap((q) => q.examples)]) {
    assert.ok(picked.includes(ex.row), `example row ${ex.row} is in the sample`);
    assert.equal(ex.tokens![ex.focus!], decoded(ex.row), `the firing token of row ${ex.row}`);
    const first = ex.row - ex.focus!;
    ex.tokens!.forEach((tok, k) => {
      assert.equal(tok, decoded(first + k), `token ${k} of the context of row ${ex.row}`);
      assert.equal(cap.doc(first + k), cap.doc(ex.row), 'inside the row\'s document');
    });
  }
  assert.match(fields.pass!.describe, /^a uniform sample of 60 of 300 rows \(seed 11\) of /);
  run.source.close();
});

test('the default cap is scaled to the SAE: a narrow SAE reads every row of a file a wide one samples, never below 16,384 rows', () => {
  assert.equal(DEFAULT_PASS_ROWS.maxRows, 'auto');
  assert.equal(resolveRowCap('auto', 768, 16384), 16384, 'the large case: 16,384 rows');
  assert.equal(resolveRowCap('auto', 768, 4096), 65536, 'a quarter of the latents, four times the rows');
  assert.equal(resolveRowCap('auto', 768, 1 << 20), 16384, 'never fewer than 16,384 rows');
  assert.equal(resolveRowCap(500, 768, 16), 500, 'a number is the cap, whatever the SAE');
  assert.equal(resolveRowCap(0, 768, 16), 0);
  const dir = mkdtempSync(join(tmpdir(), 'saewb-autocap-'));
  const fx = makeFixture(4, 6, 20000, 4, 5);
  const { activations } = writeFixture(dir, fx, false);
  const narrow = openPassSource(activations, DEFAULT_PASS_ROWS, 6);
  assert.equal(narrow.sample, undefined, 'a 6-latent SAE at d_in 4: every one of the 20,000 rows');
  assert.equal(passRowCount(narrow), 20000);
  const wide = openPassSource(activations, DEFAULT_PASS_ROWS, 1 << 24);
  assert.equal(passRowCount(wide), 16384, 'a very wide SAE on the same file: the 16,384-row floor, sampled');
  assert.deepEqual(wide.sample?.indices, sampleRowIndices(20000, { rows: 16384, seed: 0 }));
  [narrow, wide].forEach((s) => s.close());
});

test('the row cap is a whole number, 0, "all" or "auto"; anything else is one line naming where it came from', () => {
  assert.equal(parsePassRows('auto', '--page-rows'), 'auto');
  assert.equal(parsePassRows(' Auto ', 'saeWorkbench.featurePages.maxRows'), 'auto');
  assert.equal(parsePassRows('all', '--page-rows'), 0);
  assert.equal(parsePassRows('ALL', '--page-rows'), 0);
  assert.equal(parsePassRows('0', '--page-rows'), 0);
  assert.equal(parsePassRows('131072', '--page-rows'), 131072);
  assert.equal(parsePassRows(65536, 'saeWorkbench.featurePages.maxRows'), 65536);
  for (const bad of ['-5', '1.5', 'many', '', 2 ** 40]) {
    assert.throws(() => parsePassRows(bad, '--page-rows'), (e: Error) => e.message.startsWith('--page-rows') && /whole number of rows, 0 or "all"/.test(e.message) && !e.message.includes('\n'));
  }
});

test('report --page-rows samples above the cap and says so on stdout and in every page; a bad cap is one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-sample-'));
  const fx = makeFixture(16, 24, 1024, 12, 6);
  const { saeDir, activations } = writeFixture(dir, fx);
  const out = join(dir, 'report.html');
  const r = await run(['report', '--sae', saeDir, '--activations', activations, '--out', out, '--features', '3', '--page-rows', '300', '--page-seed', '5', '--max-tokens', '256']);
  assert.equal(r.code, 0, r.err);
  const line = 'a uniform sample of 300 of 1,024 rows (seed 5) of activations.npy';
  assert.ok(r.out.split('\n').some((l) => l.startsWith(`feature pages over ${line} (one pass)`)), r.out);
  const html = readFileSync(out, 'utf8');
  assert.ok(html.includes(line), 'the report\'s pages state the sample');
  const all = await run(['report', '--sae', saeDir, '--activations', activations, '--out', out, '--features', '1', '--page-rows', 'all', '--max-tokens', '256']);
  assert.equal(all.code, 0, all.err);
  assert.match(all.out, /feature pages over all 1,024 rows of activations\.npy \(one pass\)/);
  const bad = await run(['report', '--sae', saeDir, '--activations', activations, '--out', out, '--page-rows', 'lots']);
  assert.equal(bad.code, 2);
  assert.match(bad.err.trim(), /^[^\n]*--page-rows[^\n]*whole number of rows, 0 or "all"[^\n]*$/);
});

test('the panels\' worker passes read the cap the host sets, under their own run and cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-sample-'));
  const fx = makeFixture(16, 24, 1024, 12, 6);
  const { saeDir, activations } = writeFixture(dir, fx);
  try {
    setPassRows({ maxRows: 256, seed: 1 });
    const ended = new Promise<PassProgress>((resolve) => {
      const data = passDataFor(fx.sae, saeDir, activations, (p) => { if (p.complete) resolve(p); }, 100);
      assert.match(passCoverage(data).describe, /^the first 100 rows of a uniform sample of 256 of 1,024 rows \(seed 1\) of activations\.npy so far/);
    });
    const last = await ended;
    assert.equal(last.rows, 256, 'progress runs to the sample\'s size');
    assert.match(last.describe, /^a uniform sample of 256 of 1,024 rows \(seed 1\)/);
    assert.equal(finishedPassData(fx.sae, saeDir, activations)!.stats.rowsSeen, 256);
    assert.equal(featurePass(fx.sae, activations, { saeDir, rows: { maxRows: 256, seed: 1 } }).cached, true, 'the worker cached its sample');
    setPassRows(ALL_PASS_ROWS);
    assert.equal(finishedPassData(fx.sae, saeDir, activations), undefined, 'the sample is not the full pass');
  } finally {
    setPassRows(DEFAULT_PASS_ROWS);
  }
});
