import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSparse, countFirings } from '../../../src/diagnostics/encoderCodes';
import { exactCodes } from '../../../src/diagnostics/lassoCodes';
import { parallelMatmulBT } from '../../../src/diagnostics/linalg';
import { diagnosticsPool, setDiagnosticThreads } from '../../../src/diagnostics/pool';
import { buildContext } from '../../../src/diagnostics/context';
import { finishCodeSet } from '../../../src/diagnostics/codeResiduals';
import { runDiagnostics } from '../../../src/diagnostics';
import { dictionarySae } from '../../helpers/exactDictionary';
import { fastMatmulBT } from '../../../src/compute/fastMatmul';
import { forward } from '../../../src/sae/forward';
import type { Sae } from '../../../src/sae/types';
import { generate } from '../../../src/synthetic';
import { seededRandom } from '../../../src/util/random';

after(() => setDiagnosticThreads(undefined));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

function sample() {
  const ds = generate('g1', { seed: 3, tokens: 1500, dIn: 48, features: 40, sparsity: 0.9, projectionSteps: 0, noise: 0.01 });
  const m = 64, d = ds.d;
  const rnd = seededRandom(5);
  const atoms = new Float32Array(m * d);
  atoms.set(ds.features);
  for (let i = ds.features.length; i < atoms.length; i++) atoms[i] = rnd() - 0.5;
  return { ds, m, d, sae: dictionarySae(atoms, m, d, ds.bias, 0.05) };
}

/** The same encode / exact codes / products with threads = 1 and threads = 2. */
function both<T>(f: () => T): [T, T] {
  setDiagnosticThreads(1);
  const serial = f();
  setDiagnosticThreads(2);
  const parallel = f();
  return [serial, parallel];
}

test('the parallel encoder gives the serial CSR codes, residuals and firing counts', () => {
  const { ds, sae } = sample();
  const [s, p] = both(() => encodeSparse(sae, ds.x, ds.n, { keep: 'residual', chunkRows: 128 }));
  assert.equal(diagnosticsPool()?.threads, 2, 'a worker pool ran the second pass');
  assert.ok(s.codes.idx.length > ds.n, 'codes fire');
  assert.deepEqual(p.codes.rowPtr, s.codes.rowPtr);
  assert.deepEqual(p.codes.idx, s.codes.idx);
  close(p.codes.val, s.codes.val, 1e-6, 'val');
  close(p.residual!, s.residual!, 1e-6, 'residual');
  close(p.residualNorms, s.residualNorms, 1e-6, 'norms');
  assert.deepEqual(p.counts, s.counts);
  close(p.onProj!, s.onProj!, 1e-6, 'onProj');
  // the encoder's on-support projections are ⟨d̂_i, r⟩ as finishCodeSet computes them from the unit atoms
  const unit = buildContext(sae, ds.x, 1).unitAtoms;
  const recomputed = finishCodeSet({ source: 'sae', kind: 'l1', d: ds.d, residual: s.residual!, ...s.codes }, unit).onProj;
  close(s.onProj!, recomputed, 1e-5, 'onProj vs unit atoms');
  const [cs, cp] = both(() => countFirings(sae, ds.x, ds.n));
  assert.deepEqual(cp, cs);
  assert.deepEqual(cs, s.counts, 'counts-only pass = counts of the CSR pass');
});

test('the parallel exact codes a* equal the serial ones', () => {
  const { ds, sae, m, d } = sample();
  const ctx = buildContext(sae, ds.x, 600);
  const targets = new Float32Array(600 * d);
  for (let r = 0; r < 600; r++) for (let j = 0; j < d; j++) targets[r * d + j] = ds.x[r * d + j]! - sae.bDec[j]!;
  const [s, p] = both(() => exactCodes(targets, ctx.unitAtoms, 600, m, d, 0.05, ctx.codes));
  assert.ok(s.idx.length > 0);
  assert.deepEqual(p.rowPtr, s.rowPtr);
  assert.deepEqual(p.idx, s.idx);
  close(p.val, s.val, 1e-6, 'a*');
  close(p.residual, s.residual, 1e-6, 'residual');
  assert.equal(p.unconvergedRows, s.unconvergedRows);
  assert.ok(p.maxViolation < 1e-3);
});

