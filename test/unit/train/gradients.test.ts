// Every hand-derived gradient of the step (four architectures, both relu decoder-norm variants, aux-k, both
// decoder paths) against TensorFlow.js autodiff of the same loss written with tf ops (custom gradients for
// JumpReLU's STE) — plain, and for the weighted SAE (WSAE, THEORY.md A7) with the reconstruction terms
// weighted per input dimension by Γ (loss mean‖Γ(x − x̂)‖² + sparsity, aux-k likewise weighted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { jsGemm } from '../../../src/compute/gemm';
import { modelConfig } from '../../../src/sae/objectives';
import type { ModelConfig, TrainArch } from '../../../src/sae/objectives';
import { buildLayout } from '../../../src/train/layout';
import { StepEngine } from '../../../src/train/stepEngine';
import { seededRandom } from '../../../src/util/random';

void tf.setBackend('cpu');

interface Case { arch: TrainArch; unitNormDecoder?: boolean; dead?: number; k?: number; dense?: boolean; weighted?: boolean }
const D_IN = 8, D_SAE = 12, B = 6, LAMBDA = 0.3, DEAD_TOKENS = 100;

function randn(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

function setup(c: Case): { eng: StepEngine; cfg: ModelConfig } {
  const cfg = modelConfig(c.arch, D_IN, D_SAE, B, { k: c.k ?? 3, unitNormDecoder: c.unitNormDecoder, captureGrads: true, reconWeighted: !!c.weighted, bandwidth: 0.4, denseThreshold: c.dense ? 0 : Infinity });
  const threads = 1;
  const layout = buildLayout(cfg, threads);
  const eng = new StepEngine(cfg, new SharedArrayBuffer(layout.bytes), jsGemm, threads);
  const f = eng.views.f32;
  const rand = seededRandom(42);
  for (const name of ['wEncT', 'wDec', 'x'] as const) for (let i = 0; i < f[name]!.length; i++) f[name]![i] = randn(rand) * 0.5;
  for (let i = 0; i < D_SAE; i++) f.bEnc![i] = randn(rand) * 0.1;
  for (let i = 0; i < D_IN; i++) f.bDec![i] = randn(rand) * 0.1;
  // γ² spread over two orders of magnitude, one dimension switched off entirely
  if (c.weighted) for (let i = 0; i < D_IN; i++) f.gamma2![i] = i === 0 ? 0 : Math.exp(2 * randn(rand));
  if (cfg.unitNormDecoder) {
    for (let i = 0; i < D_SAE; i++) {
      const row = f.wDec!.subarray(i * D_IN, (i + 1) * D_IN);
      const n = Math.hypot(...row);
      for (let q = 0; q < D_IN; q++) row[q]! /= n;
    }
  }
  if (c.arch === 'jumprelu') {
    // thresholds near the pre-activations so that the rectangle kernel catches some rows
    for (let i = 0; i < D_SAE; i++) f.logTheta![i] = Math.log(0.2 + 0.3 * rand());
  }
  const since = eng.views.f64.tokensSinceFired!;
  for (let i = 0; i < D_SAE; i++) since[i] = i < (c.dead ?? 0) ? DEAD_TOKENS : 0;
  return { eng, cfg };
}

/** The same loss in tf ops; returns grads by name. */
function tfGrads(eng: StepEngine, cfg: ModelConfig): Record<string, Float32Array> {
  const f = eng.views.f32;
  const x = tf.tensor2d(f.x!.slice(), [B, D_IN]);
  const gamma2 = cfg.reconWeighted ? tf.tensor1d(f.gamma2!.slice()) : tf.ones([D_IN]);
  const names = ['wEncT', 'bEnc', 'wDec', 'bDec', ...(cfg.arch === 'jumprelu' ? ['logTheta'] : [])];
  const shapes: Record<string, number[]> = { wEncT: [D_SAE, D_IN], bEnc: [D_SAE], wDec: [D_SAE, D_IN], bDec: [D_IN], logTheta: [D_SAE] };
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

  const forward = (p: tf.Tensor[]): { xhat: tf.Tensor; z: tf.Tensor; codes: tf.Tensor } => {
    const [wEncT, bEnc, wDec, bDec, logTheta] = p as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D?];
    const xc = tf.sub(x, bDec);
    const z = tf.add(tf.matMul(xc, wEncT, false, true), bEnc);
    let codes: tf.Tensor;
    if (cfg.arch === 'relu') codes = tf.relu(z);
    else if (cfg.arch === 'jumprelu') codes = jump(z, logTheta!);
    else codes = tf.mul(tf.relu(z), masks!.keep);
    return { xhat: tf.add(tf.matMul(codes, wDec), bDec), z, codes };
  };
  // TopK selections are piecewise constant in the parameters: their masks are computed once, from the
  // same pre-activations (torch.topk's gradient likewise flows through the selected entries only)
  const masks = cfg.arch === 'topk' || cfg.arch === 'batchtopk' ? tf.tidy(() => {
    const [wEncT, bEnc, , bDec] = params as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    const z = tf.add(tf.matMul(tf.sub(x, bDec), wEncT, false, true), bEnc);
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
  const residualConst = tf.tidy(() => tf.sub(x, forward(params).xhat));
  const loss = (...p: tf.Tensor[]): tf.Scalar => {
    const { xhat, z, codes } = forward(p);
    let l = tf.mean(tf.sum(tf.mul(gamma2, tf.square(tf.sub(xhat, x))), 1));
    const wDec = p[2]!;
    if (cfg.arch === 'relu') {
      const norms = cfg.unitNormDecoder ? tf.onesLike(p[1]!) : tf.norm(wDec, 'euclidean', 1);
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
      for (let q = 0; q < D_IN; q++) par += g[i * D_IN + q]! * d[i * D_IN + q]!;
      for (let q = 0; q < D_IN; q++) g[i * D_IN + q]! -= par * d[i * D_IN + q]!;
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

function check(c: Case): void {
  const { eng, cfg } = setup(c);
  const expected = tfGrads(eng, cfg);
  const expectedLoss = tfLoss(eng, cfg);
  const stats = eng.step({ lr: 0, sparsityCoef: LAMBDA, deadTokens: DEAD_TOKENS });
  if (c.weighted) assert.ok(Math.abs(stats.loss - expectedLoss) < 1e-4 * Math.max(1, expectedLoss), `reported loss ${stats.loss} vs weighted ${expectedLoss}`);
  assert.ok(stats.l0 > 0, 'some latents are active');
  const f = eng.views.f32;
  const got: Record<string, Float32Array> = { wEncT: f.gradWEncT!, bEnc: f.gradBEnc!, wDec: f.gradWDec!, bDec: f.gradBDec! };
  if (cfg.arch === 'jumprelu') got.logTheta = f.gradLogTheta!;
  for (const [name, exp] of Object.entries(expected)) {
    const g = got[name]!;
    const scale = Math.max(1e-6, ...Array.from(exp, Math.abs));
    let worst = 0;
    for (let i = 0; i < exp.length; i++) worst = Math.max(worst, Math.abs(g[i]! - exp[i]!));
    assert.ok(worst / scale < 2e-4, `${cfg.arch}${c.unitNormDecoder ? ' unit-norm' : ''}${c.dead ? ` dead=${c.dead}` : ''}: ∂L/∂${name} differs from autodiff by ${worst} (scale ${scale})`);
    assert.ok(scale > 1e-6 || name === 'logTheta', `${name} gradient is not trivially zero`);
  }
  if (cfg.arch === 'jumprelu') assert.ok(Math.max(...Array.from(got.logTheta!, Math.abs)) > 0, 'some rows fall in the STE kernel');
  if (c.dense !== undefined) assert.equal(eng.thread0.dense, c.dense, 'the intended decoder path ran');
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
  test(`${w}topk with aux-k on 6 dead latents (k_aux = 4, scale 1): gradients match autodiff`, () => check({ arch: 'topk', dead: 6, weighted }));
  test(`${w}topk with aux-k on 2 dead latents (k_aux = 2, scale 1/2): gradients match autodiff`, () => check({ arch: 'topk', dead: 2, weighted }));
  test(`${w}batchtopk with aux-k: gradients match autodiff`, () => check({ arch: 'batchtopk', dead: 5, weighted }));
}
