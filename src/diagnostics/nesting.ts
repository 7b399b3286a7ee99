/**
 * C4 within one dictionary when absorption hides the nesting (docs/split-trees.md "Within one SAE"). At the
 * absorbing optimum a child's atom is the merged w_P + w_c and the parent latent goes silent on the child's
 * rows, so the co-firing DAG (P(parent fires | child fires) ≥ 0.9) misses the pair. The parent's *direction* is
 * still there: on the child's rows the reconstruction carries w_P at full strength. Nesting j → i:
 *   forward  = median over i's rows of ⟨x̂, d̂_j⟩ / median over j's rows of ⟨x̂, d̂_j⟩  ≈ 1 for a parent,
 *   reverse  = median over j's rows of ⟨x̂, d̂_i⟩ / median over i's rows of ⟨x̂, d̂_i⟩  = k/(k+1) for a child
 *              k levels down from the root (½ at depth one), and the same as forward for siblings and
 *              duplicates.
 * An edge needs NESTING.minForward ≤ forward ≤ NESTING.maxForward and forward − reverse ≥ NESTING.minMargin, between atoms at
 * cos ≥ NESTING.minCosine and below DUPLICATES.cosine (the candidates; at most NESTING.maxCandidates per
 * latent, closest first).
 * x̂ − b = Σ_k ã_k d̂_k from the sparse codes, so no activations are needed. Cost: the blocked Gram D̂·D̂ᵀ (m²·d,
 * never the m×m matrix) and, per latent, one [≤ maxRows, d] × [d, ≤ 2·maxCandidates + 1] product.
 */
import { median, parallelMatmulBT, spreadRows } from './linalg';
import { fastMatmulBT } from '../compute/fastMatmul';
import type { LatentRows, SparseCodes } from './encoderCodes';
import { DUPLICATES, NESTING } from './thresholds';

export interface NestingPair {
  parent: number; child: number; cosine: number; forward: number; reverse: number;
  /** Share of the child's rows where the parent fires, and of the parent's rows where the child fires (sampled rows). */
  cofiring: number; reverseCofiring: number;
}

/**
 * Up to `k` closest live atoms b ≠ a with cos ≥ minCos, per live latent a: one blocked pass over the upper
 * triangle of D̂·D̂ᵀ through the GEMM (each block's product starts at its own first column, as in
 * ./atomPairs.ts), each pair offered to both latents' bounded lists; never the m×m matrix.
 */
export function closeAtoms(unitAtoms: Float32Array, live: number[], d: number, minCos: number, k: number, blockRows = 512): Map<number, { j: number; cos: number }[]> {
  const l = live.length;
  const atoms = new Float32Array(l * d);
  live.forEach((id, t) => atoms.set(unitAtoms.subarray(id * d, (id + 1) * d), t * d));
  const lists: { j: number; cos: number }[][] = Array.from({ length: l }, () => []);
  const offer = (list: { j: number; cos: number }[], j: number, cos: number): void => {
    if (list.length === k && cos <= list[k - 1]!.cos) return;
    let at = list.length;
    while (at > 0 && list[at - 1]!.cos < cos) at--;
    list.splice(at, 0, { j, cos });
    if (list.length > k) list.pop();
  };
  const out = new Float32Array(Math.min(blockRows, Math.max(l, 1)) * l);
  for (let b0 = 0; b0 < l; b0 += blockRows) {
    const br = Math.min(blockRows, l - b0), w = l - b0;
    const C = parallelMatmulBT(atoms.subarray(b0 * d, (b0 + br) * d), atoms, br, d, w, out.subarray(0, br * w), b0);
    for (let t = 0; t < br; t++) {
      const a = b0 + t;
      for (let u = t + 1; u < w; u++) {
        const c = C[t * w + u]!;
        if (c >= minCos) { offer(lists[a]!, live[b0 + u]!, c); offer(lists[b0 + u]!, live[a]!, c); }
      }
    }
  }
  const res = new Map<number, { j: number; cos: number }[]>();
  lists.forEach((list, t) => { if (list.length) res.set(live[t]!, list); });
  return res;
}

