/**
 * Pairs of live atoms by decoder cosine, found in one blocked pass over D̂_live·D̂_liveᵀ (through the GEMM):
 * the near pairs (cos > THRESHOLDS.identityMinCos) for the identity residual of B3, and the antipodal pairs
 * (cos ≤ THRESHOLDS.antipodalCos) for C2. The full m×m matrix is never held.
 */
import { parallelMatmulBT } from './linalg';
import { THRESHOLDS } from './thresholds';

export interface AtomPairs {
  /** Near pairs i < j with cos_ij > identityMinCos (highest first when truncated). */
  near: { i: Int32Array; j: Int32Array; cos: Float32Array };
  nearTruncated: boolean;
  antipodal: { i: number; j: number; cos: number }[];
}

export function atomPairs(unitAtoms: Float32Array, live: Uint8Array, m: number, d: number, blockRows = 1024): AtomPairs {
  const ids: number[] = [];
  for (let i = 0; i < m; i++) if (live[i]) ids.push(i);
  const l = ids.length;
  const liveAtoms = new Float32Array(l * d);
  ids.forEach((id, k) => liveAtoms.set(unitAtoms.subarray(id * d, id * d + d), k * d));
  let ni: number[] = [], nj: number[] = [], nc: number[] = [];
  let truncated = false;
  const antipodal: AtomPairs['antipodal'] = [];
  const out = new Float32Array(Math.min(blockRows, Math.max(l, 1)) * l);
  for (let b0 = 0; b0 < l; b0 += blockRows) {
    const br = Math.min(blockRows, l - b0);
    // only columns b ≥ b0 are read (pairs a < b): the block's product starts at column b0
    const w = l - b0;
    parallelMatmulBT(liveAtoms.subarray(b0 * d, (b0 + br) * d), liveAtoms, br, d, w, out.subarray(0, br * w), b0);
    for (let t = 0; t < br; t++) {
      const a = b0 + t;
      for (let b = a + 1; b < l; b++) {
        const c = out[t * w + b - b0];
        if (c > THRESHOLDS.identityMinCos) { ni.push(ids[a]); nj.push(ids[b]); nc.push(c); }
        else if (c <= THRESHOLDS.antipodalCos) antipodal.push({ i: ids[a], j: ids[b], cos: c });
      }
    }
    if (nc.length > 2 * THRESHOLDS.maxIdentityPairs) {
      // keep the closest pairs
      truncated = true;
      const order = nc.map((_, k) => k).sort((x, y) => nc[y] - nc[x]).slice(0, THRESHOLDS.maxIdentityPairs);
      ni = order.map((k) => ni[k]); nj = order.map((k) => nj[k]); nc = order.map((k) => nc[k]);
    }
  }
  if (nc.length > THRESHOLDS.maxIdentityPairs) {
    truncated = true;
    const order = nc.map((_, k) => k).sort((x, y) => nc[y] - nc[x]).slice(0, THRESHOLDS.maxIdentityPairs);
    ni = order.map((k) => ni[k]); nj = order.map((k) => nj[k]); nc = order.map((k) => nc[k]);
  }
  antipodal.sort((p, q) => p.cos - q.cos);
  return { near: { i: Int32Array.from(ni), j: Int32Array.from(nj), cos: Float32Array.from(nc) }, nearTruncated: truncated, antipodal };
}
