/**
 * Transcoder releases stored as one `.safetensors` per layer with no config (docs/formats.md §5):
 * circuit-tracer SingleLayerTranscoder (W_enc [d, F], W_dec [F, d]), mntss ReLU transcoders (both
 * transposed: W_enc [F, d], W_dec [d, F]) and mwhanna Qwen3 transcoders (only W_enc transposed) are the
 * same tensors in different orientations. With no config, b_enc's length fixes F and b_dec's fixes
 * d_out; each matrix is oriented by comparing its shape with them, and a square one is refused.
 * JumpReLU when `threshold` (or `log_threshold`) is present, else ReLU. b_dec is never subtracted.
 * Cross-layer transcoders (W_enc_0, W_dec_0, ... with a layer axis) are refused: summing the layer axis
 * (what SAELens does) is fine for reading activations but not a reconstruction.
 */
import { jumprelu } from '../sae/arch/jumprelu';
import { relu } from '../sae/arch/relu';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors';
import { readSafetensors, readSafetensorsHeader } from '../io/safetensors';
import type { Sae } from '../sae/types';
import { dtypeName, isFile, lengthOf, orient, vector } from './common';

/** A bare .safetensors file with transcoder tensors and no cfg.json beside it (a SAELens folder has one). */
export function isTranscoderFile(path: string): boolean {
  if (!isFile(path) || !path.endsWith('.safetensors') || existsSync(join(dirname(path), 'cfg.json'))) return false;
  try {
    const names = readSafetensorsHeader(path).entries;
    return (names.has('W_enc') && names.has('W_dec') && names.has('b_enc') && names.has('b_dec')) || names.has('W_enc_0');
  } catch {
    return false;
  }
}

export function loadTranscoderFile(path: string): Sae {
  const { tensors } = readSafetensors(path);
  if (tensors.has('W_enc_0')) throw new InputError(path, 'a cross-layer transcoder (W_enc_0, W_dec_0, ...): not supported, because no single-layer reconstruction is defined for it');
  const dSae = lengthOf(tensors, 'b_enc', path);
  const dOut = lengthOf(tensors, 'b_dec', path);
  const enc = tensors.get('W_enc')!;
  if (enc.shape.length !== 2) throw new InputError(path, `W_enc has shape [${enc.shape.join(', ')}], expected a matrix`);
  if (enc.shape[0] === dSae && enc.shape[1] === dSae) throw new InputError(path, `W_enc is square [${dSae}, ${dSae}] (d_in = d_sae) and there is no config to fix its orientation; refusing to guess`);
  if (enc.shape[0] !== dSae && enc.shape[1] !== dSae) throw new InputError(path, `W_enc has shape [${enc.shape.join(', ')}], but b_enc says there are ${dSae} latents`);
  const dIn = enc.shape[0] === dSae ? enc.shape[1]! : enc.shape[0]!;
  let threshold = vector(tensors, 'threshold', dSae, 'd_sae', path, true);
  const logThreshold = vector(tensors, 'log_threshold', dSae, 'd_sae', path, true);
  if (!threshold && logThreshold) threshold = logThreshold.map(Math.exp);
  // circuit-tracer's JumpReLU is x·𝟙[x>θ] (no ReLU); it equals ReLU(x)·𝟙[x>θ] only when θ ≥ 0.
  if (threshold && threshold.some((t) => t < 0)) throw new InputError(path, 'threshold has negative entries; JumpReLU without ReLU is not supported for those');
  const sae: Sae = {
    cfg: {
      activation: threshold ? jumprelu.name : relu.name, dIn, dSae, dOut, transcoder: true, applyBDecToInput: false,
      normalizeActivations: 'none', rescaleActsByDecoderNorm: false,
      dtype: dtypeName(tensors),
      metadata: { metadata: {}, sae_workbench_source: { format: 'transcoder', file: path } },
      source: { format: 'transcoder', path },
    },
    wEnc: orient(tensors, 'W_enc', dIn, dSae, ['d_in', 'd_sae'], 'refuse', path),
    bEnc: vector(tensors, 'b_enc', dSae, 'd_sae', path)!,
    wDec: orient(tensors, 'W_dec', dSae, dOut, ['d_sae', 'd_out'], 'refuse', path),
    bDec: vector(tensors, 'b_dec', dOut, 'd_out', path)!,
  };
  if (threshold) sae.threshold = threshold;
  // W_skip is used as x·W_skipᵀ ([d_out, d_in]) by every tool that writes one; when d_in = d_out only that usage fixes it.
  if (tensors.has('W_skip')) sae.wSkip = orient(tensors, 'W_skip', dOut, dIn, ['d_out', 'd_in'], 'as-wanted', path);
  return sae;
}
