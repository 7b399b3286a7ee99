/**
 * Initialisation of a run: the activation scale (SAELens expected_average_only_in), b_dec at the
 * geometric median (or mean, or 0) of a sample, decoder rows at a chosen norm with W_enc = W_decᵀ.
 */
import type { BDecInit } from '../protocol/training';
import type { Rng } from './rng';

/** scale = √d_in / E‖x‖, so that scaled rows have mean norm √d_in. */
export function activationScale(sample: Float32Array, n: number, dIn: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) {
    let q = 0;
    for (let j = 0; j < dIn; j++) q += sample[r * dIn + j]! ** 2;
    s += Math.sqrt(q);
  }
  const mean = s / n;
  return mean > 0 ? Math.sqrt(dIn) / mean : 1;
}

function meanRow(rows: Float32Array, n: number, d: number): Float64Array {
  const y = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) y[j]! += rows[r * d + j]! / n;
  return y;
}

/** Weiszfeld's iteration for the point minimising the summed distances to the rows. */
export function geometricMedian(rows: Float32Array, n: number, d: number, maxIter = 100, tol = 1e-5): Float32Array {
  const y = meanRow(rows, n, d);
  const next = new Float64Array(d);
  for (let it = 0; it < maxIter; it++) {
    next.fill(0);
    let wsum = 0;
    for (let r = 0; r < n; r++) {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (rows[r * d + j]! - y[j]!) ** 2;
      const w = 1 / Math.max(Math.sqrt(dist), 1e-8);
      wsum += w;
      for (let j = 0; j < d; j++) next[j]! += w * rows[r * d + j]!;
    }
    let move = 0, norm = 0;
    for (let j = 0; j < d; j++) { const v = next[j]! / wsum; move += (v - y[j]!) ** 2; norm += v * v; y[j] = v; }
    if (Math.sqrt(move) <= tol * Math.max(1, Math.sqrt(norm))) break;
  }
  return Float32Array.from(y);
}

/** b_dec's starting point from a sample of `n` rows (SAELens b_dec_init_method). */
export function bDecStart(how: BDecInit, rows: Float32Array, n: number, d: number): Float32Array {
  return how === 'geometric_median' ? geometricMedian(rows, n, d) : how === 'mean' ? Float32Array.from(meanRow(rows, n, d)) : new Float32Array(d);
}

/**
 * Random decoder rows (length d_out) of norm `decoderNorm`. When input and target are one space the encoder
 * starts as the decoder's transpose at norm `encoderNorm`; otherwise (transcoders) its rows are random at
 * that norm. With `uniform` (TopK) entries are uniform before the rows are scaled, as SAELens draws W_dec
 * (Kaiming-uniform, then normalised), else Gaussian: Adam moves each entry by about lr per step, so a row reaches its feature in about
 * max_j |Δ_j| / lr steps, and uniform entries have a smaller largest entry than Gaussian ones at the same
 * norm (MMCS 0.982/0.984 against 0.981/0.981 for a Gaussian start in the reference loop, docs/training.md).
 */
export function initWeights(wDec: Float32Array, wEncT: Float32Array, dSae: number, dIn: number, dOut: number, decoderNorm: number, encoderNorm: number, rng: Rng, uniform = false): void {
  const draw = (): number => (uniform ? 2 * rng.next() - 1 : rng.normal());
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let j = 0; j < dOut; j++) { const v = draw(); wDec[i * dOut + j] = v; s += v * v; }
    const f = decoderNorm / Math.sqrt(s);
    for (let j = 0; j < dOut; j++) wDec[i * dOut + j]! *= f;
    if (dIn === dOut) {
      const e = encoderNorm / decoderNorm;
      for (let j = 0; j < dIn; j++) wEncT[i * dIn + j] = e === 1 ? wDec[i * dOut + j]! : wDec[i * dOut + j]! * e;
    } else {
      let t = 0;
      for (let j = 0; j < dIn; j++) { const v = draw(); wEncT[i * dIn + j] = v; t += v * v; }
      for (let j = 0; j < dIn; j++) wEncT[i * dIn + j]! *= encoderNorm / Math.sqrt(t);
    }
  }
}
