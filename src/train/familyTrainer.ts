/**
 * Training loop of the family (src/sae/familyObjective.ts): transcoders (input file → target file),
 * crosscoders (L row-aligned source files) and Matryoshka BatchTopK SAEs, each optionally WSAE-weighted.
 * Reached through runTraining (so through the trainer worker and startTraining) when TrainOptions.target,
 * .crosscoder or .matryoshkaWidths is set.
 *
 * Differences from the SAE engine, said plainly: rows of every file are loaded whole (row alignment across
 * files of different widths rules out the chunk-shuffling stream; a size limit refuses large inputs), the
 * step is single-threaded dense math, activations are not rescaled, there is no aux-k, no resampling and
 * no checkpoint/resume.
 */
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, InputError } from '../errors';
import { saveCrosscoder } from '../formats/crosscoder';
import { saveSaeLens } from '../formats/saelens';
import { openRowReader } from '../io/rowReader';
import type { Crosscoder } from '../sae/crosscoder';
import { familyLossAndGrads } from '../sae/familyObjective';
import type { FamilyArch, FamilyConfig, FamilyParams } from '../sae/familyObjective';
import type { Sae } from '../sae/types';
import type { TrainOptions } from './api';
import { Rng } from './rng';
import { writeFileAtomic } from '../io/atomic';
import { crosscoderLatentStats } from '../sae/crosscoderAnalysis';
import type { TrainHooks, TrainSummary } from './trainer';
import { TRAINING_LOG } from './trainer';
import { computeReconWeights, resolveWeighting } from './wsae';

export type FamilyKind = 'transcoder' | 'crosscoder' | 'matryoshka';
/** Rows × width of all inputs together that the in-memory loader accepts (floats). */
export const FAMILY_MAX_FLOATS = 256 * 2 ** 20;
/** Per-latent relative decoder norms and cosines of a trained crosscoder. */
export const CROSSCODER_LATENTS_FILE = 'crosscoder_latents.json';
const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export function familyKind(o: TrainOptions): FamilyKind | undefined {
  const kinds: FamilyKind[] = [];
  if (o.target) kinds.push('transcoder');
  if (o.crosscoder) kinds.push('crosscoder');
  if (o.matryoshkaWidths) kinds.push('matryoshka');
  if (kinds.length > 1) throw new InputError('--arch', `choose one of transcoder (--target), crosscoder (--crosscoder) and Matryoshka (--matryoshka-widths), got ${kinds.join(' and ')}`);
  return kinds[0];
}

/** All rows of one activation file, as f32 [rows, width]. */
function loadRows(path: string, tensorName: string | undefined): { rows: number; width: number; data: Float32Array } {
  const reader = openRowReader([path], { tensorName, loop: false, shuffle: false, onNonFinite: 'stop' });
  try {
    const rows = reader.totalRows, width = reader.dIn;
    if (rows * width > FAMILY_MAX_FLOATS) throw new InputError(path, `${rows} × ${width} values are more than the ${FAMILY_MAX_FLOATS} this trainer loads into memory`);
    const data = new Float32Array(rows * width);
    const got = reader.next(data, rows);
    if (got !== rows) throw new InputError(path, `read ${got} of ${rows} rows`);
    return { rows, width, data };
  } finally {
    reader.close();
  }
}

interface Loaded { x: Float32Array; y: Float32Array; rows: number; dIn: number; dOut: number; sourceWidth: number; nSources: number }

