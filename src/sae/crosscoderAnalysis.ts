/**
 * The two per-latent quantities crosscoder users plot (ckkissane crosscoder-model-diff; docs/formats.md §5):
 * the relative decoder norm across sources and the cosine between a latent's per-source directions.
 * With two sources the relative norm is r = ‖d_B‖ / (‖d_A‖ + ‖d_B‖): near 0 or 1 means the latent lives in
 * one source only, 0.3 < r < 0.7 counts as shared.
 */
import type { Crosscoder } from './crosscoder';
import { crosscoderDecoderNorms } from './crosscoder';

export interface CrosscoderLatentStats {
  /** [dSae, nSources]: ‖d_i^l‖ / Σ_l ‖d_i^l‖ (NaN for an all-zero latent). For 2 sources, column 1 is r. */
  normShare: Float32Array;
  /** [dSae, nSources − 1]: cos(d_i^0, d_i^l) for l ≥ 1 (NaN when either direction is zero). */
  cosineToFirst: Float32Array;
  /** Two sources: latents with r < 0.1, r > 0.9, 0.3 < r < 0.7 (exclusive A, exclusive B, shared). */
  counts?: { onlyFirst: number; onlySecond: number; shared: number };
}

export function crosscoderLatentStats(cc: Crosscoder): CrosscoderLatentStats {
  const { nSources: L, dIn: d, dSae } = cc.cfg;
  const norms = crosscoderDecoderNorms(cc);
  const normShare = new Float32Array(dSae * L);
  const cosineToFirst = new Float32Array(dSae * Math.max(L - 1, 0));
  for (let i = 0; i < dSae; i++) {
    let total = 0;
    for (let l = 0; l < L; l++) total += norms[i * L + l]!;
    for (let l = 0; l < L; l++) normShare[i * L + l] = total > 0 ? norms[i * L + l]! / total : NaN;
    const a = (i * L) * d;
    for (let l = 1; l < L; l++) {
      const b = (i * L + l) * d;
      let dot = 0;
      for (let q = 0; q < d; q++) dot += cc.wDec[a + q]! * cc.wDec[b + q]!;
      const den = norms[i * L]! * norms[i * L + l]!;
      cosineToFirst[i * (L - 1) + l - 1] = den > 0 ? dot / den : NaN;
    }
  }
  const out: CrosscoderLatentStats = { normShare, cosineToFirst };
  if (L === 2) {
    let onlyFirst = 0, onlySecond = 0, shared = 0;
    for (let i = 0; i < dSae; i++) {
      const r = normShare[i * 2 + 1]!;
      if (r < 0.1) onlyFirst++; else if (r > 0.9) onlySecond++; else if (r > 0.3 && r < 0.7) shared++;
    }
    out.counts = { onlyFirst, onlySecond, shared };
  }
  return out;
}
