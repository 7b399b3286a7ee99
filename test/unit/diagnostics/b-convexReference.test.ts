import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext } from '../../../src/diagnostics/context';
import { convexReferenceSection } from '../../../src/diagnostics/convexReference';
import { g1, reluSae } from './b-data';

test('D2: γ = 0 certificate ⟨c_k, r_n⟩ ≤ λ_e (checked from the returned solution), a non-increasing frontier, F_∞ below everything', () => {
  const d = 16, F = 8, lambda = 0.15;
  const data = g1({ seed: 31, n: 800, d, features: F, p: 0.15, noise: 0.02 });
  // A deliberately imperfect SAE: the true atoms with a too-high threshold on two latents.
  const sae = reluSae(data.features, F, d, { lambda, bias: data.bias });
  sae.bEnc[0] = -0.8; sae.bEnc[1] = -0.8;
  const ctx = buildContext(sae, data.x, data.n);
  const rep = convexReferenceSection(ctx, { rows: 160, kmeans: 24, dataAtoms: 16 });
  assert.equal(rep.reason, undefined);
  assert.equal(rep.candidates.total, 8 + 24 + 16);
  // Independent certificate: r_n = x̃_n − Σ_k a_nk c_k, then every ⟨c_k, r_n⟩ ≤ λ_e, = λ_e on the support.
  const { candidates: C, codes: A, rowIndex } = rep.solution;
  const K = rep.candidates.total;
  let worst = -Infinity, worstOn = 0;
  rowIndex.forEach((row, n) => {
    const r = new Float64Array(d);
    for (let j = 0; j < d; j++) r[j] = data.x[row * d + j]! - data.bias[j]!;
    for (let k = 0; k < K; k++) { const a = A[n * K + k]!; if (a) for (let j = 0; j < d; j++) r[j]! -= a * C[k * d + j]!; }
    for (let k = 0; k < K; k++) {
      let c = 0;
      for (let j = 0; j < d; j++) c += C[k * d + j]! * r[j]!;
      worst = Math.max(worst, (c - lambda) / lambda);
      if (A[n * K + k]! > 0) worstOn = Math.max(worstOn, Math.abs(c - lambda) / lambda);
    }
  });
  assert.ok(worst <= 1e-3, `max violation ${worst}`);
  assert.ok(worstOn <= 1e-3, `on-support ${worstOn}`);
  assert.ok(rep.certificate.holds && Math.abs(rep.certificate.maxViolation - worst) < 1e-4);
  // Frontier: non-increasing objective in atom count, made of sweep points, spanning several sizes.
  for (let i = 1; i < rep.frontier.length; i++) {
    assert.ok(rep.frontier[i]!.atoms > rep.frontier[i - 1]!.atoms);
    assert.ok(rep.frontier[i]!.objective <= rep.frontier[i - 1]!.objective);
  }
  assert.ok(new Set(rep.sweep.map((s) => s.atoms)).size >= 3, JSON.stringify(rep.sweep));
  for (const f of rep.frontier) assert.ok(rep.sweep.some((s) => s.atoms === f.atoms && s.refitObjective === f.objective));
  // Larger γ never selects more atoms than γ = 0 here, and γ = 0 over a superset of the SAE's atoms beats F(D).
  const zero = rep.sweep.find((s) => s.gamma === 0)!;
  assert.ok(zero.objective <= rep.sae.objective + 1e-6);
  // D1: F_∞ ≤ F(D) ≤ ℓ(SAE codes); F(D) with exact codes beats the crippled encoder.
  assert.ok(rep.wideLimit <= zero.objective && rep.wideLimit <= rep.sae.objective);
  assert.ok(rep.sae.objective < rep.sae.codesObjective, `${rep.sae.objective} vs ${rep.sae.codesObjective}`);
});

test('D2 reports a reason instead of numbers when λ_e is not positive', () => {
  const d = 8;
  const data = g1({ seed: 2, n: 50, d, features: 4, p: 0.2 });
  const sae = reluSae(data.features, 4, d, { lambda: 0.1, bias: data.bias });
  const rep = convexReferenceSection(buildContext(sae, data.x, data.n, { lambdaE: 0 }));
  assert.match(rep.reason ?? '', /λ_e is 0/);
  assert.ok(Number.isNaN(rep.sae.objective));
});