function loadInputs(kind: FamilyKind, o: TrainOptions): Loaded {
  if (kind === 'transcoder') {
    if (o.activations.length !== 1) throw new InputError('--activations', `a transcoder reads one input file, got ${o.activations.length}`);
    const a = loadRows(o.activations[0]!, o.tensorName), b = loadRows(o.target!, o.tensorName);
    if (a.rows !== b.rows) throw new InputError(o.target!, `${b.rows} rows, but the input ${o.activations[0]} has ${a.rows}: input and target must be row-aligned`);
    return { x: a.data, y: b.data, rows: a.rows, dIn: a.width, dOut: b.width, sourceWidth: a.width, nSources: 1 };
  }
  if (kind === 'crosscoder') {
    if (o.activations.length < 2) throw new InputError('--activations', `a crosscoder needs at least 2 source files (one per layer or model), got ${o.activations.length}`);
    const parts = o.activations.map((p) => loadRows(p, o.tensorName));
    const { rows, width } = parts[0]!;
    parts.forEach((p, l) => {
      if (p.rows !== rows) throw new InputError(o.activations[l]!, `${p.rows} rows, but ${o.activations[0]} has ${rows}: sources must be row-aligned`);
      if (p.width !== width) throw new InputError(o.activations[l]!, `width ${p.width}, but ${o.activations[0]} has ${width}: the crosscoder format needs one d_in for all sources`);
    });
    const L = parts.length, d = L * width;
    const x = new Float32Array(rows * d);
    for (let r = 0; r < rows; r++) parts.forEach((p, l) => x.set(p.data.subarray(r * width, (r + 1) * width), r * d + l * width));
    return { x, y: x, rows, dIn: d, dOut: d, sourceWidth: width, nSources: L };
  }
  if (o.activations.length !== 1) throw new InputError('--activations', `give one activation file for a Matryoshka SAE, got ${o.activations.length}`);
  const a = loadRows(o.activations[0]!, o.tensorName);
  return { x: a.data, y: a.data, rows: a.rows, dIn: a.width, dOut: a.width, sourceWidth: a.width, nSources: 1 };
}

function checkWidths(widths: number[], dSae: number): number[] {
  const ok = widths.length > 0 && widths.every((w, i) => Number.isSafeInteger(w) && w > 0 && (i === 0 || w > widths[i - 1]!));
  if (!ok) throw new InputError('--matryoshka-widths', `expected increasing positive integers, got ${widths.join(',')}`);
  if (widths[widths.length - 1]! > dSae) throw new InputError('--matryoshka-widths', `the last prefix ${widths[widths.length - 1]} is larger than the width ${dSae}`);
  return widths[widths.length - 1] === dSae ? widths : [...widths, dSae];
}

function adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, t: number): void {
  const bc1 = 1 - ADAM.beta1 ** t, bc2 = 1 - ADAM.beta2 ** t;
  for (let j = 0; j < p.length; j++) {
    const gj = g[j]!;
    m[j] = ADAM.beta1 * m[j]! + (1 - ADAM.beta1) * gj;
    v[j] = ADAM.beta2 * v[j]! + (1 - ADAM.beta2) * gj * gj;
    p[j]! -= ((lr / bc1) * m[j]!) / (Math.sqrt(v[j]! / bc2) + ADAM.eps);
  }
}

