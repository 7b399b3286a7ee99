import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReconstructionAccumulator } from '../../../src/metrics/reconstruction';

test('reconstruction metrics match hand-computed values and do not depend on the batch split', () => {
  // 4 tokens, d = 2, with a large common offset: the conventional EV must centre on E[x] (not E[x²])
  const x = new Float32Array([10, 1, 10, -1, 12, 1, 12, -1]);
  const recon = new Float32Array([10, 0, 10, 0, 12, 0, 12, 0]);
  const codes = new Float32Array([1, 0, 0, 2, 3, 0, 0, 0]); // dSae = 2
  const whole = new ReconstructionAccumulator(2, 2);
  whole.add(x, recon, codes, 4);
  const split = new ReconstructionAccumulator(2, 2);
  split.add(x.subarray(0, 4), recon.subarray(0, 4), codes.subarray(0, 4), 2);
  split.add(x.subarray(4), recon.subarray(4), codes.subarray(4), 2);
  const m = whole.result(), s = split.result();
  // E‖e‖² = 1; E‖x‖² = (101+101+145+145)/4 = 123; E x = (11, 0): ‖E x‖² = 121; variance = 2 → EV = 0.5
  assert.equal(m.explainedVariance, 0.5);
  assert.equal(s.explainedVariance, 0.5);
  assert.equal(m.ssePerToken, 1);
  assert.equal(m.msePerElement, 0.5);
  // legacy: per token, ‖x − x̄_batch‖²: whole batch x̄ = (11, 0) → 1 + 1 = 2 each → 1 − 1/2 = 0.5;
  // batches of 2: x̄ = (10, 0) or (12, 0) → ‖x − x̄‖² = 1 → 1 − 1/1 = 0 — batch-dependent, as labelled
  assert.equal(m.explainedVarianceLegacy, 0.5);
  assert.equal(s.explainedVarianceLegacy, 0);
  assert.equal(m.l0, 3 / 4);
  assert.equal(m.l1, 6 / 4);
  assert.equal(m.deadFraction, 0);
  assert.equal(m.denseFraction, 1);
  // cos(x, x̂) = 10/√101 (twice) and 12/√145 (twice)
  assert.ok(Math.abs(m.cosine - (10 / Math.sqrt(101) + 12 / Math.sqrt(145)) / 2) < 1e-12);
  assert.ok(Math.abs(m.l2Ratio - (10 / Math.sqrt(101) + 12 / Math.sqrt(145)) / 2) < 1e-12);
  // E‖x̂‖² / E<x, x̂> = (100+100+144+144)/(100+100+144+144) = 1
  assert.equal(m.relativeReconstructionBias, 1);
});
