// Bootstrap SEs (docs/theory.md §B4) and the noise floor they cross-check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapSE, resampleCounts, standardDeviation } from '../../../src/diagnostics/bootstrap';
import { seededRandom } from '../../../src/util/random';
import { generate } from '../../../src/synthetic';
import { exactCodes } from '../../../src/diagnostics/lassoCodes';
import { finishCodeSet } from '../../../src/diagnostics/codeResiduals';
import type { CodeSet } from '../../../src/diagnostics/codeResiduals';
import { kktStationarity } from '../../../src/diagnostics/kkt';
import { gaussian } from './b-data';

test('bootstrap SE of a mean is within 20% of σ/√n, and deterministic per seed', () => {
  const rnd = seededRandom(5);
  const n = 2000, sigma = 2;
  const x = Float64Array.from({ length: n }, () => 3 + sigma * gaussian(rnd));
  const mean = (w: Float32Array): number => { let s = 0; for (let i = 0; i < n; i++) s += w[i]! * x[i]!; return s / n; };
  const a = bootstrapSE(n, mean, { resamples: 200, seed: 7 });
  const sd = standardDeviation(x);
  const expected = sd / Math.sqrt(n);
  assert.ok(Math.abs(a.se - expected) < 0.2 * expected, `bootstrap SE ${a.se} vs σ/√n ${expected}`);
  assert.ok(Math.abs(sd - sigma) < 0.1 * sigma);
  const again = bootstrapSE(n, mean, { resamples: 200, seed: 7 });
  assert.deepEqual(Array.from(again.values), Array.from(a.values));
  const other = bootstrapSE(n, mean, { resamples: 200, seed: 8 });
  assert.notDeepEqual(Array.from(other.values), Array.from(a.values));
});

test('resample counts: each resample draws n rows', () => {
  const w = resampleCounts(37, 5, 1);
  for (let b = 0; b < 5; b++) assert.equal(w.subarray(b * 37, (b + 1) * 37).reduce((s, v) => s + v, 0), 37);
  assert.throws(() => resampleCounts(0, 5, 1));
});

/** G2 (2 parents × 1 child at 90°) at the true dictionary with exact codes: the child's STAT is tan 45° = 1. */
function g2ExactCodes(seed: number, rows: number, lambda = 0.15, noise = 0): { cs: CodeSet; atoms: Float32Array; lambda: number } {
  const ds = generate('g2', { seed, tokens: rows, dIn: 12, parents: 2, children: 1, parentRate: 0.3, childRate: 0.5, magnitudes: 'constant', noise });
  const { n, d, nFeatures: m } = ds;
  const t = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) t[r * d + j] = ds.x[r * d + j]! - ds.bias[j]!;
  const ex = exactCodes(t, ds.features, n, m, d, lambda);
  const cs = finishCodeSet({ source: 'exact', kind: 'l1', n, m, d, rowPtr: ex.rowPtr, idx: ex.idx, val: ex.val, residual: ex.residual }, ds.features);
  return { cs, atoms: ds.features, lambda };
}

test('B4: the bootstrap noise floor reproduces the analytic SE_i, and the bootstrap SE of STAT matches its spread over fresh samples', () => {
  const statsAcross: number[][] = [];
  const bootSE: number[][] = [];
  for (let seed = 1; seed <= 24; seed++) {
    const { cs, atoms, lambda } = g2ExactCodes(seed, 1500);
    const k = kktStationarity(cs, atoms, lambda, { mode: 'lambda' }, { pull: false, bootstrap: { resamples: 200, seed: 3 } });
    const p = k.perLatent;
    assert.ok(p.se && p.statFloorBootstrap);
    for (let i = 0; i < cs.m; i++) {
      if (!Number.isFinite(p.stat[i])) continue;
      // the bootstrap floor estimates E‖P⊥(g* − ĝ)‖² = the analytic floor², up to resampling noise
      assert.ok(Math.abs(p.statFloorBootstrap[i]! - p.statSE[i]!) < 0.2 * p.statSE[i]!, `seed ${seed} atom ${i}: bootstrap floor ${p.statFloorBootstrap[i]} vs analytic ${p.statSE[i]}`);
      (statsAcross[i] ??= []).push(p.stat[i]!);
      (bootSE[i] ??= []).push(p.se.stat[i]!);
    }
  }
  // the children (features 1 and 3, nested in parents 0 and 2) are far from stationary (STAT ≈ 1)
  for (const i of [1, 3]) {
    const spread = standardDeviation(statsAcross[i]!);
    const meanBoot = bootSE[i]!.reduce((s, v) => s + v, 0) / bootSE[i]!.length;
    assert.ok(Math.abs(meanBoot - spread) < 0.35 * spread, `child ${i}: mean bootstrap SE ${meanBoot} vs spread over samples ${spread}`);
  }
});

