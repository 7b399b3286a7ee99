/**
 * TopK SAE (docs/theory.md §A3; SAELens `topk`): f = ReLU(TopK_k(z)), decoder rows free (unit-norm with
 * --unit-norm-decoder), aux-k on dead latents. SAELens's rescale_acts_by_decoder_norm ranks z·‖d‖ instead of z.
 */
import { keepTopK, RowTopK } from '../../compute/topk';
import type { Sae } from '../types';
import { defineArch } from './spec';
import type { TrainFacts } from './spec';

/** The SAE's k (SAELens's default 32 when its config names none). */
export function topkOf(sae: Sae): number { return sae.cfg.k ?? 32; }

/**
 * k when the SAE's inference codes are plain per-row TopK — topk, or batchtopk without a learned threshold,
 * not ranked by decoder norm: the k best of z + b_enc per row (ties to the lower latent), kept where
 * positive. A caller may then select straight into sparse form (src/diagnostics/encoderCodes.ts).
 */
export function plainRowTopK(sae: Sae): number | undefined {
  const { activation, rescaleActsByDecoderNorm, dSae } = sae.cfg;
  const k = topkOf(sae);
  const rowTopK = activation === 'topk' || (activation === 'batchtopk' && !sae.threshold);
  return rowTopK && !rescaleActsByDecoderNorm && k > 0 && k < dSae ? k : undefined;
}

/** Per-row TopK codes, ranking by z·‖d‖ when the SAE says so (`norms` then holds the decoder norms). */
export function topkRows(sae: Sae, h: Float32Array, n: number, norms?: Float32Array): void {
  const { dSae } = sae.cfg;
  const k = topkOf(sae);
  // one selector for all rows: its threshold carries over from row to row (src/compute/topk.ts)
  const sel = new RowTopK(dSae, k), keptVal = new Float32Array(k), keptIdx = new Int32Array(k);
  for (let r = 0; r < n; r++) {
    const row = h.subarray(r * dSae, (r + 1) * dSae);
    if (norms) for (let i = 0; i < dSae; i++) row[i]! *= norms[i]!;
    keepTopK(row, k, sel, keptVal, keptIdx);
  }
}

/** cfg.json fields of the k-sparse architectures. */
export function kConfigFields(sae: Sae): Record<string, unknown> {
  return { ...(sae.cfg.k !== undefined ? { k: sae.cfg.k } : {}), rescale_acts_by_decoder_norm: sae.cfg.rescaleActsByDecoderNorm };
}

/**
 * Training facts of the k-sparse architectures: no penalty, aux-k on dead latents, decoder rows starting at
 * unit norm and then free (TopK, as SAELens, from uniform entries; --unit-norm-decoder keeps them unit) or
 * always unit (BatchTopK, Gaussian entries as before: neither change was measured for it).
 */
export function kSparseTrainFacts(selection: 'row-topk' | 'batch-topk', decoderNorm: 'option' | 'unit'): TrainFacts {
  return {
    selection, penalty: 'none', decoderNorm, auxK: true, densePath: false, defaultSparsityCoef: 0, uniformInit: decoderNorm === 'option',
    penaltyName: () => 'none', decoderInitNorm: () => 1,
  };
}

export const topk = defineArch({
  name: 'topk',
  summary: 'TopK: k active latents per token',
  usesK: true,
  codeKind: 'l0',
  offThreshold: 'row-min',
  ranksByDecoderNorm: true,
  addsEncoderBias: true,
  activate: topkRows,
  saeLens: {
    architecture: () => 'topk',
    reads: ['topk'],
    encoderBias: 'b_enc',
    latentTensors: [],
    configFields: kConfigFields,
  },
  // free decoder rows by default: unit rows learn the directions more slowly (docs/training.md, Quality)
  train: kSparseTrainFacts('row-topk', 'option'),
});
