// Runs our engine's step from given weights and batches, for the PyTorch backend's parity test
// (python/tests/test_parity.py): `npx tsx test/unit/train/torchParity.driver.ts in.safetensors out.safetensors`.
// in: W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_out], b_dec, log_threshold?, b_mag? and r_mag? (gated), W_skip?, gamma2?, X [steps, B, d_in],
//     Y? [steps, B, d_out]; metadata "config" = {arch, k, unitNormDecoder, target, normGroups, prefixes, skip,
//     lr, sparsityCoef, deadTokens, steps}.
// out: the gradients of the first step (grad_*, as our engine captures them: after the unit-norm projection),
//     the parameters after `steps` steps, and metadata "stats": one {mse, sparsity, auxk, loss, explainedVariance,
//     l0} per step.
import { readSafetensors, writeSafetensors } from '../../../src/io/safetensors';
import type { Tensor } from '../../../src/io/tensor';
import { jsGemm } from '../../../src/compute/gemm';
import { modelConfig } from '../../../src/sae/objectives';
import type { ArchName as TrainArch } from '../../../src/sae/arch/registry';
import { buildLayout, S } from '../../../src/train/layout';
import { StepEngine } from '../../../src/train/stepEngine';

interface DriverConfig {
  arch: TrainArch; k?: number; unitNormDecoder?: boolean; target?: boolean; normGroups?: number; prefixes?: number[];
  skip?: boolean; bDecInput?: boolean; lr: number; sparsityCoef: number; deadTokens: number; steps: number;
}

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) throw new Error('usage: torchParity.driver.ts in.safetensors out.safetensors');
const { tensors, metadata } = readSafetensors(inPath);
const c = JSON.parse(metadata.config!) as DriverConfig;
const get = (n: string): Float32Array => tensors.get(n)!.data as Float32Array;
const [steps, B, dIn] = tensors.get('X')!.shape as [number, number, number];
const dSae = tensors.get('b_enc')!.shape[0]!;
const dOut = tensors.get('b_dec')!.shape[0]!;

/** SAELens's W_enc [d_in, d_sae] ↔ our engine's rows W_encᵀ [d_sae, d_in] (the transpose is its own inverse). */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

function engine(captureGrads: boolean): StepEngine {
  const cfg = modelConfig(c.arch, dIn, dSae, B, {
    k: c.k, unitNormDecoder: c.unitNormDecoder, captureGrads, reconWeighted: tensors.has('gamma2'),
    dOut, target: c.target, bDecInput: c.bDecInput, normGroups: c.normGroups, prefixes: c.prefixes, skip: c.skip,
  });
  const layout = buildLayout(cfg, 1);
  const eng = new StepEngine(cfg, new ArrayBuffer(layout.bytes), jsGemm, 1);
  const f = eng.views.f32;
  f.wEncT!.set(transpose(get('W_enc'), dIn, dSae));
  f.wDec!.set(get('W_dec')); f.bEnc!.set(get('b_enc')); f.bDec!.set(get('b_dec'));
  if (c.arch === 'jumprelu') f.logTheta!.set(get('log_threshold'));
  if (tensors.has('b_mag')) { f.bMag!.set(get('b_mag')); f.rMag!.set(get('r_mag')); }
  if (c.skip) f.wSkip!.set(get('W_skip'));
  if (tensors.has('gamma2')) f.gamma2!.set(get('gamma2'));
  return eng;
}

function load(eng: StepEngine, s: number): void {
  const f = eng.views.f32;
  f.x!.set(get('X').subarray(s * B * dIn, (s + 1) * B * dIn));
  if (c.target) f.y!.set(get('Y').subarray(s * B * dOut, (s + 1) * B * dOut));
}

const t = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'F32', shape, data: data.slice() });
const out: [string, Tensor][] = [];
const hyper = { lr: c.lr, sparsityCoef: c.sparsityCoef, deadTokens: c.deadTokens };

const cap = engine(true);
load(cap, 0);
cap.step(hyper);
const g = cap.views.f32;
out.push(['grad_W_enc', t([dIn, dSae], transpose(g.gradWEncT!, dSae, dIn))], ['grad_W_dec', t([dSae, dOut], g.gradWDec!)], ['grad_b_enc', t([dSae], g.gradBEnc!)], ['grad_b_dec', t([dOut], g.gradBDec!)]);
if (c.arch === 'jumprelu') out.push(['grad_log_threshold', t([dSae], g.gradLogTheta!)]);
if (tensors.has('b_mag')) out.push(['grad_b_mag', t([dSae], g.gradBMag!)], ['grad_r_mag', t([dSae], g.gradRMag!)]);
if (c.skip) out.push(['grad_W_skip', t([dOut, dIn], g.gradWSkip!)]);

const run = engine(false);
const stats = [];
for (let s = 0; s < c.steps; s++) {
  load(run, s % steps);
  stats.push(run.step(hyper));
}
const f = run.views.f32;
out.push(['W_enc', t([dIn, dSae], transpose(f.wEncT!, dSae, dIn))], ['W_dec', t([dSae, dOut], f.wDec!)], ['b_enc', t([dSae], f.bEnc!)], ['b_dec', t([dOut], f.bDec!)]);
if (c.arch === 'jumprelu') out.push(['log_threshold', t([dSae], f.logTheta!)]);
if (tensors.has('b_mag')) out.push(['b_mag', t([dSae], f.bMag!)], ['r_mag', t([dSae], f.rMag!)]);
if (c.skip) out.push(['W_skip', t([dOut, dIn], f.wSkip!)]);
writeSafetensors(outPath, out, { stats: JSON.stringify(stats), threshold: String(run.views.f64.scalars![S.bTopkThreshold]) });
