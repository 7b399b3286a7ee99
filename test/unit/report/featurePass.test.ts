import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../../../src/sae/forward';
import { writeNpy } from '../../../src/io/npy';
import { loadSae } from '../../../src/formats';
import { featurePass, featurePassSteps, openPassSource } from '../../../src/views/featurePass';
import { FeatureStats } from '../../../src/views/featureStats';
import { makeFixture, writeFixture } from '../../webview/fixtures';

/** Every row's codes, densely, with the reference encoder. */
function bruteCodes(x: Float32Array, n: number, sae: ReturnType<typeof loadSae>): Float32Array {
  return encode(sae, x, n).codes;
}

/** Sort all firings of latent i by activation (then row): what the pass's top-k must equal. */
function bruteTop(codes: Float32Array, n: number, dSae: number, i: number, k: number): { rows: number[]; values: number[] } {
  const all: [number, number][] = [];
  for (let r = 0; r < n; r++) { const v = codes[r * dSae + i]!; if (v > 0) all.push([r, v]); }
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return { rows: all.slice(0, k).map((e) => e[0]), values: all.slice(0, k).map((e) => e[1]) };
}

test('the pass over all rows equals a brute-force top-k, density, mean and max — also on a file stored in frequency order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-pass-'));
  const fx = makeFixture(16, 24, 1500, 12, 7);
  const { saeDir, activations } = writeFixture(dir, fx, false);
  const sae = loadSae(saeDir);
  const { dSae } = sae.cfg;
  const codes = bruteCodes(fx.x, fx.n, sae);
  // frequency order: rows sorted by how many latents fire, the sparsest first, so the first rows would
  // make busy latents look dead
  const l0 = Array.from({ length: fx.n }, (_, r) => { let c = 0; for (let i = 0; i < dSae; i++) if (codes[r * dSae + i]! > 0) c++; return c; });
  const order = Array.from({ length: fx.n }, (_, r) => r).sort((a, b) => l0[a]! - l0[b]! || a - b);
  const sorted = new Float32Array(fx.x.length);
  order.forEach((r, t) => sorted.set(fx.x.subarray(r * fx.dIn, (r + 1) * fx.dIn), t * fx.dIn));
  const sortedPath = join(dir, 'sorted.npy');
  writeNpy(sortedPath, { dtype: 'F32', shape: [fx.n, fx.dIn], data: sorted });
  const sortedCodes = bruteCodes(sorted, fx.n, sae);

  for (const [path, c] of [[activations, codes], [sortedPath, sortedCodes]] as const) {
    const src = openPassSource(path);
    // small chunks, so the heaps and reservoirs see many blocks
    const steps = featurePassSteps(sae, src, { topK: 7, perBin: 3, seed: 1 }, 97);
    let step = steps.next(), yields = 0;
    while (!step.done) { yields++; step = steps.next(); }
    src.close();
    const s: FeatureStats = step.value;
    assert.ok(yields >= 10, 'the pass yields between chunks');
    assert.equal(s.rowsSeen, fx.n);
    let firstRowsDead = 0;
    for (let i = 0; i < dSae; i++) {
      const want = bruteTop(c, fx.n, dSae, i, 7);
      const got = s.top(i);
      assert.deepEqual(Array.from(got.rows), want.rows, `top rows of latent ${i} in ${path}`);
      // the pass encodes in chunks, the reference all rows at once: the GEMM may round differently
      got.values.forEach((v, t) => assert.ok(Math.abs(v - want.values[t]!) <= 1e-5 * Math.abs(want.values[t]!), `top value ${t} of latent ${i}`));
      let fires = 0, sum = 0, max = 0, firstFires = 0;
      for (let r = 0; r < fx.n; r++) { const v = c[r * dSae + i]!; if (v > 0) { fires++; sum += v; max = Math.max(max, v); if (r < 100) firstFires++; } }
      if (fires > 0 && firstFires === 0) firstRowsDead++;
      assert.equal(s.count[i], fires);
      assert.ok(Math.abs(s.density(i) - fires / fx.n) < 1e-12);
      assert.ok(Math.abs(s.meanActivation(i) - (fires ? sum / fires : 0)) < 1e-5 * Math.max(1, sum / Math.max(1, fires)));
      assert.ok(Math.abs(s.max[i]! - max) <= 1e-5 * max);
      const hist = s.histogram(i);
      assert.equal(hist.counts.reduce((a, b) => a + b, 0), fires, 'the histogram counts every firing once');
      const bands = s.bands(i, 5, 4);
      assert.equal(bands.reduce((a, b) => a + b.count, 0), fires, 'bands partition the firings');
      for (const b of bands) for (let e = 0; e < b.rows.length; e++) {
        assert.ok(Math.abs(c[b.rows[e]! * dSae + i]! - b.values[e]!) <= 1e-5 * Math.max(1, b.values[e]!), `a band example is a real firing: ${c[b.rows[e]! * dSae + i]} vs ${b.values[e]}`);
        assert.ok(b.values[e]! >= b.lo - 1e-6 && b.values[e]! <= b.hi + 1e-6, 'inside its band');
      }
      for (let q = 1; q < bands.length; q++) assert.ok(bands[q]!.hi <= bands[q - 1]!.lo + 1e-6, 'bands run from high to low without overlap');
    }
    if (path === sortedPath) assert.ok(firstRowsDead > 0, 'the sorted file is one where the first rows would mislead');
  }
});

