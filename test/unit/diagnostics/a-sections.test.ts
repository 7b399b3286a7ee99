import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from '../../../src/synthetic';
import { dictionarySae } from '../../helpers/exactDictionary';
import { buildContext } from '../../../src/diagnostics/context';
import { runDiagnostics } from '../../../src/diagnostics';
import type { AmortisationReport } from '../../../src/diagnostics/amortisation';
import type { WideLimitReport } from '../../../src/diagnostics/wideLimit';
import { phi } from '../../../src/diagnostics/wideLimit';

test('B5: a useful atom with a silenced encoder is encoder-dead; an atom off the data is dictionary-dead', () => {
  const ds = generate('g2', { seed: 1, tokens: 1500, parents: 2, children: 1, dIn: 12, parentRate: 0.3 });
  const f = ds.nFeatures, d = ds.d, m = f + 1;
  // an extra atom in a direction the data never uses (the basis is orthonormal with 4 of 12 directions used)
  const atoms = new Float32Array(m * d);
  atoms.set(ds.features);
  const extra = new Float32Array(d);
  for (let j = 0; j < d; j++) extra[j] = Math.sin(3.1 * j + 1);
  for (let i = 0; i < f; i++) { let c = 0; for (let j = 0; j < d; j++) c += extra[j] * ds.features[i * d + j]; for (let j = 0; j < d; j++) extra[j] -= c * ds.features[i * d + j]; }
  atoms.set(extra, f * d);
  const sae = dictionarySae(atoms, m, d, ds.bias, 0.1);
  sae.bEnc[0] = -1e6; // parent 0's encoder never fires, its atom is still the best direction for its rows
  const ctx = buildContext(sae, ds.x, ds.n);
  const r = runDiagnostics(ctx, { firingCounts: Float64Array.from(ctx.firing, (p) => Math.round(p * ds.n)), firingRows: ds.n });
  const am = r.sections.amortisation as AmortisationReport;
  assert.deepEqual(am.encoderDead, [0]);
  assert.deepEqual(am.dictionaryDead, [f]);
  assert.ok(am.objectiveGap > 0.05, `gap ${am.objectiveGap}`);
  assert.ok(am.perLatent.fn[0] === 1, 'every exact activation of latent 0 is missed by the encoder');
  assert.ok(r.findings.some((x) => /encoder-dead/.test(x.message)) && r.findings.some((x) => /dictionary-dead/.test(x.message)));
});

test('D1: data on the dictionary\'s rays reach the wide limit (WG = 0); other data leave a positive gap', () => {
  const ds = generate('g7', { seed: 3, tokens: 600 });
  const lambda = 0.1;
  const sae = dictionarySae(ds.features, ds.nFeatures, ds.d, ds.bias, lambda);
  const r = runDiagnostics(buildContext(sae, ds.x, ds.n), { skip: ['identity', 'antipodal'] });
  const w = r.sections.wideLimit as WideLimitReport;
  // with one atom per data ray, exact codes attain φ(‖x − b‖) on every row
  assert.ok(Math.abs(w.widthGap) < 1e-4, `WG ${w.widthGap}`);
  assert.ok(w.minSampleGap > -1e-5);
  // drop half of the atoms: rows on the missing rays cannot attain the bound
  const half = Math.floor(ds.nFeatures / 2);
  const r2 = runDiagnostics(buildContext(dictionarySae(ds.features.slice(0, half * ds.d), half, ds.d, ds.bias, lambda), ds.x, ds.n), { skip: ['identity', 'antipodal'] });
  const w2 = r2.sections.wideLimit as WideLimitReport;
  assert.ok(w2.widthGap > 0.05, `WG ${w2.widthGap}`);
  assert.equal(phi(0.05, 0.1), 0.5 * 0.05 * 0.05);
  assert.ok(Math.abs(phi(2, 0.1) - (0.2 - 0.005)) < 1e-12);
});