export async function runFamilyTraining(kind: FamilyKind, o: TrainOptions, hooks: TrainHooks): Promise<TrainSummary> {
  if (o.resume) throw new InputError('--resume', `${kind} runs have no checkpoints to resume from`);
  const arch = (kind === 'matryoshka' ? 'batchtopk' : o.arch) as FamilyArch;
  if (!['relu', 'topk', 'batchtopk', 'jumprelu'].includes(arch)) throw new InputError('--arch', `'${o.arch}' cannot be trained as a ${kind}`);
  if (kind === 'crosscoder' && arch !== 'relu') throw new InputError('--arch', `the crosscoder format is ReLU (f = ReLU(Σ_l x_l W_enc,l + b_enc)); got ${arch}`);
  if (kind === 'transcoder' && arch === 'topk') throw new InputError('--arch', 'SAELens has no TopK transcoder form; use batchtopk (saved as jumprelu_transcoder with its threshold), relu or jumprelu');
  if (kind === 'transcoder' && o.skip && arch !== 'relu') throw new InputError('--skip', `SAELens's skip_transcoder is ReLU; got ${arch}`);
  if (o.skip && kind !== 'transcoder') throw new InputError('--skip', 'only transcoders have a skip connection');
  const weighting = resolveWeighting(o);
  const data = loadInputs(kind, o);
  const { rows, dIn, dOut } = data;
  const dSae = o.width;
  if (!Number.isSafeInteger(dSae) || dSae < 1) throw new InputError('--width', `expected a positive integer, got ${String(dSae)}`);
  const batch = o.batch ?? 4096;
  if (batch > rows) throw new InputError('--batch', `batch ${batch} is larger than the ${rows} rows`);
  const tokens = o.tokens ?? rows;
  const totalSteps = Math.ceil(tokens / batch);
  const k = arch === 'topk' || arch === 'batchtopk' ? (o.k ?? Math.min(32, dSae)) : 0;
  if (k > dSae) throw new InputError('--k', `k = ${k} is larger than the width ${dSae}`);
  const lr = o.lr ?? 3e-4;
  const lambda = o.l1 ?? (arch === 'relu' ? 5 : arch === 'jumprelu' ? 1 : 0);
  const seed = o.seed ?? 0;
  const unitNormDecoder = arch === 'topk' || arch === 'batchtopk';
  const prefixes = kind === 'matryoshka' ? checkWidths(o.matryoshkaWidths!, dSae) : [dSae];
  const rng = new Rng(seed ^ 0xfa11);

  // Γ from the targets (the loss is on ŷ vs y)
  const gamma = weighting.weighting === 'none' ? undefined : computeReconWeights(weighting, data.y, rows, dOut);
  const cfg: FamilyConfig = {
    arch, dIn, dSae, dOut, k, prefixes, normGroups: data.nSources, bDecInput: kind === 'matryoshka', skip: !!o.skip,
    unitNormDecoder, bandwidth: o.bandwidth ?? 0.05, gamma2: gamma && Float32Array.from(gamma, (g) => g * g),
  };
  // init: b_dec at the targets' mean, decoder rows random (norm 0.1 for relu's free norms, 1 otherwise),
  // W_enc = W_decᵀ when input and target live in the same space, else random unit columns
  const p: FamilyParams = { wEnc: new Float32Array(dIn * dSae), bEnc: new Float32Array(dSae), wDec: new Float32Array(dSae * dOut), bDec: new Float32Array(dOut) };
  for (let r = 0; r < rows; r++) for (let q = 0; q < dOut; q++) p.bDec[q]! += data.y[r * dOut + q]! / rows;
  const decNorm = o.decoderInitNorm ?? (arch === 'relu' ? 0.1 : 1);
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let q = 0; q < dOut; q++) { const v = rng.normal(); p.wDec[i * dOut + q] = v; s += v * v; }
    for (let q = 0; q < dOut; q++) p.wDec[i * dOut + q]! *= decNorm / Math.sqrt(s);
    if (dIn === dOut) for (let q = 0; q < dIn; q++) p.wEnc[q * dSae + i] = p.wDec[i * dOut + q]! / decNorm;
    else {
      let t = 0;
      const col = new Float32Array(dIn);
      for (let q = 0; q < dIn; q++) { col[q] = rng.normal(); t += col[q]! ** 2; }
      for (let q = 0; q < dIn; q++) p.wEnc[q * dSae + i] = col[q]! / Math.sqrt(t);
    }
  }
  if (arch === 'jumprelu') p.logTheta = new Float32Array(dSae).fill(Math.log(o.initThreshold ?? 0.01));
  if (cfg.skip) p.wSkip = new Float32Array(dOut * dIn);
  const names = (Object.keys(p) as (keyof FamilyParams)[]).filter((nm) => p[nm] !== undefined);
  const zeros = (): FamilyParams => Object.fromEntries(names.map((nm) => [nm, new Float32Array(p[nm]!.length)])) as unknown as FamilyParams;
  const grads = zeros(), m1 = zeros(), m2 = zeros();

  mkdirSync(o.outDir, { recursive: true });
  const logPath = join(o.outDir, TRAINING_LOG);
  rmSync(logPath, { force: true });
  const log = (rec: Record<string, unknown>): void => appendFileSync(logPath, JSON.stringify(rec) + '\n');
  const runId = o.runId ?? `run-${Date.now().toString(36)}`;
  log({ type: 'start', runId, kind, arch, dIn, dOut, dSae, rows, totalSteps, batch, lr, lambda, k, prefixes, weighting, seed, time: new Date().toISOString() });

  const warm = o.lrWarmupSteps ?? Math.min(1000, Math.floor(totalSteps * 0.05));
  const decay = o.lrDecaySteps ?? Math.floor(totalSteps * 0.2);
  const l1Warm = o.sparsityWarmupSteps ?? Math.floor(totalSteps * 0.05);
  const perm = Int32Array.from({ length: rows }, (_, i) => i);
  const shuffle = (): void => { for (let i = rows - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); const t = perm[i]!; perm[i] = perm[j]!; perm[j] = t; } };
  shuffle();
  let cursor = 0, threshold = 0, thresholdSet = false;
  const xb = new Float32Array(batch * dIn), yb = new Float32Array(batch * dOut);
  const fires = new Float64Array(dSae);
  let last: { loss: number; mse: number; ev: number; l0: number } | undefined;
  const t0 = performance.now();
  for (let step = 0; step < totalSteps; step++) {
    if (hooks.cancelled()) throw new CancelledError();
    for (let r = 0; r < batch; r++) {
      if (cursor === rows) { shuffle(); cursor = 0; }
      const src = perm[cursor++]!;
      xb.set(data.x.subarray(src * dIn, (src + 1) * dIn), r * dIn);
      yb.set(data.y.subarray(src * dOut, (src + 1) * dOut), r * dOut);
    }
    let f = 1;
    if (warm > 0) f *= Math.min(1, (step + 1) / warm);
    if (decay > 0 && step >= totalSteps - decay) f *= (totalSteps - step) / decay;
    const lam = lambda * (l1Warm > 0 ? Math.min(1, (step + 1) / l1Warm) : 1);
    const res = familyLossAndGrads(cfg, p, xb, yb, batch, lam, grads);
    if (!Number.isFinite(res.loss)) throw new InputError(o.activations[0]!, `the loss became ${res.loss} at step ${step} (try a smaller --lr)`);
    for (const nm of names) adam(p[nm]!, grads[nm]!, m1[nm]!, m2[nm]!, lr * f, step + 1);
    if (unitNormDecoder) for (let i = 0; i < dSae; i++) {
      let s = 0;
      for (let q = 0; q < dOut; q++) s += p.wDec[i * dOut + q]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let q = 0; q < dOut; q++) p.wDec[i * dOut + q]! *= inv;
    }
    if (arch === 'batchtopk' && Number.isFinite(res.minKept)) {
      threshold = thresholdSet ? 0.99 * threshold + 0.01 * res.minKept : res.minKept;
      thresholdSet = true;
    }
    for (let i = 0; i < dSae; i++) fires[i]! += res.fires[i]!;
    last = { loss: res.loss, mse: res.sse, ev: res.sst > 0 ? 1 - res.sse / res.sst : NaN, l0: res.l0 };
    const logEvery = Math.max(1, Math.floor(totalSteps / 200));
    if ((step + 1) % logEvery === 0 || step + 1 === totalSteps) {
      // "dead" here: never fired since the start of the run (the SAE engine's token window is not tracked)
      let never = 0;
      for (let i = 0; i < dSae; i++) if (fires[i] === 0) never++;
      const progress = {
        runId, step: step + 1, totalSteps, tokens: (step + 1) * batch, totalTokens: totalSteps * batch,
        loss: { total: res.loss, mse: res.sse }, explainedVariance: last.ev, l0: res.l0, deadFraction: never / dSae,
        tokensPerSecond: ((step + 1) * batch) / ((performance.now() - t0) / 1000), etaSeconds: 0, engine: 'js dense (family)',
      };
      log({ type: 'step', ...progress });
      hooks.emit({ type: 'progress', progress });
    }
    // yield to the event loop now and then so that a cancel message can land
    if (step % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  const seconds = (performance.now() - t0) / 1000;
  const trained = totalSteps * batch;
  let dead = 0;
  for (let i = 0; i < dSae; i++) if (fires[i] === 0) dead++;
  const training: Record<string, unknown> = {
    lossConvention: gamma ? 'weighted_sum_of_squares' : 'sum_of_squares', sparsityCoefficient: lambda,
    sparsityPenalty: arch === 'relu' ? (data.nSources > 1 ? 'l1_group_decoder_norm_over_sources' : 'l1_decoder_norm_weighted') : arch === 'jumprelu' ? 'l0_step' : 'none',
    unitNormDecoder, tokens: trained, steps: totalSteps, batch, lr, seed, engine: 'js dense (family)', activationScaleFolded: 1, normalizeActivations: 'none',
    ...(arch === 'relu' && !gamma && data.nSources === 1 ? { lambdaE: lambda / 2 } : {}),
    ...(arch === 'jumprelu' ? { l0Coefficient: lambda, bandwidth: cfg.bandwidth } : {}),
    ...(arch === 'batchtopk' ? { topkThreshold: threshold } : {}),
    ...(kind === 'matryoshka' ? { matryoshkaPrefixLosses: 'sum' } : {}),
    ...(gamma ? { reconstructionWeighting: { mode: weighting.weighting, ...(weighting.weighting === 'variance' ? { alpha: weighting.weightAlpha } : {}), gamma: Array.from(gamma) } } : {}),
  };
  const logDensity = Float32Array.from(fires, (c) => Math.log10(c / trained + 1e-10));
  let crosscoderStats: Record<string, unknown> | undefined;
  if (kind === 'crosscoder') {
    const cc = toCrosscoder(p, data.nSources, data.sourceWidth, dSae, training);
    saveCrosscoder(cc, o.outDir);
    const st = crosscoderLatentStats(cc);
    // per latent, beside the weights: what the relative-norm and cosine plots are drawn from
    writeFileAtomic(join(o.outDir, CROSSCODER_LATENTS_FILE), JSON.stringify({ nSources: data.nSources, normShare: Array.from(st.normShare), cosineToFirst: Array.from(st.cosineToFirst) }) + '\n');
    crosscoderStats = { latentsFile: CROSSCODER_LATENTS_FILE, ...(st.counts ? { relativeNormCounts: st.counts } : {}) };
  } else {
    const sae: Sae = {
      cfg: {
        activation: arch, dIn, dSae, dOut, transcoder: kind === 'transcoder', k: k || undefined,
        applyBDecToInput: kind === 'matryoshka', normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32',
        ...(kind === 'matryoshka' ? { matryoshkaWidths: prefixes } : {}), training, metadata: { metadata: {} },
      },
      wEnc: p.wEnc, bEnc: p.bEnc, wDec: p.wDec, bDec: p.bDec, logDensity,
      ...(p.wSkip ? { wSkip: p.wSkip } : {}),
    };
    if (arch === 'jumprelu') sae.threshold = Float32Array.from(p.logTheta!, Math.exp);
    // BatchTopK is saved as SAELens does: a JumpReLU with its global threshold broadcast
    if (arch === 'batchtopk') { sae.threshold = new Float32Array(dSae).fill(threshold); if (kind === 'transcoder') sae.cfg.activation = 'jumprelu'; }
    saveSaeLens(sae, o.outDir);
  }
  const summary: TrainSummary = {
    runId, outDir: o.outDir, kind, arch, dIn, dOut, width: dSae, ...(k ? { k } : {}), steps: totalSteps, tokens: trained, seconds,
    tokensPerSecond: trained / Math.max(seconds, 1e-9), engine: 'js dense (family)', engineNotes: [], threads: 1,
    final: last ? { mse: last.mse, explainedVariance: last.ev, l0: last.l0, deadFraction: dead / dSae, loss: last.loss } : undefined,
    skippedRows: 0, activationScale: 1, ...(crosscoderStats ? { crosscoder: crosscoderStats } : {}),
  };
  log({ type: 'summary', ...summary, time: new Date().toISOString() });
  return summary;
}

function toCrosscoder(p: FamilyParams, nSources: number, d: number, dSae: number, training: Record<string, unknown>): Crosscoder {
  // our [L·d, H] encoder and [H, L·d] decoder are the format's [L, d, H] and [H, L, d] row-major as they are
  return {
    cfg: { nSources, dIn: d, dSae, dtype: 'float32', metadata: { sae_workbench: { training } } },
    wEnc: p.wEnc, bEnc: p.bEnc, wDec: p.wDec, bDec: p.bDec,
  };
}
