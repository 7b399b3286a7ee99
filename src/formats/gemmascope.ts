/**
 * GemmaScope `params.npz` (docs/formats.md §5): W_enc [d_model, d_sae], W_dec [d_sae, d_model], b_enc,
 * b_dec, threshold — JumpReLU with b_dec not subtracted from the input. There is no config: d_sae and
 * d_model come from the bias lengths, and the matrices are oriented by shape against them (a square
 * matrix would be refused). The release's folder names (layer_N/width_Wk/average_l0_L) become metadata.
 * Embedding SAEs (which need W_enc/√d_in, W_dec·√d_in) cannot be told apart from the file and are not rescaled.
 */
import { jumprelu } from '../sae/arch/jumprelu';
import { basename, dirname, join } from 'node:path';
import { readNpz } from '../io/npy';
import type { Sae } from '../sae/types';
import { dtypeName, hasFiles, isFile, lengthOf, orient, vector } from './common';

export const GEMMASCOPE_FILE = 'params.npz';

export function isGemmaScope(path: string): boolean {
  return hasFiles(path, GEMMASCOPE_FILE) || (isFile(path) && basename(path) === GEMMASCOPE_FILE);
}

export function loadGemmaScope(path: string): Sae {
  const file = isFile(path) ? path : join(path, GEMMASCOPE_FILE);
  const tensors = readNpz(file);
  const dSae = lengthOf(tensors, 'b_enc', file);
  const dIn = lengthOf(tensors, 'b_dec', file);
  const parts = dirname(file).split(/[\\/]/).slice(-3);
  const layer = parts.map((p) => /^layer_(\d+)$/.exec(p)?.[1]).find((v) => v !== undefined);
  return {
    cfg: {
      activation: jumprelu.name, dIn, dSae, dOut: dIn, transcoder: false, applyBDecToInput: false,
      normalizeActivations: 'none', rescaleActsByDecoderNorm: false,
      dtype: dtypeName(tensors),
      metadata: { metadata: { ...(layer !== undefined ? { layer: Number(layer) } : {}) }, sae_workbench_source: { format: 'gemmascope', release_path: parts.join('/') } },
      source: { format: 'gemmascope', path },
    },
    wEnc: orient(tensors, 'W_enc', dIn, dSae, ['d_model', 'd_sae'], 'refuse', file),
    bEnc: vector(tensors, 'b_enc', dSae, 'd_sae', file)!,
    wDec: orient(tensors, 'W_dec', dSae, dIn, ['d_sae', 'd_model'], 'refuse', file),
    bDec: vector(tensors, 'b_dec', dIn, 'd_model', file)!,
    threshold: vector(tensors, 'threshold', dSae, 'd_sae', file)!,
  };
}
