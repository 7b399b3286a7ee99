import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absorptionSection } from '../../../src/diagnostics/absorption';
import { buildContext } from '../../../src/diagnostics/context';
import { g2, pickRows, reluSae, unitRows } from './b-data';
import type { TestData } from './b-data';

const d = 24, lambda = 0.1;

/** Parent atom, merged atoms ∝ E[x − b | child c], then the distractors: the optimum of docs/theory.md §C3. */
function absorbingAtoms(data: TestData): { atoms: Float32Array; m: number } {
  const h = data.hierarchy![0]!;
  const F = data.nFeatures;
  const extra = Array.from({ length: F - 1 - h.children.length }, (_, e) => 1 + h.children.length + e);
  const merged = new Float32Array(h.children.length * d);
  h.children.forEach((c, k) => {
    for (let r = 0; r < data.n; r++) {
      if (!(data.codes[r * F + c]! > 0)) continue;
      for (let j = 0; j < d; j++) merged[k * d + j]! += data.x[r * d + j]! - data.bias[j]!;
    }
  });
  const m = 1 + h.children.length + extra.length;
  const atoms = new Float32Array(m * d);
  atoms.set(pickRows(data.features, [h.parent], d), 0);
  atoms.set(unitRows(merged, h.children.length, d), d);
  atoms.set(pickRows(data.features, extra, d), (1 + h.children.length) * d);
  return { atoms, m };
}

const hierarchy = (constant: boolean, thetaDeg = 90): TestData =>
  g2({ seed: 11, n: 6000, d, parents: 1, children: 3, pParent: 0.3, q: 0.6, thetaDeg, constant, extra: 4, pExtra: 0.05, noise: 0.005 });

test('absorbing dictionary with constant magnitudes: AR_p ≈ P(child | parent) and the full-absorption flag', () => {
  const data = hierarchy(true);
  const { atoms, m } = absorbingAtoms(data);
  const sae = reluSae(atoms, m, d, { lambda, bias: data.bias, atomScale: 3 });
  const rep = absorptionSection(buildContext(sae, data.x, data.n), { groundTruth: { features: data.features, nFeatures: data.nFeatures, codes: data.codes, hierarchy: data.hierarchy! } });
  const parent = rep.parents.find((p) => p.latent === 0)!;
  // Independent expectation: the share of parent events that carry a child.
  let parentRows = 0, childRows = 0;
  for (let r = 0; r < data.n; r++) {
    if (!(data.codes[r * data.nFeatures]! > 0)) continue;
    parentRows++;
    if ([1, 2, 3].some((c) => data.codes[r * data.nFeatures + c]! > 0)) childRows++;
  }
  assert.ok(Math.abs(parent.rate - childRows / parentRows) < 0.02, `AR ${parent.rate} vs ${childRows / parentRows}`);
  assert.equal(parent.full, true);
  assert.deepEqual(rep.fullyAbsorbed.includes(0), true);
  const absorbers = parent.absorbers.map((a) => a.latent).sort();
  assert.deepEqual(absorbers, [1, 2, 3]);
  for (const a of parent.absorbers) {
    assert.ok(Math.abs(a.cosine - Math.SQRT1_2) < 0.02, `cos ${a.cosine}`);
    assert.ok(a.exclusivity > 0.99);
    assert.ok(a.suppressed && Math.abs(a.encoderSuppressionRelative + Math.SQRT1_2 / 3) < 0.02, `suppression (−cos·⟨w_enc,p, d̂_p⟩ = −0.707/3) ${a.encoderSuppressionRelative}`);
  }
  // Only the parent: the merged atoms are not 'absorbed' by the parent latent or by each other (nesting).
  assert.deepEqual(rep.fullyAbsorbed, [0]);
  for (const a of parent.absorbers) assert.ok(Math.abs(a.nesting - 1) < 0.02, `nesting ${a.nesting}`);
  // Distractors are never absorbed.
  for (const e of [4, 5, 6, 7]) assert.ok(rep.rate[e]! < 0.01, `distractor ${e}: ${rep.rate[e]}`);
  const gt = rep.groundTruth![0]!;
  assert.equal(gt.matchedLatent, 0);
  assert.ok(gt.rate > 0.99 && gt.events > 500, `GT AR ${gt.rate}`);
});

