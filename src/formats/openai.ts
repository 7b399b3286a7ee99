/**
 * openai/sparse_autoencoder (docs/formats.md §4): one `.pt` state_dict with `pre_bias` [D],
 * `encoder.weight` [L, D], `latent_bias` [L], `decoder.weight` [D, L], statistics, and the non-tensor
 * entries `activation` ("TopK" | "ReLU") and `activation_state_dict` ({k, postact_fn}). LayerNorm
 * preprocessing is on iff the activation is TopK; it maps to normalize_activations 'layer_norm'
 * (x−μ)/(σ+1e-5) in, ·σ+μ out — the same definition as SAELens.
 */
import { relu } from '../sae/arch/relu';
import { topk } from '../sae/arch/topk';
import { InputError } from '../errors';
import { readTorchFile, readTorchStructure, stateDict, stateDictTensors, isTensor } from '../io/torch';
import type { TorchValue } from '../io/torch';
import type { Sae } from '../sae/types';
import { dtypeName, isFile, lengthOf, orient, vector } from './common';

export function isOpenAiFile(path: string): boolean {
  if (!isFile(path) || !path.endsWith('.pt')) return false;
  try {
    const sd = stateDict(readTorchStructure(path), path);
    return sd.has('pre_bias') && sd.has('latent_bias') && sd.has('encoder.weight');
  } catch {
    return false;
  }
}

function str(v: TorchValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function loadOpenAi(path: string): Sae {
  const sd = stateDict(readTorchFile(path), path);
  const tensors = stateDictTensors(sd);
  const D = lengthOf(tensors, 'pre_bias', path);
  const L = lengthOf(tensors, 'latent_bias', path);
  const act = str(sd.get('activation')) ?? 'ReLU';
  const actState = sd.get('activation_state_dict');
  let k: number | undefined;
  if (act === 'TopK') {
    if (!(actState instanceof Map)) throw new InputError(path, "activation is TopK but activation_state_dict is missing");
    const kv = actState.get('k');
    const kn = typeof kv === 'bigint' ? Number(kv) : isTensor(kv) ? Number(kv.data[0]) : kv;
    if (typeof kn !== 'number' || !Number.isSafeInteger(kn) || kn < 1 || kn > L) throw new InputError(path, `activation_state_dict.k must be an integer in [1, ${L}], got ${String(kn)}`);
    k = kn;
    const post = str(actState.get('postact_fn')) ?? 'ReLU';
    if (post !== 'ReLU') throw new InputError(path, `TopK postact_fn '${post}' is not supported (only ReLU)`);
  } else if (act !== 'ReLU') {
    throw new InputError(path, `activation '${act}' is not supported (TopK or ReLU)`);
  }
  const freq = vector(tensors, 'latents_activation_frequency', L, 'n_latents', path, true);
  const sae: Sae = {
    cfg: {
      activation: act === 'TopK' ? topk.name : relu.name, k,
      dIn: D, dSae: L, dOut: D, transcoder: false, applyBDecToInput: true,
      normalizeActivations: act === 'TopK' ? 'layer_norm' : 'none',
      rescaleActsByDecoderNorm: false,
      dtype: dtypeName(tensors),
      metadata: { metadata: {}, sae_workbench_source: { format: 'openai', activation: act, k: k ?? null } },
      source: { format: 'openai', path },
    },
    // both are nn.Linear weights ([out, in] by definition), so even a square one is decided
    wEnc: orient(tensors, 'encoder.weight', D, L, ['d_model', 'n_latents'], 'transposed', path),
    bEnc: vector(tensors, 'latent_bias', L, 'n_latents', path)!,
    wDec: orient(tensors, 'decoder.weight', L, D, ['n_latents', 'd_model'], 'transposed', path),
    bDec: vector(tensors, 'pre_bias', D, 'd_model', path)!,
  };
  if (freq) sae.logDensity = freq.map((f) => Math.log10(f + 1e-10));
  return sae;
}
