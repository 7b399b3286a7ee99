// docs/theory.md §G acceptance tests 1–5 (and G1 at the true dictionary), on small synthetic data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from '../../../src/synthetic';
import { Rng } from '../../../src/synthetic/random';
import { exactCodes } from '../../../src/diagnostics/lassoCodes';
import { finishCodeSet } from '../../../src/diagnostics/codeResiduals';
import type { CodeSet } from '../../../src/diagnostics/codeResiduals';
import { kktStationarity } from '../../../src/diagnostics/kkt';
import { atomPairs } from '../../../src/diagnostics/atomPairs';
import { identityResidual } from '../../../src/diagnostics/identity';
import { learnExactDictionary, dictionarySae } from '../../helpers/exactDictionary';
import { buildContext } from '../../../src/diagnostics/context';
import { runDiagnostics } from '../../../src/diagnostics';
import type { AntipodalReport } from '../../../src/diagnostics/antipodal';
import { wideLimitBound } from '../../../src/diagnostics/wideLimit';
import { normalizeRows } from '../../../src/compute/linalg';

function targets(x: Float32Array, b: Float32Array, n: number, d: number): Float32Array {
  const t = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) t[r * d + j] = x[r * d + j] - b[j];
  return t;
}

function exactSet(t: Float32Array, atoms: Float32Array, n: number, m: number, d: number, lambda: number, method: 'cd' | 'fista' = 'cd'): CodeSet {
  const ex = exactCodes(t, atoms, n, m, d, lambda, undefined, { method });
  return finishCodeSet({ source: 'exact', kind: 'l1', n, m, d, rowPtr: ex.rowPtr, idx: ex.idx, val: ex.val, residual: ex.residual }, atoms);
}

for (const method of ['fista', 'cd'] as const) test(`1: a* (${method}) has KKT_on < 1e-3 and no off-support violation`, () => {
  const ds = generate('g1', { seed: 11, tokens: 800, features: 48, dIn: 32, sparsity: 0.9, maxInterference: 0.3 });
  const lambda = 0.2;
  const cs = exactSet(targets(ds.x, ds.bias, ds.n, ds.d), ds.features, ds.n, ds.nFeatures, ds.d, lambda, method);
  const k = kktStationarity(cs, ds.features, lambda);
  assert.ok(k.summary.maxKktOn < 1e-3, `max KKT_on ${k.summary.maxKktOn}`);
  for (let i = 0; i < ds.nFeatures; i++) if (Number.isFinite(k.perLatent.kktOff[i])) assert.equal(k.perLatent.kktOff[i], 0);
  // the solver's answer is optimal: no single-coordinate move lowers the per-row objective
  const d = ds.d, row = 5;
  const obj = (a: Map<number, number>): number => {
    let s = 0, l1 = 0;
    for (let j = 0; j < d; j++) { let v = ds.x[row * d + j] - ds.bias[j]; for (const [i, c] of a) v -= c * ds.features[i * d + j]; s += v * v; }
    for (const c of a.values()) l1 += c;
    return 0.5 * s + lambda * l1;
  };
  const a = new Map<number, number>();
  for (let q = cs.rowPtr[row]; q < cs.rowPtr[row + 1]; q++) a.set(cs.idx[q], cs.val[q]);
  const base = obj(a);
  for (let i = 0; i < ds.nFeatures; i++) for (const delta of [1e-3, -1e-3]) {
    const b = new Map(a);
    b.set(i, Math.max(0, (b.get(i) ?? 0) + delta));
    assert.ok(obj(b) >= base - 1e-7, `moving latent ${i} by ${delta} lowered the objective`);
  }
});

test('2: |ID_ij| < 1e-3 at a converged exact-code dictionary', () => {
  const ds = generate('g1', { seed: 2, features: 6, dIn: 8, sparsity: 0.7, tokens: 300, maxInterference: 0.3 });
  const init = ds.features.slice();
  const rng = new Rng(5);
  for (let i = 0; i < init.length; i++) init[i] += 0.2 * rng.normal();
  const lambda = 0.1;
  const res = learnExactDictionary(ds.x, ds.n, ds.d, ds.bias, init, 6, lambda, { maxIter: 120 });
  for (let t = 1; t < res.objective.length; t++) assert.ok(res.objective[t] <= res.objective[t - 1] + 1e-6, 'F never increases');
  const cs = finishCodeSet({ source: 'exact', kind: 'l1', n: ds.n, m: 6, d: ds.d, rowPtr: res.codes.rowPtr, idx: res.codes.idx, val: res.codes.val, residual: res.codes.residual }, res.atoms);
  const pairs = atomPairs(res.atoms, new Uint8Array(6).fill(1), 6, ds.d);
  const id = identityResidual(cs, res.atoms, lambda, pairs);
  assert.ok(id.evaluated >= 2, `pairs evaluated: ${id.evaluated}`);
  assert.ok(id.maxAbs < 1e-3, `max |ID| ${id.maxAbs}`);
  // and the identity is not trivially zero: at the (non-stationary) starting dictionary it fails
  const init2 = init.slice(); normalizeRows(init2, 6, ds.d);
  const cs0 = exactSet(targets(ds.x, ds.bias, ds.n, ds.d), init2, ds.n, 6, ds.d, lambda);
  const id0 = identityResidual(cs0, init2, lambda, atomPairs(init2, new Uint8Array(6).fill(1), 6, ds.d));
  assert.ok(id0.maxAbs > 1e-2, `ID at the starting dictionary ${id0.maxAbs}`);
});

