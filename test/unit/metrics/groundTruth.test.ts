import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hungarianMax } from '../../../src/metrics/hungarian';
import { groundTruthMetrics } from '../../../src/metrics/groundTruth';
import { generate } from '../../../src/synthetic';
import type { GroundTruth } from '../../../src/synthetic';
import { Rng } from '../../../src/synthetic/random';
import { dictionarySae } from '../../helpers/exactDictionary';

function permutations(k: number, n: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(k - 1, n)) for (let j = 0; j < n; j++) if (!p.includes(j)) out.push([...p, j]);
  return out;
}

test('hungarianMax finds the maximum-score one-to-one assignment (brute force check)', () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 30; trial++) {
    const rows = 1 + rng.int(4), cols = rows + rng.int(3);
    const s = Float64Array.from({ length: rows * cols }, () => rng.normal());
    const a = hungarianMax(s, rows, cols);
    assert.equal(new Set(a).size, rows);
    const got = Array.from(a).reduce((acc, c, r) => acc + s[r * cols + c], 0);
    const best = Math.max(...permutations(rows, cols).map((p) => p.reduce((acc, c, r) => acc + s[r * cols + c], 0)));
    assert.ok(Math.abs(got - best) < 1e-9, `trial ${trial}: ${got} vs ${best}`);
  }
});

function asGt(ds: ReturnType<typeof generate>): GroundTruth {
  return { kind: ds.kind, features: ds.features, nFeatures: ds.nFeatures, d: ds.d, bias: ds.bias, codes: ds.codes, n: ds.n, hierarchy: ds.hierarchy, meta: ds.meta };
}

test('the true dictionary scores MMCS 1, full recovery, AAF 1; a merged dictionary scores lower', () => {
  const ds = generate('g1', { seed: 1, tokens: 1500, features: 16, dIn: 32, sparsity: 0.9 });
  const gt = asGt(ds);
  // λ large enough that the tied encoder ignores interference (max |cos| ≤ 0.1 times magnitudes ≤ ~4)
  const sae = dictionarySae(ds.features, 16, 32, ds.bias, 0.45);
  const g = groundTruthMetrics(sae, gt, ds.x);
  assert.ok(Math.abs(g.mmcs - 1) < 1e-5);
  assert.equal(g.recovery['0.95'], 1);
  assert.equal(g.recoveryHungarian['0.95'], 1);
  assert.ok(Math.abs(g.aaf - 1) < 1e-9, `AAF ${g.aaf}`);
  assert.ok(g.lGT! < 0.15, `L_GT ${g.lGT}`);
  assert.ok(g.explainedVariance! > 0.9);
  // merge features 0 and 1 into one atom, and duplicate atom 2 in place of 1
  const atoms = ds.features.slice();
  for (let j = 0; j < 32; j++) { atoms[j] = ds.features[j] + ds.features[32 + j]; atoms[32 + j] = ds.features[64 + j]; }
  const merged = groundTruthMetrics(dictionarySae(atoms, 16, 32, ds.bias, 0.45), gt, ds.x);
  assert.ok(merged.mmcs < 0.97 && merged.mmcs > 0.9, `MMCS ${merged.mmcs}`);
  assert.equal(merged.recovery['0.9'], 14 / 16, 'features 0 and 1 have no atom above 0.9');
  assert.ok(merged.recoveryHungarian['0.9'] <= merged.recovery['0.9']);
  assert.ok(merged.aaf > 1, 'the merged atom fires on two pure features');
  const other = generate('g1', { seed: 1, tokens: 10, features: 4, dIn: 8 });
  assert.throws(() => groundTruthMetrics(sae, asGt(other)), /d 8 but the SAE has d_in 32/);
});

test('G7: the signed-basis dictionary reconstructs perfectly but recovers poorly, and says so', () => {
  const ds = generate('g7', { seed: 2, tokens: 800 });
  const d = ds.d, m = 2 * d;
  const atoms = new Float32Array(m * d);
  for (let j = 0; j < d; j++) { atoms[j * d + j] = 1; atoms[(d + j) * d + j] = -1; }
  const g = groundTruthMetrics(dictionarySae(atoms, m, d, ds.bias, 0), asGt(ds), ds.x);
  assert.ok(g.explainedVariance! > 0.999, `EV ${g.explainedVariance}`);
  assert.ok(g.recovery['0.9'] < 0.5);
  assert.match(g.verdict, /reconstruction good, recovery poor/);
});