test('absorbing dictionary with U[1,2] magnitudes: partial absorption (the parent fires weakly with the child)', () => {
  const data = hierarchy(false);
  const { atoms, m } = absorbingAtoms(data);
  const sae = reluSae(atoms, m, d, { lambda, bias: data.bias });
  const rep = absorptionSection(buildContext(sae, data.x, data.n), { parents: [0] });
  const parent = rep.parents[0]!;
  assert.equal(parent.partial, true);
  assert.equal(parent.full, false, 'the parent still fires on ~40% of child events: exclusivity < 0.9');
  assert.ok(parent.rate > 0.15 && parent.rate < 0.5, `AR ${parent.rate}`);
  for (const a of parent.absorbers) assert.ok(a.coFiringActivationRatio < 0.5 && a.exclusivity > 0.4 && a.exclusivity < 0.8, JSON.stringify(a));
});

test('true dictionary with an encoder that fires the parent on child events: AR_p ≈ 0, no flags', () => {
  const data = hierarchy(true);
  const sae = reluSae(data.features, data.nFeatures, d, { lambda, bias: data.bias });
  const rep = absorptionSection(buildContext(sae, data.x, data.n), { groundTruth: { features: data.features, nFeatures: data.nFeatures, codes: data.codes, hierarchy: data.hierarchy! } });
  const parent = rep.parents.find((p) => p.latent === 0)!;
  assert.ok(parent.rate < 0.01, `AR ${parent.rate}`);
  assert.equal(parent.full, false);
  assert.equal(parent.partial, false);
  assert.deepEqual(rep.fullyAbsorbed, []);
  assert.ok(rep.groundTruth![0]!.rate < 0.01);
});

test('a latent with too few present rows gets NaN with a reason, never a silent NaN', () => {
  const data = hierarchy(true);
  const sae = reluSae(data.features, data.nFeatures, d, { lambda, bias: data.bias });
  const rep = absorptionSection(buildContext(sae, data.x.subarray(0, 20 * d), 20));
  for (const p of rep.parents) if (Number.isNaN(p.rate)) assert.match(p.reason ?? '', /rows/);
  assert.ok(rep.parents.some((p) => Number.isNaN(p.rate)));
});

test('at 60° siblings overlap (cos 0.75) but only the parent is flagged; its absorbers are nested at 1 + cos θ', () => {
  const data = hierarchy(true, 60);
  const { atoms, m } = absorbingAtoms(data);
  const rep = absorptionSection(buildContext(reluSae(atoms, m, d, { lambda, bias: data.bias }), data.x, data.n));
  assert.deepEqual(rep.fullyAbsorbed, [0]);
  assert.deepEqual(rep.partiallyAbsorbed, []);
  // On a child row q_P = s_P + cos θ·s_c = 1.5 against 1 where the parent fires alone.
  for (const a of rep.parents[0]!.absorbers) assert.ok(Math.abs(a.nesting - 1.5) < 0.02, `nesting ${a.nesting}`);
  for (const c of [1, 2, 3]) assert.ok(rep.rate[c]! < 0.01, `merged atom ${c}: ${rep.rate[c]}`);
});

test('transcoders (d_in ≠ d_out): absorption and residual run on the target site, NaN encoder suppression has its reason', async () => {
  const { residualSection } = await import('../../../src/diagnostics/residual');
  const { seededRandom } = await import('../../../src/diagnostics/linalg');
  const rnd = seededRandom(4);
  const dIn = 10, dOut = 6, m = 5, n = 300;
  const wEnc = Float32Array.from({ length: dIn * m }, () => rnd() - 0.3);
  const wDec = Float32Array.from({ length: m * dOut }, () => rnd() - 0.5);
  const x = Float32Array.from({ length: n * dIn }, () => rnd());
  const y = Float32Array.from({ length: n * dOut }, () => rnd());
  const sae = {
    cfg: { activation: 'relu' as const, dIn, dSae: m, dOut, transcoder: true, applyBDecToInput: false, normalizeActivations: 'none' as const, rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {}, training: { lambdaE: 0.05 } },
    wEnc, bEnc: new Float32Array(m), wDec, bDec: new Float32Array(dOut),
  };
  const ctx = buildContext(sae, x, n, { y });
  const abs = absorptionSection(ctx);
  for (const p of abs.parents) for (const a of p.absorbers) assert.ok(Number.isNaN(a.encoderSuppression));
  assert.match(abs.nanReasons.encoderSuppression, /transcoder/);
  const res = residualSection(ctx);
  assert.equal(res.spectrum.eigenvalues.length, dOut);
  assert.equal(res.gain.direction.length, dOut);
});
