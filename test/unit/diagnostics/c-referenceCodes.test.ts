// Reference codes for L0-type SAEs (docs/theory.md §B5): OMP with k atoms (TopK), IHT with per-atom thresholds (JumpReLU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ihtCodes, l0Objective, ompCodes } from '../../../src/diagnostics/l0ReferenceCodes';
import { finishCodeSet } from '../../../src/diagnostics/codeResiduals';
import { buildContext } from '../../../src/diagnostics/context';
import { runDiagnostics } from '../../../src/diagnostics';
import { dictionarySae } from '../../helpers/exactDictionary';
import type { AmortisationReport } from '../../../src/diagnostics/amortisation';
import type { Sae } from '../../../src/sae/types';
import { seededRandom } from '../../../src/util/random';
import { gaussian, orthonormalRows } from './b-data';

function randomUnitAtoms(m: number, d: number, rnd: () => number): Float32Array {
  const a = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    let nrm = 0;
    for (let j = 0; j < d; j++) { a[i * d + j] = gaussian(rnd); nrm += a[i * d + j]! ** 2; }
    for (let j = 0; j < d; j++) a[i * d + j]! /= Math.sqrt(nrm);
  }
  return a;
}

/** n rows of exactly k active atoms with magnitudes U[1, 2]; returns targets and the true supports. */
function kSparse(atoms: Float32Array, m: number, d: number, n: number, k: number, rnd: () => number): { t: Float32Array; support: number[][]; coef: number[][] } {
  const t = new Float32Array(n * d), support: number[][] = [], coef: number[][] = [];
  for (let r = 0; r < n; r++) {
    const s = new Set<number>();
    while (s.size < k) s.add(Math.floor(rnd() * m));
    const sup = [...s].sort((a, b) => a - b), c = sup.map(() => 1 + rnd());
    sup.forEach((i, u) => { for (let j = 0; j < d; j++) t[r * d + j]! += c[u]! * atoms[i * d + j]!; });
    support.push(sup); coef.push(c);
  }
  return { t, support, coef };
}

test('OMP with k atoms recovers the exact support and magnitudes of noiseless k-sparse rows over incoherent atoms', () => {
  const rnd = seededRandom(21);
  const m = 64, d = 512, k = 3, n = 300;
  const atoms = randomUnitAtoms(m, d, rnd);
  let coherence = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) {
    let c = 0;
    for (let q = 0; q < d; q++) c += atoms[i * d + q]! * atoms[j * d + q]!;
    coherence = Math.max(coherence, Math.abs(c));
  }
  // the exact-recovery condition for OMP (Tropp 2004): μ < 1/(2k − 1)
  assert.ok(coherence < 1 / (2 * k - 1), `coherence ${coherence}`);
  const { t, support, coef } = kSparse(atoms, m, d, n, k, rnd);
  const ref = ompCodes(t, atoms, n, m, d, k);
  for (let r = 0; r < n; r++) {
    const got = Array.from(ref.idx.subarray(ref.rowPtr[r], ref.rowPtr[r + 1]));
    assert.deepEqual(got, support[r], `row ${r}`);
    got.forEach((_, u) => assert.ok(Math.abs(ref.val[ref.rowPtr[r]! + u]! - coef[r]![u]!) < 1e-4, `row ${r} value ${u}`));
  }
  let rr = 0;
  for (let i = 0; i < n * d; i++) rr = Math.max(rr, Math.abs(ref.residual[i]!));
  assert.ok(rr < 1e-4, `max residual ${rr}`);
});

test('OMP never uses more than k atoms and never a negative code', () => {
  const rnd = seededRandom(4);
  const m = 40, d = 16, n = 100, k = 5;
  const atoms = randomUnitAtoms(m, d, rnd);
  const t = Float32Array.from({ length: n * d }, () => gaussian(rnd));
  const ref = ompCodes(t, atoms, n, m, d, k);
  for (let r = 0; r < n; r++) assert.ok(ref.rowPtr[r + 1]! - ref.rowPtr[r]! <= k);
  for (const v of ref.val) assert.ok(v > 0);
});

