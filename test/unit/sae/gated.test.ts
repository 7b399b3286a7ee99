// The Gated SAE through the registry (src/sae/arch/gated.ts): the engine's gradients of L_gated (gate path
// with no gradient through the step, L1 on ReLU(π_gate)·‖d‖, the aux reconstruction through the detached
// decoder, the magnitude path's b_mag and r_mag) against TensorFlow.js autodiff, on 1 and 2 threads and
// weighted; a short training run that learns, saves SAELens `gated` (b_gate, b_mag, r_mag) and loads back to
// the same codes; and the diagnostics on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { jsGemm } from '../../../src/compute/gemm';
import { runDiagnostics } from '../../../src/diagnostics';
import { buildContext } from '../../../src/diagnostics/context';
import { loadSae } from '../../../src/formats/index';
import { saveSaeLens } from '../../../src/formats/saelens';
import { readSafetensors } from '../../../src/io/safetensors';
import { gated } from '../../../src/sae/arch/gated';
import { TRAINABLE_ARCHS } from '../../../src/sae/arch/registry';
import { encode } from '../../../src/sae/forward';
import { modelConfig } from '../../../src/sae/objectives';
import type { ModelConfig } from '../../../src/sae/objectives';
import { buildLayout } from '../../../src/train/layout';
import { WorkerPool } from '../../../src/train/pool';
import { StepEngine } from '../../../src/train/stepEngine';
import { runTraining } from '../../../src/train/trainer';
import { seededRandom } from '../../../src/util/random';
import { sparseFeatures, writeSynthetic } from '../train/synthetic';

void tf.setBackend('cpu');

const D_IN = 8, D_SAE = 12, B = 6, LAMBDA = 0.3;