/** The nesting rule: NESTING.minForward ≤ forward ≤ NESTING.maxForward and forward − reverse ≥ `margin` (NESTING.minMargin; NESTING.orphanMargin for a latent with no other parent). */
export const isNesting = (e: NestingPair, margin = NESTING.minMargin): boolean =>
  e.forward >= NESTING.minForward && e.forward <= NESTING.maxForward && e.forward - e.reverse >= margin;

/**
 * Every candidate pair (cos ≥ NESTING.minCosine, both directions) with its two ratios, for calibration.
 * Each ratio is a median over one latent's sampled rows (its "owner") of ⟨x̂, d̂_l⟩: per owner, its rows'
 * reconstructions (each row built once) times the atoms it is compared with, one GEMM through the engine.
 */
export function nestingCandidates(codes: SparseCodes, cols: LatentRows, counts: Int32Array, unitAtoms: Float32Array, d: number, minFirings: number): NestingPair[] {
  const live: number[] = [];
  for (let i = 0; i < codes.m; i++) if (counts[i]! >= minFirings) live.push(i);
  const near = closeAtoms(unitAtoms, live, d, NESTING.minCosine, NESTING.maxCandidates);
  const pairs: { i: number; j: number; cos: number }[] = [];
  const need = new Map<number, Set<number>>();
  const want = (owner: number, l: number): void => { let s = need.get(owner); if (!s) need.set(owner, (s = new Set([owner]))); s.add(l); };
  for (const [i, list] of near) for (const { j, cos } of list) {
    if (cos >= DUPLICATES.cosine) continue;
    pairs.push({ i, j, cos });
    want(i, j); want(j, i);
  }
  const rowsOf = (l: number): Int32Array => {
    const lo = cols.colPtr[l]!, cnt = cols.colPtr[l + 1]! - lo;
    return Int32Array.from(spreadRows(cnt, NESTING.maxRows), (u) => cols.rows[lo + u]!);
  };
  // x̂_r − b = Σ_k ã_k d̂_k from the sparse codes, each row built once
  const recon = new Float32Array(need.size ? codes.n * d : 0), built = new Uint8Array(codes.n);
  const medianOf = new Map<number, number>(); // owner · m + l → median over the owner's rows of ⟨x̂, d̂_l⟩
  for (const [owner, set] of need) {
    const rows = rowsOf(owner), atoms = [...set];
    const block = new Float32Array(rows.length * d);
    rows.forEach((r, u) => {
      if (!built[r]) {
        built[r] = 1;
        for (let t = codes.rowPtr[r]!; t < codes.rowPtr[r + 1]!; t++) {
          const a = codes.val[t]!, o = codes.idx[t]! * d;
          for (let k = 0; k < d; k++) recon[r * d + k]! += a * unitAtoms[o + k]!;
        }
      }
      block.set(recon.subarray(r * d, (r + 1) * d), u * d);
    });
    const b = new Float32Array(atoms.length * d);
    atoms.forEach((l, t) => b.set(unitAtoms.subarray(l * d, (l + 1) * d), t * d));
    const c = fastMatmulBT(block, b, rows.length, d, atoms.length);
    const col = new Float32Array(rows.length);
    atoms.forEach((l, t) => {
      for (let u = 0; u < rows.length; u++) col[u] = c[u * atoms.length + t]!;
      medianOf.set(owner * codes.m + l, median(col));
    });
  }
  const fires = (r: number, l: number): number => { for (let t = codes.rowPtr[r]!; t < codes.rowPtr[r + 1]!; t++) if (codes.idx[t] === l) return 1; return 0; };
  const share = (owner: number, l: number): number => { const rows = rowsOf(owner); let k = 0; for (const r of rows) k += fires(r, l); return k / rows.length; };
  const med = (owner: number, l: number): number => medianOf.get(owner * codes.m + l)!;
  const out: NestingPair[] = [];
  for (const { i, j, cos } of pairs) {
    const oj = med(j, j), oi = med(i, i);
    if (!(oj > 0 && oi > 0)) continue;
    out.push({ parent: j, child: i, cosine: cos, forward: med(i, j) / oj, reverse: med(j, i) / oi, cofiring: share(i, j), reverseCofiring: share(j, i) });
  }
  return out;
}
