// The family objective (transcoder with and without skip, crosscoder group lasso, Matryoshka prefix
// losses, WSAE weights, all four sparsity mechanisms): hand-derived gradients against TensorFlow.js
// autodiff of the same loss written with tf ops (custom gradients for JumpReLU's STE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { familyLossAndGrads } from '../../../src/sae/familyObjective';
import type { FamilyArch, FamilyConfig, FamilyParams } from '../../../src/sae/familyObjective';
import { seededRandom } from '../../../src/util/random';

void tf.setBackend('cpu');
const B = 6, LAMBDA = 0.3;

function randn(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

interface Case { name: string; arch: FamilyArch; dIn: number; dOut: number; dSae: number; k?: number; prefixes?: number[]; groups?: number; bDecInput?: boolean; skip?: boolean; weighted?: boolean }

function makeCase(c: Case): { cfg: FamilyConfig; p: FamilyParams; x: Float32Array; y: Float32Array } {
  const rand = seededRandom(11);
  const r = (len: number, s: number): Float32Array => Float32Array.from({ length: len }, () => randn(rand) * s);
  const unit = c.arch === 'topk' || c.arch === 'batchtopk';
  const cfg: FamilyConfig = {
    arch: c.arch, dIn: c.dIn, dSae: c.dSae, dOut: c.dOut, k: c.k ?? 3, prefixes: c.prefixes ?? [c.dSae], normGroups: c.groups ?? 1,
    bDecInput: !!c.bDecInput, skip: !!c.skip, unitNormDecoder: unit, bandwidth: 0.4,
    gamma2: c.weighted ? Float32Array.from({ length: c.dOut }, (_, q) => (q === 0 ? 0 : Math.exp(randn(rand)))) : undefined,
  };
  const p: FamilyParams = { wEnc: r(c.dIn * c.dSae, 0.5), bEnc: r(c.dSae, 0.1), wDec: r(c.dSae * c.dOut, 0.5), bDec: r(c.dOut, 0.1) };
  if (unit) for (let i = 0; i < c.dSae; i++) {
    const row = p.wDec.subarray(i * c.dOut, (i + 1) * c.dOut);
    const nrm = Math.hypot(...row);
    for (let q = 0; q < c.dOut; q++) row[q]! /= nrm;
  }
  if (c.arch === 'jumprelu') p.logTheta = Float32Array.from({ length: c.dSae }, () => Math.log(0.2 + 0.3 * rand()));
  if (c.skip) p.wSkip = r(c.dOut * c.dIn, 0.3);
  return { cfg, p, x: r(B * c.dIn, 0.7), y: r(B * c.dOut, 0.7) };
}

function check(c: Case): void {
  const { cfg, p, x, y } = makeCase(c);
  const grads: FamilyParams = { wEnc: new Float32Array(p.wEnc.length), bEnc: new Float32Array(p.bEnc.length), wDec: new Float32Array(p.wDec.length), bDec: new Float32Array(p.bDec.length), logTheta: p.logTheta && new Float32Array(p.logTheta.length), wSkip: p.wSkip && new Float32Array(p.wSkip.length) };
  const res = familyLossAndGrads(cfg, p, x, y, B, LAMBDA, grads);
  assert.ok(res.l0 > 0, 'some latents are active');
  const { dIn, dSae, dOut } = cfg;
  const names = (['wEnc', 'bEnc', 'wDec', 'bDec', 'logTheta', 'wSkip'] as const).filter((nm) => p[nm] !== undefined);
  const shapes: Record<string, number[]> = { wEnc: [dIn, dSae], bEnc: [dSae], wDec: [dSae, dOut], bDec: [dOut], logTheta: [dSae], wSkip: [dOut, dIn] };
  const params = names.map((nm) => tf.tensor(p[nm]!.slice(), shapes[nm]!));
  const xt = tf.tensor2d(x, [B, dIn]), yt = tf.tensor2d(y, [B, dOut]);
  const mask = tf.tensor2d(Float32Array.from(res.codes, (v) => (v !== 0 ? 1 : 0)), [B, dSae]);
  const eps = cfg.bandwidth;
  const rect = (z: tf.Tensor, th: tf.Tensor): tf.Tensor => tf.cast(tf.less(tf.abs(tf.div(tf.sub(z, th), eps)), 0.5), 'float32');
  const jump = tf.customGrad(((z: tf.Tensor, t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([z, t]);
    const th = tf.exp(t);
    return {
      value: tf.mul(z, tf.cast(tf.greater(z, th), 'float32')),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ts] = saved as [tf.Tensor, tf.Tensor];
        const ths = tf.exp(ts);
        return [tf.mul(dy, tf.cast(tf.greater(zs, ths), 'float32')), tf.mul(tf.sum(tf.mul(tf.mul(dy, rect(zs, ths)), tf.neg(tf.div(ths, eps))), 0), ths)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (z: tf.Tensor, t: tf.Tensor) => tf.Tensor;
  const step = tf.customGrad(((z: tf.Tensor, t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([z, t]);
    return {
      value: tf.cast(tf.greater(z, tf.exp(t)), 'float32'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ts] = saved as [tf.Tensor, tf.Tensor];
        const ths = tf.exp(ts);
        return [tf.zerosLike(zs), tf.mul(tf.sum(tf.mul(tf.mul(dy, rect(zs, ths)), -1 / eps), 0), ths)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (z: tf.Tensor, t: tf.Tensor) => tf.Tensor;
  const gamma2 = cfg.gamma2 ? tf.tensor1d(cfg.gamma2) : tf.onesLike(tf.zeros([dOut]));
  const loss = (...ps: tf.Tensor[]): tf.Scalar => {
    const P = Object.fromEntries(names.map((nm, i) => [nm, ps[i]!])) as Record<string, tf.Tensor>;
    const xc = cfg.bDecInput ? tf.sub(xt, P.bDec!) : xt;
    const z = tf.add(tf.matMul(xc as tf.Tensor2D, P.wEnc as tf.Tensor2D), P.bEnc!);
    // TopK/BatchTopK selections are piecewise constant: the mask comes from the same pre-activations
    const f = cfg.arch === 'relu' ? tf.relu(z) : cfg.arch === 'jumprelu' ? jump(z, P.logTheta!) : tf.mul(tf.relu(z), mask);
    let base = tf.add(tf.zeros([B, dOut]), P.bDec!);
    if (cfg.skip) base = tf.add(base, tf.matMul(xt, P.wSkip as tf.Tensor2D, false, true));
    let l: tf.Tensor = tf.scalar(0);
    for (const m of cfg.prefixes) {
      const yhat = tf.add(base, tf.matMul(tf.slice(f, [0, 0], [B, m]) as tf.Tensor2D, tf.slice(P.wDec!, [0, 0], [m, dOut]) as tf.Tensor2D));
      l = tf.add(l, tf.mean(tf.sum(tf.mul(gamma2, tf.square(tf.sub(yhat, yt))), 1)));
    }
    if (cfg.arch === 'relu') {
      const blocks = tf.reshape(P.wDec!, [dSae, cfg.normGroups, dOut / cfg.normGroups]);
      const w = tf.sum(tf.norm(blocks, 'euclidean', 2), 1);
      l = tf.add(l, tf.mul(LAMBDA, tf.mean(tf.sum(tf.mul(f, w), 1))));
    }
    if (cfg.arch === 'jumprelu') l = tf.add(l, tf.mul(LAMBDA, tf.mean(tf.sum(step(z, P.logTheta!), 1))));
    return l as tf.Scalar;
  };
  const expectedLoss = loss(...params).dataSync()[0]!;
  assert.ok(Math.abs(res.loss - expectedLoss) < 1e-4 * Math.max(1, expectedLoss), `${c.name}: loss ${res.loss} vs ${expectedLoss}`);
  const tg = tf.grads(loss)(params);
  names.forEach((nm, i) => {
    const exp = tg[i]!.dataSync() as Float32Array;
    if (nm === 'wDec' && cfg.unitNormDecoder) {
      for (let r = 0; r < dSae; r++) {
        let par = 0;
        for (let q = 0; q < dOut; q++) par += exp[r * dOut + q]! * p.wDec[r * dOut + q]!;
        for (let q = 0; q < dOut; q++) exp[r * dOut + q]! -= par * p.wDec[r * dOut + q]!;
      }
    }
    const got = grads[nm]!;
    const scale = Math.max(1e-6, ...Array.from(exp, Math.abs));
    let worst = 0;
    for (let j = 0; j < exp.length; j++) worst = Math.max(worst, Math.abs(got[j]! - exp[j]!));
    assert.ok(worst / scale < 2e-4, `${c.name}: ∂L/∂${nm} differs from autodiff by ${worst} (scale ${scale})`);
    assert.ok(scale > 1e-6 || nm === 'logTheta', `${c.name}: ${nm} gradient is not trivially zero`);
  });
  if (cfg.arch === 'jumprelu') assert.ok(Math.max(...Array.from(grads.logTheta!, Math.abs)) > 0, 'some rows fall in the STE kernel');
}

const cases: Case[] = [
  { name: 'relu transcoder (d_in 6 → d_out 5)', arch: 'relu', dIn: 6, dOut: 5, dSae: 10 },
  { name: 'relu skip transcoder', arch: 'relu', dIn: 6, dOut: 5, dSae: 10, skip: true },
  { name: 'jumprelu transcoder', arch: 'jumprelu', dIn: 6, dOut: 5, dSae: 10 },
  { name: 'topk transcoder with skip', arch: 'topk', dIn: 6, dOut: 5, dSae: 10, skip: true },
  { name: 'batchtopk transcoder, WSAE-weighted', arch: 'batchtopk', dIn: 6, dOut: 5, dSae: 10, weighted: true },
  { name: 'crosscoder (2 sources × 4, group lasso)', arch: 'relu', dIn: 8, dOut: 8, dSae: 12, groups: 2 },
  { name: 'crosscoder (3 sources × 3), WSAE-weighted', arch: 'relu', dIn: 9, dOut: 9, dSae: 12, groups: 3, weighted: true },
  { name: 'Matryoshka BatchTopK (prefixes 3, 7, 12; b_dec subtracted)', arch: 'batchtopk', dIn: 8, dOut: 8, dSae: 12, prefixes: [3, 7, 12], bDecInput: true },
  { name: 'Matryoshka relu (prefixes 4, 12)', arch: 'relu', dIn: 8, dOut: 8, dSae: 12, prefixes: [4, 12], bDecInput: true },
];
for (const c of cases) test(`${c.name}: loss and gradients match autodiff`, () => check(c));
