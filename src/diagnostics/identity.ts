/**
 * The pairwise identity of docs/theory.md §B3: at a stationary point with exact codes,
 *   cos_ij = π_{j|i} + (1 − π_{j|i})·κ_{j|i},  π_{j|i} = E[a_i 1(a_j>0)]/E[a_i],
 *   κ_{j|i} = E[a_i⟨d_j, r⟩ 1(a_j=0)] / (λ_e E[a_i 1(a_j=0)]).
 * ID_ij = cos_ij − [π + (1 − π)κ] is ≈ 0 for a*; for SAE codes it measures amortisation inconsistency.
 * Computed as ID_ij = cos_ij − π_{j|i} − (⟨d̂_j, g_i⟩ − X_ij)/(λ_e m_i), with X_ij = E[a_i⟨d̂_j, r⟩1(a_j>0)],
 * which needs no division by 1 − π (exact nesting, π = 1, is the interesting case).
 */
import type { CodeSet } from './codeResiduals';
import type { AtomPairs } from './atomPairs';
import { codeWeightedResidual } from './codeResiduals';
import { quantile } from './linalg';

export interface IdentityReport {
  source: CodeSet['source'];
  pairs: number;
  /** Ordered pairs (i, j) evaluated (both orders of each near pair, when both fire). */
  evaluated: number;
  maxAbs: number;
  medianAbs: number;
  p90Abs: number;
  /** The worst pairs: ID, cos, π_{j|i}. */
  worst: { i: number; j: number; id: number; cos: number; pi: number }[];
  truncated: boolean;
  reason: Record<string, string>;
}

export function identityResidual(cs: CodeSet, unitAtoms: Float32Array, lambdaE: number, pairs: AtomPairs, worstCount = 20): IdentityReport {
  const { n, m, d, rowPtr, idx: latent, val: value, onProj } = cs;
  const reason: Record<string, string> = {};
  const P = pairs.near.i.length;
  if (!(lambdaE > 0)) return { source: cs.source, pairs: P, evaluated: 0, maxAbs: NaN, medianAbs: NaN, p90Abs: NaN, worst: [], truncated: pairs.nearTruncated, reason: { id: 'λ_e is unavailable; pass --lambda-e' } };
  if (cs.kind !== 'l1') return { source: cs.source, pairs: P, evaluated: 0, maxAbs: NaN, medianAbs: NaN, p90Abs: NaN, worst: [], truncated: pairs.nearTruncated, reason: { id: 'the identity holds for L1 codes; this SAE has L0-type codes (TopK/JumpReLU) — see the exact-code (a*) identity instead' } };
  // neighbour lists (both orders), sorted by j, for a merge with each row's sorted support
  const deg = new Int32Array(m + 1);
  for (let p = 0; p < P; p++) { deg[pairs.near.i[p] + 1]++; deg[pairs.near.j[p] + 1]++; }
  for (let i = 0; i < m; i++) deg[i + 1] += deg[i];
  const nbr = new Int32Array(2 * P), nbrCos = new Float32Array(2 * P), fill = deg.slice(0, m);
  for (let p = 0; p < P; p++) {
    const a = pairs.near.i[p], b = pairs.near.j[p], c = pairs.near.cos[p];
    nbr[fill[a]] = b; nbrCos[fill[a]++] = c;
    nbr[fill[b]] = a; nbrCos[fill[b]++] = c;
  }
  for (let i = 0; i < m; i++) {
    const idx = Array.from({ length: deg[i + 1] - deg[i] }, (_, k) => deg[i] + k).sort((x, y) => nbr[x] - nbr[y]);
    const nb = idx.map((k) => nbr[k]), nc = idx.map((k) => nbrCos[k]);
    nbr.set(nb, deg[i]); nbrCos.set(nc, deg[i]);
  }
  // supports must be sorted by latent for the merge
  const coW = new Float64Array(2 * P), xW = new Float64Array(2 * P);
  for (let r = 0; r < n; r++) {
    const s0 = rowPtr[r], s1 = rowPtr[r + 1];
    if (s1 - s0 < 2) continue;
    for (let k = s0; k < s1; k++) {
      const i = latent[k], a = value[k];
      let q = deg[i];
      const qEnd = deg[i + 1];
      let t = s0;
      while (q < qEnd && t < s1) {
        if (nbr[q] < latent[t]) q++;
        else if (nbr[q] > latent[t]) t++;
        else { coW[q] += a; xW[q] += a * onProj[t]; q++; t++; }
      }
    }
  }
  const { g, mean } = codeWeightedResidual(cs);
  // coW and xW are sums over rows; g and mean are means
  for (let q = 0; q < 2 * P; q++) { coW[q] /= n; xW[q] /= n; }
  const abs: number[] = [];
  const worst: IdentityReport['worst'] = [];
  for (let i = 0; i < m; i++) {
    if (!(mean[i] > 0)) continue;
    for (let q = deg[i]; q < deg[i + 1]; q++) {
      const j = nbr[q];
      let gj = 0;
      for (let t = 0; t < d; t++) gj += unitAtoms[j * d + t] * g[i * d + t];
      const pi = coW[q] / mean[i];
      const id = nbrCos[q] - pi - (gj - xW[q]) / (lambdaE * mean[i]);
      abs.push(Math.abs(id));
      if (worst.length < worstCount || Math.abs(id) > Math.abs(worst[worst.length - 1].id)) {
        worst.push({ i, j, id, cos: nbrCos[q], pi });
        worst.sort((x, y) => Math.abs(y.id) - Math.abs(x.id));
        if (worst.length > worstCount) worst.pop();
      }
    }
  }
  if (P === 0) reason.id = 'no pair of live atoms has cos > 0.1';
  return {
    source: cs.source, pairs: P, evaluated: abs.length, maxAbs: abs.length ? abs.reduce((x, y) => Math.max(x, y), 0) : NaN,
    medianAbs: quantile(abs, 0.5), p90Abs: quantile(abs, 0.9), worst, truncated: pairs.nearTruncated, reason,
  };
}