function randn(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

function engine(threads: number, weighted: boolean): { eng: StepEngine; cfg: ModelConfig; pool?: WorkerPool } {
  const cfg = modelConfig(gated.name, D_IN, D_SAE, B, { captureGrads: true, reconWeighted: weighted });
  const layout = buildLayout(cfg, threads);
  const buffer = new SharedArrayBuffer(layout.bytes);
  const pool = threads > 1 ? new WorkerPool(new Int32Array(buffer, layout.regions.get('control')!.offset, 16), cfg, threads, buffer) : undefined;
  const eng = new StepEngine(cfg, buffer, jsGemm, threads, pool);
  const f = eng.views.f32;
  const rand = seededRandom(7);
  for (const name of ['wEncT', 'wDec', 'x'] as const) for (let i = 0; i < f[name]!.length; i++) f[name]![i] = randn(rand) * 0.5;
  // gate and magnitude biases of both signs, so that some latents pass the gate with a negative magnitude
  for (let i = 0; i < D_SAE; i++) { f.bEnc![i] = randn(rand) * 0.3; f.bMag![i] = randn(rand) * 0.3; f.rMag![i] = randn(rand) * 0.3; }
  for (let i = 0; i < D_IN; i++) f.bDec![i] = randn(rand) * 0.1;
  if (weighted) for (let i = 0; i < D_IN; i++) f.gamma2![i] = i === 0 ? 0 : Math.exp(2 * randn(rand));
  return { eng, cfg, pool };
}

/** L_gated in tf ops: the step function's gradient is zero, and the aux term reads constant copies of W_dec and b_dec. */
function autodiff(eng: StepEngine, weighted: boolean): { grads: Record<string, Float32Array>; loss: number } {
  const f = eng.views.f32;
  const x = tf.tensor2d(f.x!.slice(), [B, D_IN]);
  const gamma2 = weighted ? tf.tensor1d(f.gamma2!.slice()) : tf.ones([D_IN]);
  const names = ['wEncT', 'bEnc', 'wDec', 'bDec', 'bMag', 'rMag'];
  const shapes: Record<string, number[]> = { wEncT: [D_SAE, D_IN], bEnc: [D_SAE], wDec: [D_SAE, D_IN], bDec: [D_IN], bMag: [D_SAE], rMag: [D_SAE] };
  const params = names.map((n) => tf.tensor(f[n]!.slice(), shapes[n]!));
  const wDecConst = tf.tensor2d(f.wDec!.slice(), [D_SAE, D_IN]), bDecConst = tf.tensor1d(f.bDec!.slice());
  const sq = (a: tf.Tensor): tf.Tensor => tf.mean(tf.sum(tf.mul(gamma2, tf.square(tf.sub(a, x))), 1));
  const loss = (...p: tf.Tensor[]): tf.Scalar => {
    const [wEncT, bGate, wDec, bDec, bMag, rMag] = p as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const z = tf.matMul(tf.sub(x, bDec), wEncT, false, true);
    const piGate = tf.add(z, bGate);
    const piMag = tf.add(tf.mul(z, tf.exp(rMag)), bMag);
    const codes = tf.mul(tf.step(piGate), tf.relu(piMag));
    const recon = sq(tf.add(tf.matMul(codes as tf.Tensor2D, wDec), bDec));
    const gateActs = tf.relu(piGate);
    const sparsity = tf.mul(LAMBDA, tf.mean(tf.sum(tf.mul(gateActs, tf.norm(wDec, 'euclidean', 1)), 1)));
    const aux = sq(tf.add(tf.matMul(gateActs as tf.Tensor2D, wDecConst), bDecConst));
    return tf.add(tf.add(recon, sparsity), aux) as tf.Scalar;
  };
  const value = loss(...params).dataSync()[0]!;
  const g = tf.grads(loss)(params);
  const grads: Record<string, Float32Array> = {};
  names.forEach((n, i) => { grads[n] = g[i]!.dataSync() as Float32Array; });
  return { grads, loss: value };
}

for (const threads of [1, 2]) {
  for (const weighted of [false, true]) {
    test(`gated${weighted ? ', WSAE' : ''}, ${threads} thread${threads > 1 ? 's' : ''}: gradients of L_gated and the loss match autodiff`, async () => {
      const { eng, pool } = engine(threads, weighted);
      try {
        const expected = autodiff(eng, weighted);
        const stats = eng.step({ lr: 0, sparsityCoef: LAMBDA, deadTokens: 100 });
        assert.ok(Math.abs(stats.loss - expected.loss) < 1e-4 * Math.max(1, expected.loss), `loss ${stats.loss} vs ${expected.loss}`);
        assert.ok(stats.l0 > 0 && stats.l0 < D_SAE, `some latents fire, not all (L0 ${stats.l0})`);
        assert.ok(stats.auxk > 0, 'the aux reconstruction is part of the loss');
        const f = eng.views.f32;
        const got: Record<string, Float32Array> = { wEncT: f.gradWEncT!, bEnc: f.gradBEnc!, wDec: f.gradWDec!, bDec: f.gradBDec!, bMag: f.gradBMag!, rMag: f.gradRMag! };
        for (const [name, exp] of Object.entries(expected.grads)) {
          const scale = Math.max(...Array.from(exp, Math.abs));
          assert.ok(scale > 1e-6, `∂L/∂${name} is not trivially zero`);
          let worst = 0;
          for (let i = 0; i < exp.length; i++) worst = Math.max(worst, Math.abs(got[name]![i]! - exp[i]!));
          assert.ok(worst / scale < 2e-4, `∂L/∂${name} differs from autodiff by ${worst} (scale ${scale})`);
        }
      } finally { await pool?.close(); }
    });
  }
}

test('gated is trainable because the registry says so: CLI list, wizard list and settings enum', () => {
  assert.ok(TRAINABLE_ARCHS.includes(gated.name));
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  assert.ok(pkg.contributes.configuration.properties['saeWorkbench.defaultArchitecture'].enum.includes(gated.name));
});

test('gated trains, saves SAELens gated (b_gate, b_mag, r_mag), loads back to the same codes, and diagnoses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gated-test-'));
  try {
    const data = sparseFeatures(4096, 16, 24, 0.06, 5);
    const acts = join(dir, 'acts.npy');
    writeSynthetic(acts, data);
    const out = join(dir, 'sae');
    const train = async (outDir: string, l1: number): Promise<{ explainedVariance: number; l0: number }> =>
      (await runTraining({ activations: [acts], outDir, arch: gated.name, width: 48, l1, batch: 256, tokens: 256 * 200, lr: 4e-3, seed: 3 }, { emit: () => undefined, cancelled: () => false })).final as { explainedVariance: number; l0: number };
    const final = await train(out, 2);
    assert.ok(final.explainedVariance >= 0.85, `EV ${final.explainedVariance}`);
    assert.ok(final.l0 > 0 && final.l0 < 48, `L0 ${final.l0}`);
    // the L1 on the gate is what makes it sparse: a larger λ fires fewer latents
    const sparser = await train(join(dir, 'sparser'), 10);
    assert.ok(sparser.l0 < 0.7 * final.l0, `L0 ${sparser.l0} at λ 10 vs ${final.l0} at λ 2`);
    const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8'));
    assert.equal(cfg.architecture, 'gated');
    const names = [...readSafetensors(join(out, 'sae_weights.safetensors')).tensors.keys()].sort();
    assert.deepEqual(names, ['W_dec', 'W_enc', 'b_dec', 'b_gate', 'b_mag', 'r_mag']);
    const sae = loadSae(out);
    assert.equal(sae.cfg.activation, gated.name);
    assert.ok(sae.rMag!.some((v) => v !== 0), 'the magnitude path trained');
    // load → save → load: identical codes
    const again = join(dir, 'again');
    saveSaeLens(sae, again);
    const n = 256, x = data.x.subarray(0, n * data.d);
    const a = encode(sae, x, n).codes, b = encode(loadSae(again), x, n).codes;
    assert.deepEqual(Array.from(b), Array.from(a));
    const active = a.filter((v) => v > 0).length / n;
    assert.ok(Math.abs(active - final.l0) < 0.35 * final.l0 + 1, `inference L0 ${active} ≈ training L0 ${final.l0}`);
    const report = runDiagnostics(buildContext(sae, data.x.slice(0, 2048 * data.d), 2048), { skip: ['identity', 'wideLimit'], exactRows: 256 });
    assert.equal(report.sae.codeKind, 'l1');
    assert.ok(report.lambdaE.value > 0, 'λ_e is estimated from the codes');
    assert.ok(Object.keys(report.sections).length >= 4, `sections ${Object.keys(report.sections).join(', ')}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
