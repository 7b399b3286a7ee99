/**
 * C4 across widths: what the split tree measures between a wider SAE's latent j and each candidate parent i in
 * the next narrower SAE — decoder cosine, co-firing containment P(ã^S_i > 0 | ã^L_j > 0), and encoder
 * agreement (the cosine between the narrower SAE's encoder row i and the wider atom d̂^L_j: whether the
 * narrower encoder reads the wider latent's direction as latent i). Candidates are every narrower latent that
 * co-fires with j plus j's best decoder-cosine match, so a latent whose parent misses its rows still gets one.
 */
import { fastMatmulBT as matmulBT } from '../compute/fastMatmul';
import type { Sae } from '../sae/types';
import type { LatentRows, SparseCodes } from './encoderCodes';

export interface WidthSide { sae: Sae; codes: SparseCodes; cols: LatentRows; counts: Int32Array; unitAtoms: Float32Array }

export interface ParentCandidate {
  /** Latent of the narrower SAE. */
  i: number;
  cosine: number;
  /** P(ã^S_i > 0 | ã^L_j > 0). */
  containment: number;
  /** cos(w_enc^S_i, d̂^L_j). */
  encoder: number;
  /** Σ ã^S_i over the rows where both fire (for B2's centroid check). */
  massS: number;
  /**
   * Mean ã^S_i on the rows where both fire over its mean on all its firings: ≈ 1 when j's rows are ordinary
   * rows of i, well below 1 when i only leaks onto them (an amortised encoder fires a sibling's merged atom
   * weakly on j's rows). NaN when they never co-fire.
   */
  strength: number;
}

/** Unit encoder rows [dSae, dIn] (W_enc is stored [dIn, dSae]); zero rows stay zero. */
export function unitEncoderRows(sae: Sae): Float32Array {
  const { dIn, dSae } = sae.cfg;
  const out = new Float32Array(dSae * dIn);
  for (let k = 0; k < dIn; k++) for (let i = 0; i < dSae; i++) out[i * dIn + k] = sae.wEnc[k * dSae + i]!;
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let k = 0; k < dIn; k++) s += out[i * dIn + k]! ** 2;
    if (s > 0) { const inv = 1 / Math.sqrt(s); for (let k = 0; k < dIn; k++) out[i * dIn + k]! *= inv; }
  }
  return out;
}

/** For each live latent j of L (ascending), its candidate parents in S (live latents of S only). */
export function parentCandidates(S: WidthSide, L: WidthSide, liveS: number[], liveL: number[]): Map<number, ParentCandidate[]> {
  const d = S.sae.cfg.dOut;
  if (L.sae.cfg.dOut !== d) throw new Error(`SAEs of different d_out (${d} vs ${L.sae.cfg.dOut}) cannot be compared`);
  const sameInput = S.sae.cfg.dIn === L.sae.cfg.dOut && !S.sae.cfg.transcoder;
  const encS = sameInput ? unitEncoderRows(S.sae) : undefined;
  const liveSAtoms = new Float32Array(liveS.length * d), liveSEnc = new Float32Array(liveS.length * d);
  liveS.forEach((i, k) => {
    liveSAtoms.set(S.unitAtoms.subarray(i * d, (i + 1) * d), k * d);
    if (encS) liveSEnc.set(encS.subarray(i * d, (i + 1) * d), k * d);
  });
  const slot = new Int32Array(S.sae.cfg.dSae).fill(-1);
  liveS.forEach((i, k) => { slot[i] = k; });
  const both = new Int32Array(liveS.length), mass = new Float64Array(liveS.length);
  const meanS = new Float64Array(S.sae.cfg.dSae);
  for (let t = 0; t < S.codes.idx.length; t++) meanS[S.codes.idx[t]!]! += S.codes.val[t]!;
  for (let i = 0; i < meanS.length; i++) meanS[i] = S.counts[i]! > 0 ? meanS[i]! / S.counts[i]! : NaN;
  const touched: number[] = [];
  const out = new Map<number, ParentCandidate[]>();
  const block = Math.max(1, Math.floor(2_000_000 / Math.max(liveS.length, 1)));
  for (let b0 = 0; b0 < liveL.length; b0 += block) {
    const part = liveL.slice(b0, b0 + block);
    const atomsL = new Float32Array(part.length * d);
    part.forEach((j, k) => atomsL.set(L.unitAtoms.subarray(j * d, (j + 1) * d), k * d));
    const C = matmulBT(atomsL, liveSAtoms, part.length, d, liveS.length);
    const E = encS ? matmulBT(atomsL, liveSEnc, part.length, d, liveS.length) : undefined;
    part.forEach((j, k) => {
      for (let u = L.cols.colPtr[j]!; u < L.cols.colPtr[j + 1]!; u++) {
        const r = L.cols.rows[u]!;
        for (let t = S.codes.rowPtr[r]!; t < S.codes.rowPtr[r + 1]!; t++) {
          const s = slot[S.codes.idx[t]!]!;
          if (s < 0) continue;
          if (both[s] === 0) touched.push(s);
          both[s]!++;
          mass[s]! += S.codes.val[t]!;
        }
      }
      let best = -1;
      for (let s = 0; s < liveS.length; s++) if (best < 0 || C[k * liveS.length + s]! > C[k * liveS.length + best]!) best = s;
      if (best >= 0 && both[best] === 0) touched.push(best);
      const list: ParentCandidate[] = touched.map((s) => ({
        i: liveS[s]!, cosine: C[k * liveS.length + s]!, containment: both[s]! / L.counts[j]!,
        encoder: E ? E[k * liveS.length + s]! : NaN, massS: mass[s]!,
        strength: both[s]! > 0 ? mass[s]! / both[s]! / meanS[liveS[s]!]! : NaN,
      }));
      for (const s of touched) { both[s] = 0; mass[s] = 0; }
      touched.length = 0;
      out.set(j, list);
    });
  }
  return out;
}
