/**
 * Logit effects of a latent: the direct effect of its decoder direction on the model's output logits,
 * W_dec[i]·W_U, over the whole vocabulary — the tokens it promotes most and least, and the histogram of
 * all of them (as SAEDashboard and Neuronpedia show them). This is the direct path only: no final layer
 * norm and no later layers.
 *
 * W_U is read from a `W_U.safetensors` (one 2-D tensor, or one named W_U / lm_head.weight) or `W_U.npy`
 * beside the data, as [d_model, d_vocab] (TransformerLens) or [d_vocab, d_model] (a Hugging Face
 * lm_head.weight), told apart by which side matches the SAE's output width.
 */
import { InputError } from '../errors';
import { readNpy } from '../io/npy';
import { readSafetensors } from '../io/safetensors';
import { toFloat32 } from '../io/tensor';
import type { Tensor } from '../io/tensor';
import type { Sae } from '../sae/types';
import type { TokenDecoder } from '../tokens/decode';
import type { LogitEffects } from '../protocol/viewModels';

export interface Unembedding {
  path: string;
  dModel: number;
  dVocab: number;
  /** Row-major [dModel, dVocab]. */
  w: Float32Array;
}

export function readUnembedding(path: string, dModel: number): Unembedding {
  let t: Tensor;
  if (path.toLowerCase().endsWith('.npy')) t = readNpy(path);
  else {
    const f = readSafetensors(path);
    const twoD = [...f.tensors].filter(([, v]) => v.shape.length === 2);
    const named = twoD.find(([n]) => ['W_U', 'lm_head.weight', 'unembed.W_U'].includes(n));
    if (!named && twoD.length !== 1) throw new InputError(path, `expected one 2-D tensor (or one named W_U), found ${twoD.length}`);
    t = (named ?? twoD[0]!)[1];
  }
  if (t.shape.length !== 2) throw new InputError(path, `W_U must be 2-D, got shape [${t.shape.join(', ')}]`);
  const [a, b] = t.shape as [number, number];
  const values = toFloat32(t);
  if (a === dModel) return { path, dModel, dVocab: b, w: values };
  if (b === dModel) {
    // [d_vocab, d_model]: transpose once so that a latent's effect is a sweep over contiguous rows
    const w = new Float32Array(values.length);
    for (let v = 0; v < a; v++) for (let j = 0; j < dModel; j++) w[j * a + v] = values[v * dModel + j]!;
    return { path, dModel, dVocab: a, w };
  }
  throw new InputError(path, `W_U has shape [${a}, ${b}]; neither side matches the SAE's output width ${dModel}`);
}

/** W_dec[latent]·W_U for every vocabulary entry. */
export function latentLogits(sae: Sae, latent: number, u: Unembedding): Float32Array {
  const { dOut } = sae.cfg;
  const acc = new Float64Array(u.dVocab);
  for (let j = 0; j < dOut; j++) {
    const c = sae.wDec[latent * dOut + j]!;
    if (c === 0) continue;
    const row = u.w.subarray(j * u.dVocab, (j + 1) * u.dVocab);
    for (let v = 0; v < u.dVocab; v++) acc[v]! += c * row[v]!;
  }
  return Float32Array.from(acc);
}

/** The top and bottom `k` tokens of a latent's logit effects, and their histogram over the vocabulary. */
export function logitEffects(sae: Sae, latent: number, u: Unembedding, decoder?: TokenDecoder, k = 10, bins = 40): LogitEffects {
  const logits = latentLogits(sae, latent, u);
  const order = Array.from({ length: logits.length }, (_, v) => v).sort((p, q) => logits[q]! - logits[p]! || p - q);
  const name = (id: number): string => (decoder ? decoder.token(id) : `#${id}`);
  // a vocabulary smaller than 2k is split in halves, so no token is both promoted and suppressed
  const take = Math.min(k, Math.floor(logits.length / 2));
  const top = order.slice(0, take), bottom = order.slice(-take).reverse();
  let lo = Infinity, hi = -Infinity;
  for (const v of logits) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (hi === lo) { hi = lo + 1; }
  const edges = Float32Array.from({ length: bins + 1 }, (_, b) => lo + ((hi - lo) * b) / bins);
  const counts = new Uint32Array(bins);
  for (const v of logits) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]! += 1;
  return {
    top: { tokens: top.map(name), values: Float32Array.from(top, (v) => logits[v]!) },
    bottom: { tokens: bottom.map(name), values: Float32Array.from(bottom, (v) => logits[v]!) },
    histogram: { edges, counts }, path: u.path,
  };
}
