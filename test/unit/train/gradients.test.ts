// Every hand-derived gradient of the step (four architectures, both relu decoder-norm variants, aux-k, both
// decoder paths) against TensorFlow.js autodiff of the same loss written with tf ops (custom gradients for
// JumpReLU's STE) — plain, and for the weighted SAE (WSAE, docs/theory.md §A7) with the reconstruction terms
// weighted per input dimension by Γ (loss mean‖Γ(x − x̂)‖² + sparsity, aux-k likewise weighted) — and the
// family through the same engine (test/helpers/familyObjective.ts is the dense reference of these losses):
// transcoders (input x, target y of another width, optional skip W_skip), crosscoders (group lasso over
// the sources' decoder blocks, no b_dec on the input) and Matryoshka (summed prefix losses), on 1 and 2
// threads (kernel workers over the shared arena). The family cases run on the native BLAS engine too when
// its addon is built (its sgemm takes the skip and dense-path products there; the other cases are compared
// with the JS step on BLAS in test/unit/compute/blas.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadBlas } from '../../../src/compute/blasGemm';
import { threadGemm } from '../../../src/compute/engine';
import { jsGemm } from '../../../src/compute/gemm';
import { loadWasmGemm } from '../../../src/compute/wasmGemm';
import { familyLossAndGrads } from '../../helpers/familyObjective';
import type { FamilyParams } from '../../helpers/familyObjective';
import { modelConfig } from '../../../src/sae/objectives';
import type { ModelConfig } from '../../../src/sae/objectives';
import type { ArchName as TrainArch } from '../../../src/sae/arch/registry';
import { buildLayout } from '../../../src/train/layout';
import { WorkerPool } from '../../../src/train/pool';
import { StepEngine } from '../../../src/train/stepEngine';
import { seededRandom } from '../../../src/util/random';

void tf.setBackend('cpu');

interface Case {
  arch: TrainArch; unitNormDecoder?: boolean; dead?: number; k?: number; dense?: boolean; weighted?: boolean;
  // the family: a separate target of width dOut (transcoder), skip, decoder-norm groups, Matryoshka prefixes
  name?: string; dIn?: number; dOut?: number; target?: boolean; skip?: boolean; groups?: number; prefixes?: number[]; threads?: number;
  /** The GEMM engine of the step: plain JS (default) or native BLAS over a shared wasm arena. */
  blas?: boolean;
}
const D_SAE = 12, B = 6, LAMBDA = 0.3, DEAD_TOKENS = 100;
let D_IN = 8, D_OUT = 8;

