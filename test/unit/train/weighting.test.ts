import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleWeights, solveNnls, varianceWeights } from '../../../src/train/weighting';
import { tiedCodes, tiedGroundTruthLoss, tiedReconstruct } from '../../helpers/tied';

test("Cui et al.'s Example 1: s = (.5, 1, .8), W_p = [[1,0,0],[0,1,-1]] is recovered as (.5, .2, 0) by the tied model at W = W_pᵀ", () => {
  const s = Float32Array.from([0.5, 1, 0.8]);
  const wpT = Float32Array.from([1, 0, 0, 1, 0, -1]); // W = W_pᵀ, [m=3, d=2]
  const x = Float32Array.from([0.5, 1 - 0.8]); // x = W_p s
  const codes = tiedCodes(wpT, 3, 2, x, 1);
  [0.5, 0.2, 0].forEach((v, i) => assert.ok(Math.abs(codes[i]! - v) < 1e-6, `code ${i}: ${codes[i]}`));
  // shrinking and vanishing: L_GT = (1 − .2)² + (.8 − 0)² = 1.28
  assert.ok(Math.abs(tiedGroundTruthLoss(wpT, 3, 2, x, s, 1) - 1.28) < 1e-6);
  assert.deepEqual(Array.from(tiedReconstruct(wpT, 3, 2, codes, 1)).map((v) => Math.round(v * 1e6) / 1e6), [0.5, 0.2]);
});

test('oracle weights satisfy the selection principle W_pᵀΓ²W_p ≈ I better than uniform weights', () => {
  // d = 3 dimensions, 4 features: dimension 0 is monosemantic, dimensions 1-2 carry a polygon of 3 features.
  const d = 3, nf = 4;
  const c = Math.cos((2 * Math.PI) / 3), sn = Math.sin((2 * Math.PI) / 3);
  const cols = [[1, 0, 0], [0, 1, 0], [0, c, sn], [0, c, -sn]];
  const wp = new Float32Array(d * nf);
  cols.forEach((col, f) => col.forEach((v, i) => { wp[i * nf + f] = v; }));
  const gamma = oracleWeights(wp, d, nf);
  const residual = (g: ArrayLike<number>) => {
    let r = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) {
      let m = 0;
      for (let i = 0; i < d; i++) m += g[i]! ** 2 * wp[i * nf + a]! * wp[i * nf + b]!;
      r += (m - (a === b ? 1 : 0)) ** 2;
    }
    return r;
  };
  assert.ok(residual(gamma) < residual([1, 1, 1]), `${residual(gamma)} vs ${residual([1, 1, 1])}`);
  assert.ok(Math.abs(gamma[0]! - 1) < 1e-6, 'the monosemantic dimension keeps weight 1');
  assert.ok(gamma[1]! < 1 && gamma[2]! < 1, 'polysemantic dimensions are down-weighted');
});

test('NNLS solver matches a brute-force KKT check', () => {
  const h = Float64Array.from([4, 1, 0, 1, 3, -1, 0, -1, 2]);
  const rhs = Float64Array.from([1, -2, 3]);
  const g = solveNnls(h, rhs, 3);
  for (let i = 0; i < 3; i++) {
    let grad = -rhs[i]!;
    for (let j = 0; j < 3; j++) grad += h[i * 3 + j]! * g[j]!;
    assert.ok(g[i]! >= 0);
    if (g[i]! > 1e-9) assert.ok(Math.abs(grad) < 1e-8, `active coordinate ${i} has gradient ${grad}`);
    else assert.ok(grad > -1e-8, `inactive coordinate ${i} has gradient ${grad}`);
  }
});

test('variance weights have mean square 1 and follow the sign of α', () => {
  const n = 1000, d = 2;
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) { x[r * d] = Math.sin(r) * 1; x[r * d + 1] = Math.cos(r * 1.3) * 3; }
  for (const alpha of [1, -1]) {
    const g = varianceWeights(x, n, d, alpha);
    assert.ok(Math.abs((g[0]! ** 2 + g[1]! ** 2) / 2 - 1) < 1e-6);
    assert.equal(g[1]! > g[0]!, alpha > 0);
  }
  assert.throws(() => varianceWeights(x, 1, d, 1), /at least 2 rows/);
});
