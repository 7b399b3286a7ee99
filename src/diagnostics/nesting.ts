/**
 * C4 within one dictionary when absorption hides the nesting (docs/split-trees.md "Within one SAE"). At the
 * absorbing optimum a child's atom is the merged w_P + w_c and the parent latent goes silent on the child's
 * rows, so the co-firing DAG (P(parent fires | child fires) ≥ 0.9) misses the pair. The parent's *direction* is
 * still there: on the child's rows the reconstruction carries w_P at full strength. Nesting j → i:
 *   forward  = median over i's rows of ⟨x̂, d̂_j⟩ / median over j's rows of ⟨x̂, d̂_j⟩  ≈ 1 for a parent,
 *   reverse  = median over j's rows of ⟨x̂, d̂_i⟩ / median over i's rows of ⟨x̂, d̂_i⟩  = k/(k+1) for a child
 *              k levels down from the root (½ at depth one), and the same as forward for siblings and
 *              duplicates.
 * An edge needs forward ≥ NESTING.minForward and forward − reverse ≥ NESTING.minMargin, between atoms at
 * cos ≥ NESTING.minCosine and below DUPLICATES.cosine (the candidates; at most NESTING.maxCandidates per
 * latent, closest first).
 * x̂ − b = Σ_k ã_k d̂_k from the sparse codes, so no activations are needed.
 */
import { dotAt, median, parallelMatmulBT, spreadRows } from './linalg';
import type { LatentRows, SparseCodes } from './encoderCodes';
import { DUPLICATES, NESTING } from './thresholds';

export interface NestingPair { parent: number; child: number; cosine: number; forward: number; reverse: number }

/** Up to `k` closest live atoms b ≠ a with cos ≥ minCos, per live latent a (blocked D̂·D̂ᵀ, never the m×m matrix). */
export function closeAtoms(unitAtoms: Float32Array, live: number[], d: number, minCos: number, k: number, blockRows = 512): Map<number, { j: number; cos: number }[]> {
  const l = live.length;
  const atoms = new Float32Array(l * d);
  live.forEach((id, t) => atoms.set(unitAtoms.subarray(id * d, (id + 1) * d), t * d));
  const out = new Map<number, { j: number; cos: number }[]>();
  for (let b0 = 0; b0 < l; b0 += blockRows) {
    const br = Math.min(blockRows, l - b0);
    const C = parallelMatmulBT(atoms.subarray(b0 * d, (b0 + br) * d), atoms, br, d, l);
    for (let t = 0; t < br; t++) {
      const list: { j: number; cos: number }[] = [];
      for (let u = 0; u < l; u++) if (u !== b0 + t && C[t * l + u]! >= minCos) list.push({ j: live[u]!, cos: C[t * l + u]! });
      if (list.length) out.set(live[b0 + t]!, list.sort((x, y) => y.cos - x.cos).slice(0, k));
    }
  }
  return out;
}

/** The nesting rule: forward ≥ NESTING.minForward and forward − reverse ≥ NESTING.minMargin. */
export const isNesting = (e: NestingPair): boolean => e.forward >= NESTING.minForward && e.forward - e.reverse >= NESTING.minMargin;

/** Every candidate pair (cos ≥ NESTING.minCosine, both directions) with its two ratios, for calibration. */
export function nestingCandidates(codes: SparseCodes, cols: LatentRows, counts: Int32Array, unitAtoms: Float32Array, d: number, minFirings: number): NestingPair[] {
  const live: number[] = [];
  for (let i = 0; i < codes.m; i++) if (counts[i]! >= minFirings) live.push(i);
  const near = closeAtoms(unitAtoms, live, d, NESTING.minCosine, NESTING.maxCandidates);
  // ⟨x̂_r − b, d̂_l⟩ with x̂_r − b = Σ_k ã_k d̂_k, each sampled row's reconstruction built once
  const recon = new Map<number, Float32Array>();
  const proj = (r: number, l: number): number => {
    let v = recon.get(r);
    if (!v) {
      v = new Float32Array(d);
      for (let t = codes.rowPtr[r]!; t < codes.rowPtr[r + 1]!; t++) {
        const a = codes.val[t]!, o = codes.idx[t]! * d;
        for (let k = 0; k < d; k++) v[k]! += a * unitAtoms[o + k]!;
      }
      recon.set(r, v);
    }
    return dotAt(v, 0, unitAtoms, l * d, d);
  };
  const rowsOf = new Map<number, number[]>(), own = new Map<number, number>();
  const rowsFor = (l: number): number[] => {
    let r = rowsOf.get(l);
    if (!r) {
      const lo = cols.colPtr[l]!, cnt = cols.colPtr[l + 1]! - lo;
      rowsOf.set(l, (r = Array.from(spreadRows(cnt, NESTING.maxRows), (u) => cols.rows[lo + u]!)));
    }
    return r;
  };
  const ownOf = (l: number): number => {
    let v = own.get(l);
    if (v === undefined) { v = median(rowsFor(l).map((r) => proj(r, l))); own.set(l, v); }
    return v;
  };
  const out: NestingPair[] = [];
  for (const [i, list] of near) {
    for (const { j, cos } of list) {
      if (cos >= DUPLICATES.cosine) continue;
      const oj = ownOf(j), oi = ownOf(i);
      if (!(oj > 0 && oi > 0)) continue;
      const forward = median(rowsFor(i).map((r) => proj(r, j))) / oj;
      const reverse = median(rowsFor(j).map((r) => proj(r, i))) / oi;
      out.push({ parent: j, child: i, cosine: cos, forward, reverse });
    }
  }
  return out;
}
