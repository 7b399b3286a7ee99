import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext } from '../../../src/diagnostics/context';
import { residualSection } from '../../../src/diagnostics/residual';
import { g1, pickRows, reluSae, withDense } from './b-data';

const cosRow = (u: Float32Array, rows: Float32Array, f: number, d: number): number => {
  let s = 0;
  for (let j = 0; j < d; j++) s += u[j]! * rows[f * d + j]!;
  return s;
};

test('a dictionary missing one sparse feature: heavy-tailed spike along it, and G* points at it', () => {
  const d = 32, F = 12, missing = 5, lambda = 0.1;
  const data = g1({ seed: 1, n: 4000, d, features: F, p: 0.05, noise: 0.01 });
  const keep = Array.from({ length: F }, (_, i) => i).filter((i) => i !== missing);
  const sae = reluSae(pickRows(data.features, keep, d), keep.length, d, { lambda, bias: data.bias, atomScale: 2 });
  const rep = residualSection(buildContext(sae, data.x, data.n));
  const top = rep.spectrum.top[0]!;
  assert.ok(Math.abs(cosRow(top.vector, data.features, missing, d)) > 0.99, 'top eigenvector is the missing feature');
  assert.ok(top.kurtosis > 5, `kurtosis ${top.kurtosis}`);
  assert.equal(top.interpretation, 'unlearned sparse feature');
  assert.ok(rep.spectrum.spike && rep.spectrum.spikeRatio > 100);
  assert.ok(Math.abs(top.nearestCosine) < 0.2, 'not aligned with any learned atom');
  assert.ok(Math.abs(cosRow(rep.gain.direction, data.features, missing, d)) > 0.95, 'u* ≈ the missing feature');
  assert.ok(rep.gain.gStarRatio > 0.5 && !rep.gain.isZero);
  // Orthonormal atoms with codes (c − λ)₊: on-support ⟨d̂_i, r⟩ = λ + noise, so ON ≈ 1, and off-support
  // projections are noise (σ = 0.01 = λ/10), far below λ.
  assert.ok(Math.abs(rep.support.medianOn - 1) < 0.05, `medianOn ${rep.support.medianOn}`);
  assert.equal(rep.support.shareOffTailAbove1, 0);
  for (const i of [0, 3, 10]) assert.ok(rep.support.offTailQ99[i]! < 0.5 && rep.support.offTailQ99[i]! > 0.1, `q99 ${rep.support.offTailQ99[i]}`);
  // In-span: P_S r = λ Σ_S d̂_i + noise part, so φ ≈ prediction.
  assert.ok(Math.abs(rep.inSpan.excess) < 0.02 * rep.inSpan.fraction + 1e-3, `in-span ${rep.inSpan.fraction} vs ${rep.inSpan.predicted}`);
});

test('a dictionary missing a dense Gaussian direction: two-sided spike with kurtosis ≈ 0', () => {
  const d = 32, F = 10, lambda = 0.1;
  const data = withDense(g1({ seed: 2, n: 4000, d, features: F, p: 0.05, noise: 0.01 }), { seed: 3, sigma: 1 });
  const sae = reluSae(data.features, F, d, { lambda, bias: data.bias });
  const rep = residualSection(buildContext(sae, data.x, data.n));
  const top = rep.spectrum.top[0]!;
  let c = 0;
  for (let j = 0; j < d; j++) c += top.vector[j]! * data.denseDirection![j]!;
  assert.ok(Math.abs(c) > 0.99);
  assert.ok(Math.abs(top.kurtosis) < 0.5, `kurtosis ${top.kurtosis}`);
  assert.equal(top.interpretation, 'unlearned dense direction');
  assert.ok(top.positiveShare > 0.4 && top.positiveShare < 0.6);
});

test('a latent that misses its weak activations leaves a residue spike along its own atom', () => {
  const d = 24, F = 8, lambda = 0.1;
  const data = g1({ seed: 4, n: 4000, d, features: F, p: 0.1, noise: 0.01 });
  const sae = reluSae(data.features, F, d, { lambda, bias: data.bias });
  sae.bEnc[0] = -1.6; // latent 0 only fires when s₀ > 1.6
  const rep = residualSection(buildContext(sae, data.x, data.n, { lambdaE: lambda }));
  const top = rep.spectrum.top[0]!;
  assert.equal(top.nearestAtom, 0);
  assert.ok(Math.abs(top.nearestCosine) > 0.99);
  assert.equal(top.interpretation, 'partial-absorption residue');
  assert.ok(rep.support.on[0]! > 5, 'on-support ⟨d̂₀, r⟩ is far above λ_e');
});

test('G* = 0 exactly when ‖r(x)‖ ≤ λ_e for every row (D1 dual condition), and > 0 otherwise', () => {
  const d = 16, F = 8, lambda = 0.2;
  // At most one active feature per row and a complete orthonormal dictionary: r = λ d̂_i or 0 or a sub-threshold part.
  const one = g1({ seed: 5, n: 1500, d, features: F, p: 0.1, maxActive: 1 });
  const sae = reluSae(one.features, F, d, { lambda, bias: one.bias });
  const a = residualSection(buildContext(sae, one.x, one.n)).gain;
  assert.ok(a.maxResidualNormOverLambda <= 1 + 1e-5, `max ‖r‖/λ ${a.maxResidualNormOverLambda}`);
  assert.equal(a.isZero, true);
  assert.ok(a.gStar <= 1e-9 * a.meanHalfSquaredResidual);
  // Two features may fire together: ‖r‖ = λ√2 on those rows, so G* > 0, and its direction is a
  // composition of two atoms (cos ≈ 1/√2 to each).
  const two = g1({ seed: 5, n: 1500, d, features: F, p: 0.3, maxActive: 2 });
  const sae2 = reluSae(two.features, F, d, { lambda, bias: two.bias });
  const b = residualSection(buildContext(sae2, two.x, two.n)).gain;
  assert.ok(b.maxResidualNormOverLambda > 1.4);
  assert.equal(b.isZero, false);
  assert.ok(b.gStar > 1e-4, `G* ${b.gStar}`);
  // G(u*) recomputed independently from the residuals.
  const ctx = buildContext(sae2, two.x, two.n);
  let g = 0;
  for (let r = 0; r < two.n; r++) {
    let z = 0;
    for (let j = 0; j < d; j++) z += b.direction[j]! * ctx.residual[r * d + j]!;
    if (z > lambda) g += 0.5 * (z - lambda) ** 2;
  }
  assert.ok(Math.abs(g / two.n - b.gStar) < 1e-6 * Math.max(1, b.gStar) + 1e-9);
  assert.ok(Math.abs(Math.abs(b.nearestCosine) - Math.SQRT1_2) < 0.05, `nearest cos ${b.nearestCosine}`);
});