function randn(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

function setup(c: Case): { eng: StepEngine; cfg: ModelConfig; pool?: WorkerPool } {
  D_IN = c.dIn ?? 8; D_OUT = c.dOut ?? D_IN;
  const cfg = modelConfig(c.arch, D_IN, D_SAE, B, {
    k: c.k ?? 3, unitNormDecoder: c.unitNormDecoder, captureGrads: true, reconWeighted: !!c.weighted, bandwidth: 0.4, denseThreshold: c.dense ? 0 : Infinity,
    dOut: D_OUT, target: c.target, bDecInput: c.target || (c.groups ?? 1) > 1 ? false : true, skip: c.skip, normGroups: c.groups, prefixes: c.prefixes,
  });
  const threads = c.threads ?? 1;
  const layout = buildLayout(cfg, threads);
  let spec: { blas: boolean; memory?: WebAssembly.Memory; module?: WebAssembly.Module } = { blas: false };
  if (c.blas) {
    const w = loadWasmGemm();
    if ('error' in w) throw new Error(w.error);
    spec = { blas: true, memory: w.makeMemory(layout.bytes), module: w.module };
  }
  const buffer = spec.memory ? (spec.memory.buffer as unknown as SharedArrayBuffer) : new SharedArrayBuffer(layout.bytes);
  const pool = threads > 1 ? new WorkerPool(new Int32Array(buffer, layout.regions.get('control')!.offset, 16), cfg, threads, buffer, spec) : undefined;
  const eng = new StepEngine(cfg, buffer, c.blas ? threadGemm(spec) : jsGemm, threads, pool);
  if (c.blas) assert.equal(eng.thread0.gemm.name, 'blas', 'the step runs on the BLAS provider');
  const f = eng.views.f32;
  const rand = seededRandom(42);
  for (const name of ['wEncT', 'wDec', 'x', 'y', 'wSkip'] as const) for (let i = 0; i < f[name]!.length; i++) f[name]![i] = randn(rand) * 0.5;
  for (let i = 0; i < D_SAE; i++) f.bEnc![i] = randn(rand) * 0.1;
  for (let i = 0; i < D_OUT; i++) f.bDec![i] = randn(rand) * 0.1;
  // γ² spread over two orders of magnitude, one dimension switched off entirely
  if (c.weighted) for (let i = 0; i < D_OUT; i++) f.gamma2![i] = i === 0 ? 0 : Math.exp(2 * randn(rand));
  if (cfg.unitNormDecoder) {
    for (let i = 0; i < D_SAE; i++) {
      const row = f.wDec!.subarray(i * D_OUT, (i + 1) * D_OUT);
      const n = Math.hypot(...row);
      for (let q = 0; q < D_OUT; q++) row[q]! /= n;
    }
  }
  if (c.arch === 'jumprelu') {
    // thresholds near the pre-activations so that the rectangle kernel catches some rows
    for (let i = 0; i < D_SAE; i++) f.logTheta![i] = Math.log(0.2 + 0.3 * rand());
  }
  const since = eng.views.f64.tokensSinceFired!;
  for (let i = 0; i < D_SAE; i++) since[i] = i < (c.dead ?? 0) ? DEAD_TOKENS : 0;
  return { eng, cfg, pool };
}

/** The same loss in tf ops; returns grads by name. */
function tfGrads(eng: StepEngine, cfg: ModelConfig): Record<string, Float32Array> {
  const f = eng.views.f32;
  const x = tf.tensor2d(f.x!.slice(), [B, D_IN]);
  const y = cfg.target ? tf.tensor2d(f.y!.slice(), [B, D_OUT]) : x;
  const gamma2 = cfg.reconWeighted ? tf.tensor1d(f.gamma2!.slice()) : tf.ones([D_OUT]);
  const names = ['wEncT', 'bEnc', 'wDec', 'bDec', ...(cfg.arch === 'jumprelu' ? ['logTheta'] : []), ...(cfg.skip ? ['wSkip'] : [])];
  const shapes: Record<string, number[]> = { wEncT: [D_SAE, D_IN], bEnc: [D_SAE], wDec: [D_SAE, D_OUT], bDec: [D_OUT], logTheta: [D_SAE], wSkip: [D_OUT, D_IN] };
  const params = names.map((n) => tf.tensor(f[n]!.slice(), shapes[n]!));
  const eps = cfg.bandwidth;
  const rect = (z: tf.Tensor, th: tf.Tensor): tf.Tensor => tf.cast(tf.less(tf.abs(tf.div(tf.sub(z, th), eps)), 0.5), 'float32');
  const jump = tf.customGrad(((z: tf.Tensor, t: tf.Tensor, save: tf.GradSaveFunc) => {
    const th = tf.exp(t);
    save([z, t]);
    return {
      value: tf.mul(z, tf.cast(tf.greater(z, th), 'float32')),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ts] = saved as [tf.Tensor, tf.Tensor];
        const ths = tf.exp(ts);
        const dz = tf.mul(dy, tf.cast(tf.greater(zs, ths), 'float32'));
        const dth = tf.sum(tf.mul(tf.mul(dy, rect(zs, ths)), tf.neg(tf.div(ths, eps))), 0);
        return [dz, tf.mul(dth, ths)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (z: tf.Tensor, t: tf.Tensor) => tf.Tensor;
  const step = tf.customGrad(((z: tf.Tensor, t: tf.Tensor, save: tf.GradSaveFunc) => {
    const th = tf.exp(t);
    save([z, t]);
    return {
      value: tf.cast(tf.greater(z, th), 'float32'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ts] = saved as [tf.Tensor, tf.Tensor];
        const ths = tf.exp(ts);
        const dth = tf.sum(tf.mul(tf.mul(dy, rect(zs, ths)), -1 / eps), 0);
        return [tf.zerosLike(zs), tf.mul(dth, ths)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (z: tf.Tensor, t: tf.Tensor) => tf.Tensor;
  const since = eng.views.f64.tokensSinceFired!;
  const deadMask = tf.tensor1d(Array.from({ length: D_SAE }, (_, i) => (since[i]! >= DEAD_TOKENS ? 1 : 0)));
  const nDead = Array.from(since).filter((s) => s >= DEAD_TOKENS).length;

  // every prefix's reconstruction (one prefix, d_sae, for everything but Matryoshka); the last is the full one
  const forward = (p: tf.Tensor[]): { xhats: tf.Tensor[]; xhat: tf.Tensor; z: tf.Tensor; codes: tf.Tensor } => {
    const [wEncT, bEnc, wDec, bDec] = p as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    const logTheta = p[names.indexOf('logTheta')], wSkip = p[names.indexOf('wSkip')] as tf.Tensor2D | undefined;
    const xc = cfg.bDecInput ? tf.sub(x, bDec) : x;
    const z = tf.add(tf.matMul(xc, wEncT, false, true), bEnc);
    let codes: tf.Tensor;
    if (cfg.arch === 'relu') codes = tf.relu(z);
    else if (cfg.arch === 'jumprelu') codes = jump(z, logTheta!);
    else codes = tf.mul(tf.relu(z), masks!.keep);
    const base = wSkip ? tf.add(tf.matMul(x, wSkip, false, true), bDec) : bDec;
    const xhats = cfg.prefixes.map((m) => tf.add(tf.matMul(tf.slice(codes, [0, 0], [B, m]) as tf.Tensor2D, tf.slice(wDec, [0, 0], [m, D_OUT]) as tf.Tensor2D), base));
    return { xhats, xhat: xhats.at(-1)!, z, codes };
  };
  // TopK selections are piecewise constant in the parameters: their masks are computed once, from the
  // same pre-activations (torch.topk's gradient likewise flows through the selected entries only)
  const masks = cfg.arch === 'topk' || cfg.arch === 'batchtopk' ? tf.tidy(() => {
    const [wEncT, bEnc, , bDec] = params as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    const z = tf.add(tf.matMul(cfg.bDecInput ? tf.sub(x, bDec) : x, wEncT, false, true), bEnc);
    let keep: tf.Tensor;
    if (cfg.arch === 'topk') keep = tf.sum(tf.oneHot(tf.topk(z, cfg.k).indices, D_SAE), 1);
    else keep = tf.reshape(tf.sum(tf.oneHot(tf.topk(tf.reshape(tf.relu(z), [1, B * D_SAE]), cfg.k * B).indices, B * D_SAE), 1), [B, D_SAE]);
    let aux: tf.Tensor | undefined;
    if (cfg.auxK && nDead > 0) {
      const masked = tf.where(tf.cast(tf.broadcastTo(deadMask, [B, D_SAE]), 'bool'), z, tf.fill([B, D_SAE], -Infinity));
      aux = tf.sum(tf.oneHot(tf.topk(masked, Math.min(cfg.kAux, nDead)).indices, D_SAE), 1);
    }
    return { keep: tf.cast(keep, 'float32'), aux: aux && tf.cast(aux, 'float32') };
  }) : undefined;
  // the aux target x − x̂ is a constant (detached), as in SAELens/sparsify
  const residualConst = tf.tidy(() => tf.sub(y, forward(params).xhat));
  const loss = (...p: tf.Tensor[]): tf.Scalar => {
    const { xhats, z, codes } = forward(p);
    let l: tf.Tensor = tf.scalar(0);
    for (const xhat of xhats) l = tf.add(l, tf.mean(tf.sum(tf.mul(gamma2, tf.square(tf.sub(xhat, y))), 1)));
    const wDec = p[2]!;
    if (cfg.arch === 'relu') {
      // Σ_g ‖d_i^g‖ over the decoder-norm groups (crosscoder: per source; one group: ‖d_i‖)
      const norms = cfg.unitNormDecoder ? tf.onesLike(p[1]!) : tf.sum(tf.norm(tf.reshape(wDec, [D_SAE, cfg.normGroups, D_OUT / cfg.normGroups]), 'euclidean', 2), 1);
      l = tf.add(l, tf.mul(LAMBDA, tf.mean(tf.sum(tf.mul(codes, norms), 1))));
    }
    if (cfg.arch === 'jumprelu') l = tf.add(l, tf.mul(LAMBDA, tf.mean(tf.sum(step(z, p[4]!), 1))));
    if (cfg.auxK && nDead > 0) {
      const kAux = Math.min(cfg.kAux, nDead);
      const auxActs = tf.mul(z, masks!.aux!);
      assert.equal(kAux, tf.sum(masks!.aux!).dataSync()[0]! / B);
      const recon = tf.matMul(auxActs, wDec);
      const scale = Math.min(nDead / cfg.kAux, 1);
      l = tf.add(l, tf.mul(cfg.auxCoef * scale, tf.mean(tf.sum(tf.mul(gamma2, tf.square(tf.sub(recon, residualConst))), 1))));
    }
    return l as tf.Scalar;
  };
  lastLoss = loss(...params).dataSync()[0]!;
  const grads = tf.grads(loss)(params);
  const out: Record<string, Float32Array> = {};
  names.forEach((n, i) => { out[n] = grads[i]!.dataSync() as Float32Array; });
  if (cfg.unitNormDecoder) {
    // the unit-norm variant removes the component of each decoder-row gradient parallel to the row
    const g = out.wDec!, d = f.wDec!;
    for (let i = 0; i < D_SAE; i++) {
      let par = 0;
      for (let q = 0; q < D_OUT; q++) par += g[i * D_OUT + q]! * d[i * D_OUT + q]!;
      for (let q = 0; q < D_OUT; q++) g[i * D_OUT + q]! -= par * d[i * D_OUT + q]!;
    }
  }
  return out;
}

let lastLoss = NaN;
/** The loss value at the current parameters (for WSAE the reported loss must be the weighted one). */
function tfLoss(eng: StepEngine, cfg: ModelConfig): number {
  void tfGrads(eng, cfg);
  return lastLoss;
}

async function check(c: Case): Promise<void> {
  const { eng, cfg, pool } = setup(c);
  try { checkEngine(c, eng, cfg); } finally { await pool?.close(); }
}

function checkEngine(c: Case, eng: StepEngine, cfg: ModelConfig): void {
  const expected = tfGrads(eng, cfg);
  const expectedLoss = tfLoss(eng, cfg);
  const stats = eng.step({ lr: 0, sparsityCoef: LAMBDA, deadTokens: DEAD_TOKENS });
  if (c.weighted || cfg.prefixes.length > 1 || cfg.target) assert.ok(Math.abs(stats.loss - expectedLoss) < 1e-4 * Math.max(1, expectedLoss), `reported loss ${stats.loss} vs weighted ${expectedLoss}`);
  assert.ok(stats.l0 > 0, 'some latents are active');
  const f = eng.views.f32;
  const got: Record<string, Float32Array> = { wEncT: f.gradWEncT!, bEnc: f.gradBEnc!, wDec: f.gradWDec!, bDec: f.gradBDec!, wSkip: f.gradWSkip! };
  if (cfg.arch === 'jumprelu') got.logTheta = f.gradLogTheta!;
  for (const [name, exp] of Object.entries(expected)) {
    const g = got[name]!;
    const scale = Math.max(1e-6, ...Array.from(exp, Math.abs));
    let worst = 0;
    for (let i = 0; i < exp.length; i++) worst = Math.max(worst, Math.abs(g[i]! - exp[i]!));
    assert.ok(worst / scale < 2e-4, `${c.name ?? ''}${cfg.arch}${c.unitNormDecoder ? ' unit-norm' : ''}${c.dead ? ` dead=${c.dead}` : ''}: ∂L/∂${name} differs from autodiff by ${worst} (scale ${scale})`);
    assert.ok(scale > 1e-6 || name === 'logTheta', `${name} gradient is not trivially zero`);
  }
  if (cfg.arch === 'jumprelu') assert.ok(Math.max(...Array.from(got.logTheta!, Math.abs)) > 0, 'some rows fall in the STE kernel');
  if (c.dense !== undefined) assert.equal(eng.thread0.dense, c.dense, 'the intended decoder path ran');
  // the dense reference of the same losses against the same autodiff, wherever it has every term (no aux-k)
  if (!(cfg.auxK && (c.dead ?? 0) > 0)) checkDenseReference(c, eng, cfg, expected, expectedLoss);
}

/** test/helpers/familyObjective.ts (W_enc as [d_in, d_sae]) on the engine's parameters and batch. */
function checkDenseReference(c: Case, eng: StepEngine, cfg: ModelConfig, expected: Record<string, Float32Array>, expectedLoss: number): void {
  const f = eng.views.f32;
  const wEnc = new Float32Array(D_IN * D_SAE);
  for (let i = 0; i < D_SAE; i++) for (let q = 0; q < D_IN; q++) wEnc[q * D_SAE + i] = f.wEncT![i * D_IN + q]!;
  const p: FamilyParams = { wEnc, bEnc: f.bEnc!.slice(), wDec: f.wDec!.slice(), bDec: f.bDec!.slice(), ...(cfg.arch === 'jumprelu' ? { logTheta: f.logTheta!.slice() } : {}), ...(cfg.skip ? { wSkip: f.wSkip!.slice() } : {}) };
  const grads: FamilyParams = { wEnc: new Float32Array(wEnc.length), bEnc: new Float32Array(D_SAE), wDec: new Float32Array(D_SAE * D_OUT), bDec: new Float32Array(D_OUT), logTheta: p.logTheta && new Float32Array(D_SAE), wSkip: p.wSkip && new Float32Array(p.wSkip.length) };
  const res = familyLossAndGrads({
    arch: cfg.arch, dIn: D_IN, dSae: D_SAE, dOut: D_OUT, k: cfg.k, prefixes: cfg.prefixes, normGroups: cfg.normGroups, bDecInput: cfg.bDecInput, skip: cfg.skip,
    unitNormDecoder: cfg.unitNormDecoder, bandwidth: cfg.bandwidth, gamma2: cfg.reconWeighted ? f.gamma2!.slice() : undefined,
  }, p, f.x!.slice(), (cfg.target ? f.y! : f.x!).slice(), B, LAMBDA, grads);
  const label = `dense reference, ${c.name ?? ''}${cfg.arch}${c.unitNormDecoder ? ' unit-norm' : ''}`;
  assert.ok(Math.abs(res.loss - expectedLoss) < 1e-4 * Math.max(1, expectedLoss), `${label}: loss ${res.loss} vs ${expectedLoss}`);
  const wEncT = new Float32Array(D_SAE * D_IN);
  for (let i = 0; i < D_SAE; i++) for (let q = 0; q < D_IN; q++) wEncT[i * D_IN + q] = grads.wEnc[q * D_SAE + i]!;
  const got: Record<string, Float32Array | undefined> = { wEncT, bEnc: grads.bEnc, wDec: grads.wDec, bDec: grads.bDec, logTheta: grads.logTheta, wSkip: grads.wSkip };
  for (const [name, exp] of Object.entries(expected)) {
    const g = got[name]!;
    const scale = Math.max(1e-6, ...Array.from(exp, Math.abs));
    let worst = 0;
    for (let i = 0; i < exp.length; i++) worst = Math.max(worst, Math.abs(g[i]! - exp[i]!));
    assert.ok(worst / scale < 2e-4, `${label}: ∂L/∂${name} differs from autodiff by ${worst} (scale ${scale})`);
  }
}

const family: Case[] = [
  { name: 'transcoder 8 → 12 ', arch: 'relu', dOut: 12, target: true },
  { name: 'transcoder 8 → 12 ', arch: 'relu', dOut: 12, target: true, dense: true },
  { name: 'skip transcoder 8 → 12 ', arch: 'relu', dOut: 12, target: true, skip: true },
  { name: 'skip transcoder 6 → 5 (no dense path, W_skip by axpy) ', arch: 'relu', dIn: 6, dOut: 5, target: true, skip: true },
  { name: 'transcoder 8 → 12 ', arch: 'topk', dOut: 12, target: true, dead: 6 },
  { name: 'skip transcoder 8 → 12, WSAE ', arch: 'topk', dOut: 12, target: true, skip: true, weighted: true },
  { name: 'transcoder 8 → 12 ', arch: 'jumprelu', dOut: 12, target: true },
  { name: 'skip transcoder 8 → 12 ', arch: 'jumprelu', dOut: 12, target: true, skip: true, dense: true },
  { name: 'transcoder 8 → 12 ', arch: 'batchtopk', dOut: 12, target: true, dead: 5 },
  { name: 'crosscoder L = 2 × 4, group lasso ', arch: 'relu', groups: 2 },
  { name: 'crosscoder L = 2 × 4, group lasso ', arch: 'relu', groups: 2, dense: true },
  { name: 'crosscoder L = 2 × 4, WSAE ', arch: 'relu', groups: 2, weighted: true },
  { name: 'crosscoder L = 2 × 4 ', arch: 'topk', groups: 2, dead: 4 },
  { name: 'crosscoder L = 3 × 4, WSAE ', arch: 'relu', dIn: 12, groups: 3, weighted: true },
  { name: 'transcoder 8 → 12, WSAE ', arch: 'batchtopk', dOut: 12, target: true, weighted: true },
  { name: 'Matryoshka prefixes 3, 7, 12 ', arch: 'batchtopk', prefixes: [3, 7, 12], dead: 5 },
  { name: 'Matryoshka prefixes 3, 7, 12 ', arch: 'batchtopk', prefixes: [3, 7, 12] },
  { name: 'Matryoshka prefixes 4, 12 ', arch: 'relu', prefixes: [4, 12] },
  { name: 'Matryoshka prefixes 4, 12 ', arch: 'relu', prefixes: [4, 12], dense: true },
  { name: 'Matryoshka prefixes 5, 12 ', arch: 'topk', prefixes: [5, 12] },
];
const blasMissing = 'error' in loadBlas() ? 'the native BLAS addon is not built here' : false;
for (const blas of [false, true]) {
  for (const threads of [1, 2]) {
    for (const c of family) {
      const path = c.dense ? ', dense decoder path' : '';
      test(`${c.name}${c.arch}${c.dead ? ` with aux-k on ${c.dead} dead` : ''}${path}, ${threads} thread${threads > 1 ? 's' : ''}${blas ? ', BLAS engine' : ''}: gradients match autodiff`, { skip: blas && blasMissing }, () => check({ ...c, threads, blas }));
    }
  }
}

for (const weighted of [false, true]) {
  const w = weighted ? 'WSAE ' : '';
  for (const dense of [false, true]) {
    const path = dense ? 'dense decoder path' : 'sparse decoder path';
    test(`${w}relu, decoder-norm-weighted L1, ${path}: gradients match autodiff`, () => check({ arch: 'relu', dense, weighted }));
    test(`${w}relu, unit-norm decoder (parallel component removed), ${path}: gradients match autodiff`, () => check({ arch: 'relu', unitNormDecoder: true, dense, weighted }));
    test(`${w}jumprelu with rectangle-kernel STE and L0 penalty, ${path}: gradients match autodiff`, () => check({ arch: 'jumprelu', dense, weighted }));
  }
  test(`${w}topk without dead latents: gradients match autodiff`, () => check({ arch: 'topk', weighted }));
  test(`${w}topk with unit-norm decoder rows (parallel component removed): gradients match autodiff`, () => check({ arch: 'topk', unitNormDecoder: true, weighted }));
  test(`${w}topk with aux-k on 6 dead latents (k_aux = 4, scale 1): gradients match autodiff`, () => check({ arch: 'topk', dead: 6, weighted }));
  test(`${w}topk with aux-k on 2 dead latents (k_aux = 2, scale 1/2): gradients match autodiff`, () => check({ arch: 'topk', dead: 2, weighted }));
  test(`${w}batchtopk with aux-k: gradients match autodiff`, () => check({ arch: 'batchtopk', dead: 5, weighted }));
}