test('B4: STAT, RAD and the noise floor SE match a direct computation from their definitions', async () => {
  const { exactCodes } = await import('../../../src/diagnostics/lassoCodes');
  const { finishCodeSet } = await import('../../../src/diagnostics/codeResiduals');
  const { kktStationarity } = await import('../../../src/diagnostics/kkt');
  const ds = generate('g2', { seed: 4, tokens: 400, dIn: 12, parents: 2, children: 1, parentRate: 0.4 });
  const { n, d, nFeatures: m } = ds;
  const t = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) t[r * d + j] = ds.x[r * d + j] - ds.bias[j];
  const lambda = 0.15;
  const ex = exactCodes(t, ds.features, n, m, d, lambda);
  const cs = finishCodeSet({ source: 'exact', kind: 'l1', n, m, d, rowPtr: ex.rowPtr, idx: ex.idx, val: ex.val, residual: ex.residual }, ds.features);
  const k = kktStationarity(cs, ds.features, lambda);
  for (let i = 0; i < m; i++) {
    const a = new Float64Array(n);
    for (let r = 0; r < n; r++) for (let q = cs.rowPtr[r]; q < cs.rowPtr[r + 1]; q++) if (cs.idx[q] === i) a[r] = cs.val[q];
    const di = ds.features.subarray(i * d, i * d + d);
    const g = new Float64Array(d);
    let mean = 0;
    for (let r = 0; r < n; r++) { mean += a[r] / n; for (let j = 0; j < d; j++) g[j] += (a[r] * cs.residual[r * d + j]) / n; }
    const perp = (v: Float64Array): Float64Array => { let p = 0; for (let j = 0; j < d; j++) p += v[j] * di[j]; return v.map((x, j) => x - p * di[j]); };
    const norm = (v: Float64Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const stat = norm(perp(g)) / (lambda * mean);
    let rd = 0;
    for (let j = 0; j < d; j++) rd += g[j] * di[j];
    let msq = 0;
    for (let r = 0; r < n; r++) {
      const v = new Float64Array(d);
      for (let j = 0; j < d; j++) v[j] = a[r] * cs.residual[r * d + j] - g[j];
      msq += norm(perp(v)) ** 2 / n;
    }
    const se = Math.sqrt(msq / n) / (lambda * mean);
    assert.ok(Math.abs(k.perLatent.stat[i] - stat) < 1e-4 * Math.max(1, stat), `STAT ${i}: ${k.perLatent.stat[i]} vs ${stat}`);
    assert.ok(Math.abs(k.perLatent.rad[i] - (rd / (lambda * mean) - 1)) < 1e-4, `RAD ${i}`);
    assert.ok(Math.abs(k.perLatent.statSE[i] - se) < 1e-4 * Math.max(1, se), `SE ${i}: ${k.perLatent.statSE[i]} vs ${se}`);
  }
});

test('B3: the identity residual matches cos − [π + (1 − π)κ] computed from the definitions', async () => {
  const { exactCodes } = await import('../../../src/diagnostics/lassoCodes');
  const { finishCodeSet } = await import('../../../src/diagnostics/codeResiduals');
  const { atomPairs } = await import('../../../src/diagnostics/atomPairs');
  const { identityResidual } = await import('../../../src/diagnostics/identity');
  const ds = generate('g6', { seed: 2, tokens: 500, dIn: 8, angleDeg: 60, distractors: 2, distractorRate: 0.2 });
  const { n, d, nFeatures: m } = ds;
  const t = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) t[r * d + j] = ds.x[r * d + j] - ds.bias[j];
  const lambda = 0.1;
  const ex = exactCodes(t, ds.features, n, m, d, lambda);
  const cs = finishCodeSet({ source: 'exact', kind: 'l1', n, m, d, rowPtr: ex.rowPtr, idx: ex.idx, val: ex.val, residual: ex.residual }, ds.features);
  const pairs = atomPairs(ds.features, new Uint8Array(m).fill(1), m, d);
  const rep = identityResidual(cs, ds.features, lambda, pairs, 100);
  assert.ok(rep.worst.length >= 2, 'the A–B pair (cos 0.5) is evaluated both ways');
  const code = (r: number, i: number): number => { for (let q = cs.rowPtr[r]; q < cs.rowPtr[r + 1]; q++) if (cs.idx[q] === i) return cs.val[q]; return 0; };
  for (const w of rep.worst) {
    let ai = 0, aiOn = 0, num = 0, aiOff = 0, c = 0;
    for (let j = 0; j < d; j++) c += ds.features[w.i * d + j] * ds.features[w.j * d + j];
    for (let r = 0; r < n; r++) {
      const a = code(r, w.i), b = code(r, w.j);
      ai += a;
      if (b > 0) aiOn += a;
      else {
        let p = 0;
        for (let j = 0; j < d; j++) p += ds.features[w.j * d + j] * cs.residual[r * d + j];
        num += a * p; aiOff += a;
      }
    }
    const pi = aiOn / ai;
    const kappa = aiOff > 0 ? num / (lambda * aiOff) : 0;
    const id = c - (pi + (1 - pi) * kappa);
    assert.ok(Math.abs(w.id - id) < 1e-4, `pair ${w.i}→${w.j}: ${w.id} vs ${id}`);
    assert.ok(Math.abs(w.pi - pi) < 1e-6);
  }
});