test('rows with NaN are left out and counted; a width mismatch names the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-pass-'));
  const fx = makeFixture(16, 24, 300, 12, 3);
  const { saeDir } = writeFixture(dir, fx, false);
  const sae = loadSae(saeDir);
  const x = fx.x.slice();
  x[5 * fx.dIn + 2] = NaN; x[250 * fx.dIn] = Infinity;
  const p = join(dir, 'nan.npy');
  writeNpy(p, { dtype: 'F32', shape: [fx.n, fx.dIn], data: x });
  const { stats } = featurePass(sae, p);
  assert.equal(stats.rowsSeen, fx.n - 2);
  assert.equal(stats.skippedNonFinite, 2);
  for (let i = 0; i < sae.cfg.dSae; i++) assert.ok(!Array.from(stats.top(i).rows).includes(5));
  const wrong = join(dir, 'wrong.npy');
  writeNpy(wrong, { dtype: 'F32', shape: [10, 8], data: new Float32Array(80) });
  assert.throws(() => featurePass(sae, wrong), (e: Error) => e.message.includes(wrong) && /does not match the SAE's d_in 16/.test(e.message));
});

test('the pass is cached beside the SAE by content: a second run reads it, other data runs again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-pass-'));
  const fx = makeFixture(16, 24, 400, 12, 5);
  const { saeDir, activations } = writeFixture(dir, fx, false);
  const sae = loadSae(saeDir);
  const first = featurePass(sae, activations, { saeDir });
  assert.equal(first.cached, false);
  assert.equal(readdirSync(join(saeDir, '.feature-pass')).length, 1);
  const again = featurePass(sae, activations, { saeDir });
  assert.equal(again.cached, true);
  for (let i = 0; i < sae.cfg.dSae; i++) {
    assert.deepEqual(again.stats.top(i), first.stats.top(i));
    assert.deepEqual(again.stats.bands(i), first.stats.bands(i));
  }
  const x = fx.x.slice(); x[0]! += 1;
  writeNpy(activations, { dtype: 'F32', shape: [fx.n, fx.dIn], data: x });
  assert.equal(featurePass(sae, activations, { saeDir }).cached, false, 'changed data is a new key');
  assert.ok(existsSync(join(saeDir, '.feature-pass')));
  [first, again].forEach((r) => r.source.close());
});