test('IHT with per-atom thresholds: every code is 0 or at least its threshold, and the objective never rises above the warm start', () => {
  const rnd = seededRandom(8);
  const m = 48, d = 24, n = 120;
  const atoms = randomUnitAtoms(m, d, rnd);
  const tau = Float32Array.from({ length: m }, () => 0.3 + 0.5 * rnd());
  const t = Float32Array.from({ length: n * d }, () => gaussian(rnd));
  // warm start: OMP codes raised to the JumpReLU set ({0} ∪ [τ_i, ∞))
  const omp = ompCodes(t, atoms, n, m, d, 4);
  const warmValue = Float32Array.from(omp.val, (v, q) => Math.max(v, tau[omp.idx[q]!]!));
  const warm = { rowPtr: omp.rowPtr, idx: omp.idx, val: warmValue };
  const residualOf = (c: { rowPtr: Int32Array; idx: Int32Array; val: Float32Array }): Float32Array => {
    const r = Float32Array.from(t);
    for (let row = 0; row < n; row++) for (let q = c.rowPtr[row]!; q < c.rowPtr[row + 1]!; q++) for (let j = 0; j < d; j++) r[row * d + j]! -= c.val[q]! * atoms[c.idx[q]! * d + j]!;
    return r;
  };
  const ref = ihtCodes(t, atoms, n, m, d, tau, warm);
  for (let q = 0; q < ref.val.length; q++) assert.ok(ref.val[q]! >= tau[ref.idx[q]!]! - 1e-6, `code ${ref.val[q]} below its threshold ${tau[ref.idx[q]!]}`);
  const asSet = (c: { rowPtr: Int32Array; idx: Int32Array; val: Float32Array }, residual: Float32Array) => finishCodeSet({ source: 'exact', kind: 'l0', n, m, d, rowPtr: c.rowPtr, idx: c.idx, val: c.val, residual }, atoms);
  const before = l0Objective(asSet(warm, residualOf(warm)), tau).reduce((s, v) => s + v, 0);
  const after = l0Objective(asSet(ref, ref.residual), tau).reduce((s, v) => s + v, 0);
  assert.ok(after <= before + 1e-6 * before, `objective ${after} vs warm start ${before}`);
  assert.ok(after < 0.99 * before, `IHT improved nothing: ${after} vs ${before}`);
  // the residual it reports is the residual of its codes
  const check = residualOf(ref);
  for (let i = 0; i < n * d; i++) assert.ok(Math.abs(check[i]! - ref.residual[i]!) < 1e-4);
});

test('IHT on orthonormal atoms keeps codes above their threshold and drops those whose gain is below it', () => {
  const rnd = seededRandom(2);
  const m = 6, d = 8, n = 1;
  const atoms = orthonormalRows(m, d, rnd);
  const tau = Float32Array.from([0.5, 0.5, 0.5, 0.8, 0.8, 0.8]);
  const code = [1.2, 0.3, 0, 0.9, 0.7, 0];
  const t = new Float32Array(d);
  code.forEach((c, i) => { for (let j = 0; j < d; j++) t[j]! += c * atoms[i * d + j]!; });
  const ref = ihtCodes(t, atoms, n, m, d, tau);
  const got = new Array<number>(m).fill(0);
  for (let q = 0; q < ref.val.length; q++) got[ref.idx[q]!] = ref.val[q]!;
  // 1.2 ≥ 0.5 and 0.9 ≥ 0.8 are kept exactly; 0.3 < 0.5 is dropped (½·0.3² < ½·0.5²); 0.7 < 0.8: raising it
  // to 0.8 costs ½·0.1² + ½·0.8² = 0.325 > ½·0.7² = 0.245, so it is dropped too
  assert.deepEqual(got.map((v) => Number(v.toFixed(5))), [1.2, 0, 0, 0.9, 0, 0]);
});

function l0Sae(base: Sae, activation: 'topk' | 'jumprelu', opts: { k?: number; theta?: number }): Sae {
  const m = base.cfg.dSae;
  return {
    ...base,
    cfg: { ...base.cfg, activation, k: opts.k, training: {} },
    bEnc: new Float32Array(m),
    ...(opts.theta !== undefined ? { threshold: new Float32Array(m).fill(opts.theta) } : {}),
  };
}

test('B5: the amortisation report says which reference it used — lasso (ReLU), OMP (TopK), IHT (JumpReLU)', () => {
  const rnd = seededRandom(13);
  const m = 24, d = 32, n = 400;
  const atoms = randomUnitAtoms(m, d, rnd);
  const { t } = kSparse(atoms, m, d, n, 2, rnd);
  const bias = new Float32Array(d);
  const relu = dictionarySae(atoms, m, d, bias, 0.1);
  const cases = [
    { sae: relu, kind: 'lasso' },
    { sae: l0Sae(relu, 'topk', { k: 2 }), kind: 'omp' },
    { sae: l0Sae(relu, 'jumprelu', { theta: 0.5 }), kind: 'iht' },
  ] as const;
  for (const { sae, kind } of cases) {
    const r = runDiagnostics(buildContext(sae, t, n), { skip: ['absorption', 'residual', 'coactivation', 'convexReference', 'antipodal', 'identity', 'wideLimit'] });
    const am = r.sections.amortisation as AmortisationReport;
    assert.equal(am.reference?.kind, kind, JSON.stringify((am as unknown as { reason: unknown }).reason));
    assert.ok(am.reference.description.length > 10);
    assert.ok(Number.isFinite(am.objectiveGap), `${kind}: gap ${am.objectiveGap}`);
    // the reference is at least as good as the encoder's codes for IHT (warm-started descent) and lasso
    if (kind !== 'omp') assert.ok(am.objectiveGap >= -1e-6, `${kind}: gap ${am.objectiveGap}`);
    const msg = r.findings.find((f) => f.section === 'amortisation')?.message ?? '';
    assert.match(msg, kind === 'lasso' ? /exact lasso/ : kind === 'omp' ? /OMP/ : /IHT/);
  }
});
