/**
 * Small dense linear-algebra helpers on row-major Float32Array matrices: dot products, row normalisation,
 * Gram and covariance matrices, Gram–Schmidt. Every large product goes through ./fastMatmul (the wasm SIMD
 * kernel when built, plain JS otherwise). Eigenpairs: src/diagnostics/linalg.ts symmetricEigen.
 */
import { fastMatmul as matmul, fastMatmulBT as matmulBT } from './fastMatmul';

export function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ai + j] * b[bi + j];
  return s;
}

/** Normalises each row of x [rows, d] to unit length in place; returns the original norms (0 rows stay 0). */
export function normalizeRows(x: Float32Array, rows: number, d: number): Float32Array {
  const norms = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += x[o + j] * x[o + j];
    const nrm = Math.sqrt(s);
    norms[r] = nrm;
    if (nrm > 0) for (let j = 0; j < d; j++) x[o + j] /= nrm;
  }
  return norms;
}

/** Gram matrix A·Aᵀ [rows, rows] of a row-major A [rows, d]. */
export function gram(a: Float32Array, rows: number, d: number): Float32Array {
  return matmulBT(a, a, rows, d, rows);
}

/** Column means of x [n, d]. */
export function columnMeans(x: Float32Array, n: number, d: number): Float64Array {
  const mu = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mu[j] += x[r * d + j];
  for (let j = 0; j < d; j++) mu[j] /= Math.max(n, 1);
  return mu;
}

/** Covariance [d, d] of the rows of x [n, d] (divides by n), through one GEMM on the centred rows. */
export function covariance(x: Float32Array, n: number, d: number, chunkRows = 4096): Float32Array {
  const mu = columnMeans(x, n, d);
  const cov = new Float32Array(d * d);
  const block = new Float32Array(Math.min(chunkRows, n) * d);
  const blockT = new Float32Array(Math.min(chunkRows, n) * d);
  for (let r0 = 0; r0 < n; r0 += chunkRows) {
    const rows = Math.min(chunkRows, n - r0);
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) {
      const v = x[(r0 + r) * d + j] - mu[j];
      block[r * d + j] = v;
      blockT[j * rows + r] = v;
    }
    matmul(blockT.subarray(0, d * rows), block.subarray(0, rows * d), d, rows, d, cov, true);
  }
  for (let i = 0; i < d * d; i++) cov[i] /= Math.max(n, 1);
  return cov;
}

/** Modified Gram–Schmidt on the rows of q [k, d], in place. */
export function orthonormalizeRows(q: Float32Array, k: number, d: number): void {
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) {
      const p = dot(q, i * d, q, j * d, d);
      for (let t = 0; t < d; t++) q[i * d + t] -= p * q[j * d + t];
    }
    let s = 0;
    for (let t = 0; t < d; t++) s += q[i * d + t] ** 2;
    const nrm = Math.sqrt(s);
    if (nrm > 1e-20) for (let t = 0; t < d; t++) q[i * d + t] /= nrm;
  }
}