test('3: STAT_child = tan(θ/2) ± 0.01 in G2 at the true dictionary (θ = 90°, 60°)', () => {
  for (const angle of [90, 60]) {
    const ds = generate('g2', { seed: 3, parents: 1, children: 1, angleDeg: angle, magnitudes: 'constant', parentRate: 0.5, childRate: 0.5, tokens: 1000, dIn: 8 });
    const lambda = 0.1;
    const cs = exactSet(targets(ds.x, ds.bias, ds.n, ds.d), ds.features, ds.n, 2, ds.d, lambda);
    const k = kktStationarity(cs, ds.features, lambda);
    const child = ds.hierarchy![0].children[0];
    assert.ok(Math.abs(k.perLatent.stat[child] - Math.tan((angle * Math.PI) / 360)) < 0.01, `θ=${angle}: STAT ${k.perLatent.stat[child]}`);
    assert.equal(k.perLatent.flagged[child], 1, 'the child atom is flagged non-stationary');
    assert.deepEqual(k.pull.find((p) => p.latent === child)?.toward, [ds.hierarchy![0].parent], 'the child is pulled toward its parent');
  }
});

test('4: G3 yields exactly one dense antipodal pair, along v, for a dictionary that contains ±v', () => {
  const ds = generate('g3', { seed: 4, tokens: 3000, features: 24, dIn: 96, denseScale: 2 });
  const m = ds.nFeatures + 2, d = ds.d;
  const atoms = new Float32Array(m * d);
  atoms.set(ds.features);
  for (let j = 0; j < d; j++) { atoms[ds.nFeatures * d + j] = ds.denseDirection![j]; atoms[(ds.nFeatures + 1) * d + j] = -ds.denseDirection![j]; }
  const sae = dictionarySae(atoms, m, d, ds.bias, 0.1);
  const report = runDiagnostics(buildContext(sae, ds.x, ds.n), { skip: ['identity', 'amortisation', 'wideLimit'] });
  const anti = report.sections.antipodal as AntipodalReport;
  assert.equal(anti.dense.length, 1);
  const p = anti.dense[0];
  let c = 0;
  for (let j = 0; j < d; j++) c += p.axis[j] * ds.denseDirection![j];
  assert.ok(Math.abs(c) >= 0.95, `|cos(u, v)| ${c}`);
  assert.ok(p.coactivation === 0 && p.pI > 0.3 && p.pJ > 0.3);
  // one-sided: a single dense atom and no pair
  const one = generate('g3', { seed: 4, tokens: 3000, features: 24, dIn: 96, oneSided: true });
  const atoms1 = atoms.slice(0, (m - 1) * d);
  const r1 = runDiagnostics(buildContext(dictionarySae(atoms1, m - 1, d, one.bias, 0.1), one.x, one.n), { skip: ['identity', 'amortisation', 'wideLimit'] });
  assert.equal((r1.sections.antipodal as AntipodalReport).dense.length, 0);
});

test('5: F(D) ≥ F_∞ for random dictionaries (property test)', () => {
  const rng = new Rng(99);
  for (let trial = 0; trial < 12; trial++) {
    const n = 60, d = 2 + rng.int(8), m = 1 + rng.int(12);
    const x = new Float32Array(n * d).map(() => rng.normal() * (0.2 + 2 * rng.uniform()));
    const atoms = new Float32Array(m * d).map(() => rng.normal());
    normalizeRows(atoms, m, d);
    const lambda = 0.05 + rng.uniform();
    const b = new Float32Array(d).map(() => 0.3 * rng.normal());
    const t = targets(x, b, n, d);
    const cs = exactSet(t, atoms, n, m, d, lambda);
    const bound = wideLimitBound(t, n, d, lambda);
    for (let r = 0; r < n; r++) {
      let s = 0, l1 = 0;
      for (let j = 0; j < d; j++) s += cs.residual[r * d + j] ** 2;
      for (let q = cs.rowPtr[r]; q < cs.rowPtr[r + 1]; q++) l1 += cs.val[q];
      assert.ok(0.5 * s + lambda * l1 >= bound[r] - 1e-5, `trial ${trial} row ${r}`);
    }
  }
});

test('G1 at the true dictionary: non-stationary flags stay within the expected false-positive rate', () => {
  const ds = generate('g1', { seed: 6, tokens: 6000, features: 64, dIn: 64, sparsity: 0.98 });
  const lambda = 0.1;
  const cs = exactSet(targets(ds.x, ds.bias, ds.n, ds.d), ds.features, ds.n, ds.nFeatures, ds.d, lambda);
  const k = kktStationarity(cs, ds.features, lambda);
  assert.ok(k.measured > 50);
  assert.ok(k.summary.fractionFlagged <= 0.05, `fraction flagged ${k.summary.fractionFlagged}`);
});