test('parallelMatmulBT (with a column offset into B) equals fastMatmulBT', () => {
  const rnd = seededRandom(9);
  const m = 700, k = 96, n = 400, from = 37, w = 300;
  const a = Float32Array.from({ length: m * k }, () => rnd() - 0.5);
  const b = Float32Array.from({ length: n * k }, () => rnd() - 0.5);
  const ref = fastMatmulBT(a, b.subarray(from * k, (from + w) * k), m, k, w);
  const [s, p] = both(() => parallelMatmulBT(a, b, m, k, w, undefined, from));
  close(s, ref, 1e-6, 'serial');
  close(p, ref, 1e-6, 'parallel');
});

test('the encoder\'s decode (sparse or dense by L0) matches the reference forward pass (TopK with rescale, layer norm, JumpReLU)', () => {
  const rnd = seededRandom(11);
  const dIn = 24, m = 40, n = 300;
  const x = Float32Array.from({ length: n * dIn }, () => 2 * rnd() - 1);
  const make = (over: Partial<Sae['cfg']>, threshold?: boolean): Sae => ({
    cfg: { activation: 'relu', dIn, dSae: m, dOut: dIn, transcoder: false, applyBDecToInput: true, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {}, ...over },
    wEnc: Float32Array.from({ length: dIn * m }, () => rnd() - 0.5), bEnc: Float32Array.from({ length: m }, () => 0.1 * (rnd() - 0.5)),
    wDec: Float32Array.from({ length: m * dIn }, () => rnd() - 0.5), bDec: Float32Array.from({ length: dIn }, () => 0.1 * rnd()),
    ...(threshold ? { threshold: Float32Array.from({ length: m }, () => 0.2 * rnd()) } : {}),
  });
  // TopK k = 2 of 40 takes the sparse decode, the others (≥ 1/8 active) the dense reference decode
  const cases: [string, Sae][] = [
    ['topk(2)+rescale+layer_norm', make({ activation: 'topk', k: 2, rescaleActsByDecoderNorm: true, normalizeActivations: 'layer_norm' })],
    ['topk+rescale', make({ activation: 'topk', k: 5, rescaleActsByDecoderNorm: true })],
    ['relu+layer_norm', make({ normalizeActivations: 'layer_norm' })],
    ['jumprelu+constant_norm_rescale', make({ activation: 'jumprelu', normalizeActivations: 'constant_norm_rescale' }, true)],
  ];
  for (const [name, sae] of cases) {
    const { recon } = forward(sae, x, n);
    const ref = Float32Array.from(x, (v, i) => v - recon[i]!);
    const enc = encodeSparse(sae, x, n, { keep: 'residual' });
    close(enc.residual!, ref, 2e-5, name);
  }
});

/** Paths where two reports differ (numbers beyond a relative 1e-5: a product split across threads may sum in another order). */
function differences(a: unknown, b: unknown, path: string, out: string[]): string[] {
  if (out.length >= 10) return out;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) return differences(Array.from(a as Float32Array), Array.from(b as Float32Array), path, out);
  if (typeof a === 'number' && typeof b === 'number') {
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-5 * (1 + Math.abs(a)))) out.push(`${path}: ${a} vs ${b}`);
    return out;
  }
  if (a && typeof a === 'object' && b && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
    return out;
  }
  if (a !== b) out.push(`${path}: ${String(a)} vs ${String(b)}`);
  return out;
}

test('runDiagnostics gives the same report with one thread and with two', () => {
  const { ds, sae } = sample();
  const [s, p] = both(() => runDiagnostics(buildContext(sae, ds.x, ds.n), { exactRows: 600, skip: ['convexReference'] }));
  assert.ok((s.sections.amortisation as { rows: number }).rows === 600, 'exact codes ran');
  assert.deepEqual(differences({ ...s, timings: {} }, { ...p, timings: {} }, 'report', []), []);
});
