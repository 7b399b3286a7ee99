/**
 * TopK SAE (THEORY.md A3; SAELens `topk`): f = ReLU(TopK_k(z)), unit-norm decoder rows, aux-k on dead
 * latents. SAELens's rescale_acts_by_decoder_norm ranks z·‖d‖ instead of z.
 */
import type { Sae } from '../types';
import { defineArch } from './spec';
import type { TrainFacts } from './spec';

/** Keeps the k largest entries of a row (ties broken by index), zeroing the rest, then ReLU. */
export function topkRow(row: Float32Array, k: number): void {
  const n = row.length;
  if (k >= n) { for (let i = 0; i < n; i++) if (!(row[i]! > 0)) row[i] = 0; return; }
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const sorted = Array.from(idx).sort((a, b) => row[b]! - row[a]! || a - b);
  const keep = new Uint8Array(n);
  for (let t = 0; t < k; t++) keep[sorted[t]!] = 1;
  for (let i = 0; i < n; i++) if (!keep[i] || !(row[i]! > 0)) row[i] = 0;
}

/** Per-row TopK codes, ranking by z·‖d‖ when the SAE says so (`norms` then holds the decoder norms). */
export function topkRows(sae: Sae, h: Float32Array, n: number, norms?: Float32Array): void {
  const { dSae } = sae.cfg;
  const k = sae.cfg.k ?? 32;
  for (let r = 0; r < n; r++) {
    const row = h.subarray(r * dSae, (r + 1) * dSae);
    if (norms) for (let i = 0; i < dSae; i++) row[i]! *= norms[i]!;
    topkRow(row, k);
  }
}

/** cfg.json fields of the k-sparse architectures. */
export function kConfigFields(sae: Sae): Record<string, unknown> {
  return { ...(sae.cfg.k !== undefined ? { k: sae.cfg.k } : {}), rescale_acts_by_decoder_norm: sae.cfg.rescaleActsByDecoderNorm };
}

/** Training facts of the k-sparse architectures: unit-norm decoder, no penalty, aux-k on dead latents. */
export function kSparseTrainFacts(selection: 'row-topk' | 'batch-topk'): TrainFacts {
  return {
    selection, penalty: 'none', decoderNorm: 'unit', auxK: true, densePath: false, defaultSparsityCoef: 0,
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
  train: kSparseTrainFacts('row-topk'),
});
