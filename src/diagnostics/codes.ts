/**
 * A set of codes with its residuals, in the sparse form every diagnostic reads: the CSR of the nonzero
 * effective codes ã (or exact codes a*) — ./sparseCodes.ts SparseCodes, which this extends — the residual
 * r = target − b − Σ ã_i d̂_i per row, and the on-support projections ⟨d̂_i, r_n⟩. Built once per code
 * source; dense products go through the GEMM entry points, row blocks split across the diagnostics' threads.
 */
import { parallelMatmulBT } from './linalg';
import { sparseFromDense } from './sparseCodes';
import type { SparseCodes } from './sparseCodes';
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

/** g_i = mean_n ã_{i,n} r_n and m_i = mean_n ã_{i,n} (THEORY.md B4), computed once per code set. */
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

/** Sparse code set from dense effective codes [n, m] and residuals [n, d]. */
export function codeSetFromDense(source: CodeSet['source'], kind: CodeKind, eff: Float32Array, residual: Float32Array, unitAtoms: Float32Array, n: number, m: number, d: number): CodeSet {
  return finishCodeSet({ source, kind, d, residual, ...sparseFromDense(eff, n, m) }, unitAtoms);
}

/** Fills onProj and count for a code set whose CSR and residual are set. */
export function finishCodeSet(c: Omit<CodeSet, 'onProj' | 'count'>, unitAtoms: Float32Array): CodeSet {
  const { n, m, d, rowPtr, idx, residual } = c;
  const onProj = new Float32Array(idx.length);
  const count = new Int32Array(m);
  for (let r = 0; r < n; r++) {
    const ro = r * d;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      const io = idx[k] * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += unitAtoms[io + j] * residual[ro + j];
      onProj[k] = s;
      count[idx[k]]++;
    }
  }
  return { ...c, onProj, count };
}

/**
 * Calls visit(row, proj) with proj[i] = ⟨d̂_i, r_row⟩ for every latent, computing row blocks through the
 * GEMM (one buffer reused; each block's rows split across the diagnostics' threads). The cost of the whole
 * pass is one n×d×m product.
 */
export function forEachProjectionRow(residual: Float32Array, unitAtoms: Float32Array, rows: ArrayLike<number> | number, m: number, d: number, visit: (row: number, proj: Float32Array, offset: number) => void, blockRows = 1024): void {
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

/** ℓ(c) per row = ½‖r‖² + λ Σ c (the reference objective of THEORY.md §3, per datum). */
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

export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Array.from(values).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}