test('B4: the report carries bootstrap SEs beside STAT, RAD, SE and the medians; same seed, same SEs', () => {
  const { cs, atoms, lambda } = g2ExactCodes(2, 800);
  const a = kktStationarity(cs, atoms, lambda, { mode: 'lambda' }, { bootstrap: { resamples: 50, seed: 11 } });
  const b = kktStationarity(cs, atoms, lambda, { mode: 'lambda' }, { bootstrap: { resamples: 50, seed: 11 } });
  const c = kktStationarity(cs, atoms, lambda, { mode: 'lambda' }, { bootstrap: { resamples: 50, seed: 12 } });
  assert.deepEqual(a.bootstrap, b.bootstrap);
  assert.deepEqual(Array.from(a.perLatent.se!.stat), Array.from(b.perLatent.se!.stat));
  assert.notDeepEqual(Array.from(a.perLatent.se!.stat), Array.from(c.perLatent.se!.stat));
  for (const key of ['stat', 'rad', 'statSE', 'kktOn'] as const) {
    const v = a.perLatent.se![key];
    for (let i = 0; i < cs.m; i++) assert.equal(Number.isFinite(v[i]), Number.isFinite(a.perLatent.stat[i]), `${key}[${i}]`);
  }
  assert.ok(a.summary.stat.se!.median > 0 && a.summary.rad.se!.median >= 0 && a.summary.kktOn.se!.median >= 0);
  assert.ok(Number.isFinite(a.bootstrap!.fractionFlaggedSE));
  const off = kktStationarity(cs, atoms, lambda, { mode: 'lambda' }, { bootstrap: false });
  assert.equal(off.bootstrap, null);
  assert.equal(off.perLatent.se, undefined);
  assert.ok(off.reason.bootstrap);
});

test('B4: an unflagged atom above the floor is flagged at the rows the report says it needs', () => {
  // θ = 30°: the child's STAT is tan 15° = 0.27, unresolved at 150 rows with a child firing ~20 times
  const make = (rows: number): { cs: CodeSet; atoms: Float32Array } => {
    const ds = generate('g2', { seed: 9, tokens: rows, dIn: 12, parents: 1, children: 1, parentRate: 0.3, childRate: 0.5, angleDeg: 30, magnitudes: 'constant', noise: 0.05 });
    const { n, d, nFeatures: m } = ds;
    const t = new Float32Array(n * d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) t[r * d + j] = ds.x[r * d + j]! - ds.bias[j]!;
    const ex = exactCodes(t, ds.features, n, m, d, 0.15);
    return { cs: finishCodeSet({ source: 'exact', kind: 'l1', n, m, d, rowPtr: ex.rowPtr, idx: ex.idx, val: ex.val, residual: ex.residual }, ds.features), atoms: ds.features };
  };
  const small = make(150);
  const k = kktStationarity(small.cs, small.atoms, 0.15, { mode: 'lambda' }, { pull: false, bootstrap: false });
  const child = 1;
  assert.equal(k.perLatent.flagged[child], 0, `STAT ${k.perLatent.stat[child]} SE ${k.perLatent.statSE[child]}`);
  const need = k.perLatent.rowsToResolve[child]!;
  assert.ok(Number.isFinite(need) && need > 150, `rows to resolve ${need}`);
  assert.ok(k.summary.unresolved >= 1 && Number.isFinite(k.summary.rowsToResolve));
  const big = make(Math.ceil(2 * need));
  const kb = kktStationarity(big.cs, big.atoms, 0.15, { mode: 'lambda' }, { pull: false, bootstrap: false });
  assert.equal(kb.perLatent.flagged[child], 1, `at ${2 * need} rows: STAT ${kb.perLatent.stat[child]} SE ${kb.perLatent.statSE[child]}`);
});

test('B4: the bootstrap SE of KKT_off is the binomial SE of a rate of missed activations', () => {
  // noisy G2, exact codes at λ = 0.15 read at λ_e = 0.05: the noise's off-support projections exceed
  // 1.1·λ_e on about a quarter of the rows, so KKT_off is a genuine rate
  const { cs, atoms } = g2ExactCodes(5, 3000, 0.15, 0.1);
  const k = kktStationarity(cs, atoms, 0.05, { mode: 'lambda' }, { pull: false, bootstrap: { resamples: 300, seed: 4 } });
  let checked = 0;
  for (let i = 0; i < cs.m; i++) {
    const p = k.perLatent.kktOff[i]!, offRows = cs.n - cs.count[i]!;
    if (!(p > 0.05 && p < 0.95)) continue;
    const binomial = Math.sqrt((p * (1 - p)) / offRows);
    const se = k.perLatent.se!.kktOff[i]!;
    assert.ok(Math.abs(se - binomial) < 0.25 * binomial, `atom ${i}: KKT_off ${p}, bootstrap SE ${se} vs binomial ${binomial}`);
    checked++;
  }
  assert.ok(checked >= 3, 'no atom with a KKT_off rate between 0.05 and 0.95');
  assert.ok(k.summary.kktOff.se!.median > 0);
});
