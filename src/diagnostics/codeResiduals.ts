/**
 * A set of codes with its residuals, in the sparse form every diagnostic reads: the CSR of the nonzero
 * effective codes ã (or exact codes a*) — ./encoderCodes.ts SparseCodes, which this extends — the residual
 * r = target − b − Σ ã_i d̂_i per row, and the on-support projections ⟨d̂_i, r_n⟩. Built once per code
 * source; dense products go through the GEMM entry points, row blocks split across the diagnostics' threads.
 */
import { parallelMatmulBT } from './linalg';
import { contentHash } from './pool';
import type { SparseCodes } from './encoderCodes';
import type { CodeKind } from './thresholds';

export interface CodeSet extends SparseCodes {
  source: 'sae' | 'exact';
  kind: CodeKind;
  d: number;
  /** ⟨d̂_idx, r_row⟩ for each nonzero. */
  onProj: Float32Array;
  residual: Float32Array;
  /** Firing counts per latent. */
  count: Int32Array;
  /** Cached by codeWeightedResidual: g_i = mean_n ã_{i,n} r_n [m, d] and m_i = mean ã_i. */
  weighted?: { g: Float64Array; mean: Float64Array };
}

/** g_i = mean_n ã_{i,n} r_n and m_i = mean_n ã_{i,n} (docs/theory.md §B4), computed once per code set. */
export function codeWeightedResidual(c: CodeSet): { g: Float64Array; mean: Float64Array } {
  if (c.weighted) return c.weighted;
  const { n, m, d, rowPtr, idx, val, residual } = c;
  const g = new Float64Array(m * d), mean = new Float64Array(m);
  for (let r = 0; r < n; r++) {
    const ro = r * d;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      const i = idx[k], a = val[k], go = i * d;
      mean[i] += a;
      for (let j = 0; j < d; j++) g[go + j] += a * residual[ro + j];
    }
  }
  for (let i = 0; i < m * d; i++) g[i] /= n;
  for (let i = 0; i < m; i++) mean[i] /= n;
  c.weighted = { g, mean };
  return c.weighted;
}

/** Fills onProj (unless given, e.g. by the encoder) and count for a code set whose CSR and residual are set. */
export function finishCodeSet(c: Omit<CodeSet, 'onProj' | 'count'> & { onProj?: Float32Array }, unitAtoms: Float32Array): CodeSet {
  const { n, m, d, rowPtr, idx, residual } = c;
  const given = c.onProj && c.onProj.length === idx.length ? c.onProj : undefined;
  const onProj = given ?? new Float32Array(idx.length);
  const count = new Int32Array(m);
  for (let k = 0; k < idx.length; k++) count[idx[k]]++;
  if (!given) for (let r = 0; r < n; r++) {
    const ro = r * d;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      const io = idx[k] * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += unitAtoms[io + j] * residual[ro + j];
      onProj[k] = s;
    }
  }
  return { ...c, onProj, count };
}

/**
 * A full pass (rows 0..n−1) keeps its n×m projections when they fit this many bytes, so that the next full
 * pass over the same residuals and atoms (KKT_off in B4, then the on/off-support statistics of C5) reads them
 * instead of repeating the n×d×m product. 1.25 GiB holds the 16384-row sample of a 16384-latent SAE.
 */
export const PROJECTION_CACHE_BYTES = 1.25 * 2 ** 30;
interface CachedProjections { atoms: Float32Array; residualHash: number; atomsHash: number; n: number; m: number; p: Float32Array }
/** Keyed by the residual array (dropped with it); checked against both arrays' contents on every hit. */
const projectionCache = new WeakMap<Float32Array, CachedProjections>();

/**
 * Calls visit(row, proj, offset) with proj[offset + i] = ⟨d̂_i, r_row⟩ for every latent, computing row blocks
 * through the GEMM (each block's rows split across the diagnostics' threads). The cost of the whole pass
 * is one n×d×m product; a full pass (rows given as a count) within PROJECTION_CACHE_BYTES is kept for the
 * next full pass over the same arrays.
 */
export function forEachProjectionRow(residual: Float32Array, unitAtoms: Float32Array, rows: ArrayLike<number> | number, m: number, d: number, visit: (row: number, proj: Float32Array, offset: number) => void, blockRows = 1024): void {
  if (typeof rows === 'number' && rows * m * 4 <= PROJECTION_CACHE_BYTES && rows > 0) {
    const residualHash = contentHash(residual.subarray(0, rows * d)), atomsHash = contentHash(unitAtoms.subarray(0, m * d));
    let hit = projectionCache.get(residual);
    if (!hit || hit.atoms !== unitAtoms || hit.n !== rows || hit.m !== m || hit.residualHash !== residualHash || hit.atomsHash !== atomsHash) {
      const p = new Float32Array(rows * m);
      for (let b0 = 0; b0 < rows; b0 += blockRows) {
        const br = Math.min(blockRows, rows - b0);
        parallelMatmulBT(residual.subarray(b0 * d, (b0 + br) * d), unitAtoms, br, d, m, p.subarray(b0 * m, (b0 + br) * m));
      }
      hit = { atoms: unitAtoms, residualHash, atomsHash, n: rows, m, p };
      projectionCache.set(residual, hit);
    }
    for (let r = 0; r < rows; r++) visit(r, hit.p, r * m);
    return;
  }
  const list = typeof rows === 'number' ? null : rows;
  const total = typeof rows === 'number' ? rows : rows.length;
  const block = new Float32Array(Math.min(blockRows, Math.max(total, 1)) * d);
  const out = new Float32Array(Math.min(blockRows, Math.max(total, 1)) * m);
  for (let b0 = 0; b0 < total; b0 += blockRows) {
    const br = Math.min(blockRows, total - b0);
    for (let t = 0; t < br; t++) {
      const row = list ? list[b0 + t] : b0 + t;
      block.set(residual.subarray(row * d, row * d + d), t * d);
    }
    parallelMatmulBT(block.subarray(0, br * d), unitAtoms, br, d, m, out.subarray(0, br * m));
    for (let t = 0; t < br; t++) visit(list ? list[b0 + t] : b0 + t, out, t * m);
  }
}

/** ℓ(c) per row = ½‖r‖² + λ Σ c (the reference objective of docs/theory.md §B, per datum). */
export function perRowObjective(c: CodeSet, lambdaE: number): Float64Array {
  const out = new Float64Array(c.n);
  for (let r = 0; r < c.n; r++) {
    let s = 0;
    for (let j = 0; j < c.d; j++) s += c.residual[r * c.d + j] ** 2;
    let l1 = 0;
    for (let k = c.rowPtr[r]; k < c.rowPtr[r + 1]; k++) l1 += c.val[k];
    out[r] = 0.5 * s + lambdaE * l1;
  }
  return out;
}
