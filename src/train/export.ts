/**
 * The end of a run: the trained parameters as the canonical SAE (SAELens orientation, the activation scale
 * folded in, per-latent density), saved as a SAELens v6 folder, or in the crosscoder format with its
 * per-latent facts.
 */
import { join } from 'node:path';
import { saveCrosscoder } from '../formats/crosscoder';
import { saveSaeLens } from '../formats/saelens';
import { saveFinal } from './finalSave';
import { writeFileAtomic } from '../io/atomic';
import { jumprelu } from '../sae/arch/jumprelu';
import type { Crosscoder } from '../sae/crosscoder';
import { crosscoderLatentStats } from '../sae/crosscoderAnalysis';
import { lossFacts } from '../sae/objectives';
import type { Sae } from '../sae/types';
import { S } from './layout';
import type { ResolvedOptions } from './options';
import type { StepEngine } from './stepEngine';

/** Per-latent relative decoder norms and cosines of a trained crosscoder. */
export const CROSSCODER_LATENTS_FILE = 'crosscoder_latents.json';

/** The trained SAE in SAELens orientation, with the activation scale folded in (SAELens fold_activation_norm_scaling_factor). */
export function exportSae(eng: StepEngine, o: ResolvedOptions, scale: number, tokens: number, engineName: string): Sae {
  const { dIn, dOut, dSae, arch, selection } = eng.cfg;
  const f = eng.views.f32;
  const wEnc = new Float32Array(dIn * dSae);
  for (let i = 0; i < dSae; i++) for (let q = 0; q < dIn; q++) wEnc[q * dSae + i] = f.wEncT![i * dIn + q]! * scale;
  const wDec = f.wDec!.slice();
  for (let i = 0; i < wDec.length; i++) wDec[i]! /= scale;
  const bDec = f.bDec!.slice();
  for (let q = 0; q < dOut; q++) bDec[q]! /= scale;
  let threshold: Float32Array | undefined;
  if (selection === 'threshold') threshold = Float32Array.from(f.logTheta!, Math.exp);
  if (selection === 'batch-topk') threshold = new Float32Array(dSae).fill(eng.views.f64.scalars![S.bTopkThreshold]!);
  const fires = eng.views.f64.windowFires!;
  const logDensity = new Float32Array(dSae);
  const denom = Math.max(tokens, 1);
  for (let i = 0; i < dSae; i++) logDensity[i] = Math.log10(fires[i]! / denom + 1e-10);
  const transcoder = o.kind === 'transcoder';
  return {
    cfg: {
      // BatchTopK transcoders are saved as SAELens does: a JumpReLU with the global threshold broadcast
      activation: transcoder && selection === 'batch-topk' ? jumprelu.name : arch, dIn, dSae, dOut, transcoder, k: eng.cfg.k || undefined,
      applyBDecToInput: eng.cfg.bDecInput, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32',
      ...(eng.cfg.prefixes.length > 1 ? { matryoshkaWidths: eng.cfg.prefixes } : {}),
      training: {
        ...lossFacts(eng.cfg, o.sparsityCoef, scale),
        tokens, steps: Math.ceil(tokens / o.batch), batch: o.batch, lr: o.lr, seed: o.seed, engine: engineName,
        activationScaleFolded: scale, normalizeActivations: o.normalize ? 'expected_average_only_in' : 'none',
        ...(selection === 'batch-topk' ? { topkThreshold: eng.views.f64.scalars![S.bTopkThreshold]! } : {}),
        // Γ is per input dimension and scale-free (x and x̂ are scaled alike), so it holds for the saved SAE as is
        ...(o.reconWeights ? { reconstructionWeighting: { mode: o.weighting, ...(o.weighting === 'variance' ? { alpha: o.weightAlpha } : {}), gamma: o.reconWeights } } : {}),
      },
      metadata: { metadata: {} },
    },
    wEnc, bEnc: f.bEnc!.slice(), wDec, bDec, threshold, logDensity,
    // the magnitude path is scale-free (pre-activations are unchanged by the folding)
    ...(f.rMag?.length ? { bMag: f.bMag!.slice(), rMag: f.rMag.slice() } : {}),
    // the family trains unscaled (scale 1), so W_skip needs no folding
    ...(eng.cfg.skip ? { wSkip: f.wSkip!.slice() } : {}),
  };
}

/**
 * Writes the run's result: a crosscoder in its format (returns its summary facts), everything else as
 * SAELens v6 — through saveFinal, so a save that fails (a full disk) keeps the run in its checkpoint.
 */
export function saveRun(o: ResolvedOptions, sae: Sae, sources: number, checkpoint: () => string): Record<string, unknown> | undefined {
  if (o.kind === 'crosscoder') return saveFinal(o.outDir, o.runId, (dir) => saveTrainedCrosscoder(dir, sae, sources, o.width, sae.cfg.training!), checkpoint);
  saveFinal(o.outDir, o.runId, (dir) => saveSaeLens(sae, dir), checkpoint);
  return undefined;
}

/**
 * A trained crosscoder in its format (our [L·d, H] encoder and [H, L·d] decoder are the format's [L, d, H]
 * and [H, L, d] row-major as they are), plus crosscoder_latents.json. Returns the summary's crosscoder facts.
 */
export function saveTrainedCrosscoder(outDir: string, p: { wEnc: Float32Array; bEnc: Float32Array; wDec: Float32Array; bDec: Float32Array }, nSources: number, dSae: number, training: Record<string, unknown>): Record<string, unknown> {
  const cc: Crosscoder = {
    cfg: { nSources, dIn: p.bDec.length / nSources, dSae, dtype: 'float32', metadata: { sae_workbench: { training } } },
    wEnc: p.wEnc, bEnc: p.bEnc, wDec: p.wDec, bDec: p.bDec,
  };
  saveCrosscoder(cc, outDir);
  const st = crosscoderLatentStats(cc);
  // per latent, beside the weights: what the relative-norm and cosine plots are drawn from
  writeFileAtomic(join(outDir, CROSSCODER_LATENTS_FILE), JSON.stringify({ nSources, normShare: Array.from(st.normShare), cosineToFirst: Array.from(st.cosineToFirst) }) + '\n');
  return { latentsFile: CROSSCODER_LATENTS_FILE, ...(st.counts ? { relativeNormCounts: st.counts } : {}) };
}
