/**
 * Small dense linear algebra the diagnostics need and the GEMM engine does not provide: a symmetric
 * eigensolver for d×d covariances (Householder tridiagonalisation + implicit QL, the EISPACK tred2/tql2
 * pair as in JAMA, in Float64), Cholesky solves for support Gram matrices, the one-to-one assignment
 * (Hungarian) for matching features to atoms, a row-parallel product, and a few vector helpers.
 */
import { hungarianMax } from '../metrics/hungarian';
import { fastMatmulBT } from '../compute/fastMatmul';
import { parallelRows } from './pool';

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as rows [d, d], row k belongs to values[k]. */
  vectors: Float64Array;
}

/**
 * All eigenpairs of a symmetric d×d matrix (row-major; only symmetry is assumed, not checked).
 * O(d³): about a second for d = 768 in plain JS. Returns values descending with unit eigenvectors as rows.
 */
export function symmetricEigen(a: ArrayLike<number>, d: number): SymmetricEigen {
  // V holds the matrix and, on return, the eigenvectors as columns (JAMA layout).
  const V = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) V[i] = a[i]!;
  const e = new Float64Array(d);
  const w = new Float64Array(d);
  tred2(V, w, e, d);
  // tql2 rotates pairs of eigenvector columns; on the transpose those are contiguous rows (≈3× faster).
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) { const t = V[i * d + j]!; V[i * d + j] = V[j * d + i]!; V[j * d + i] = t; }
  tql2(V, w, e, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((p, q) => w[q]! - w[p]!);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, k) => {
    values[k] = w[src]!;
    vectors.set(V.subarray(src * d, (src + 1) * d), k * d);
  });
  return { values, vectors };
}

// Householder reduction to tridiagonal form (JAMA's tred2, from EISPACK).
function tred2(V: Float64Array, dg: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) dg[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(dg[k]!);
    if (scale === 0) {
      e[i] = dg[i - 1]!;
      for (let j = 0; j < i; j++) {
        dg[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        dg[k]! /= scale;
        h += dg[k]! * dg[k]!;
      }
      let f = dg[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      dg[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = dg[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * dg[k]!;
          e[k]! += V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * dg[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * dg[j]!;
      for (let j = 0; j < i; j++) {
        f = dg[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j]! -= f * e[k]! + g * dg[k]!;
        dg[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    dg[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = dg[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) dg[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j]! -= g * dg[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    dg[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

// Symmetric tridiagonal QL with implicit shifts (JAMA's tql2), on the transposed eigenvector matrix (rows).
function tql2(V: Float64Array, dg: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(dg[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      for (let iter = 0; iter < 100; iter++) {
        let g = dg[l]!;
        let p = (dg[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        dg[l] = e[l]! / (p + r);
        dg[l + 1] = e[l]! * (p + r);
        const dl1 = dg[l + 1]!;
        let h = g - dg[l]!;
        for (let i = l + 2; i < n; i++) dg[i]! -= h;
        f += h;
        p = dg[m]!;
        let c = 1, c2 = c, c3 = c;
        const el1 = e[l + 1]!;
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * dg[i]! - s * g;
          dg[i + 1] = h + s * (c * g + s * dg[i]!);
          const ri = i * n, ri1 = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            h = V[ri1 + k]!;
            V[ri1 + k] = s * V[ri + k]! + c * h;
            V[ri + k] = c * V[ri + k]! - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l]! / dl1;
        e[l] = s * p;
        dg[l] = c * p;
        if (!(Math.abs(e[l]!) > eps * tst1)) break;
      }
    }
    dg[l] = dg[l]! + f;
    e[l] = 0;
  }
}

/**
 * Solves G c = v in place of a copy for a symmetric positive (semi)definite k×k G by Cholesky, adding a
 * ridge of `ridge`·mean(diag) when G is numerically singular. Returns the solution and whether the ridge
 * was needed (so callers can count rank-deficient supports).
 */
export function choleskySolve(G: Float64Array, k: number, rhs: Float64Array[], ridge = 1e-8): { solutions: Float64Array[]; ridged: boolean } {
  let meanDiag = 0;
  for (let i = 0; i < k; i++) meanDiag += G[i * k + i]!;
  meanDiag = k ? meanDiag / k : 1;
  let L = cholesky(G, k, 0);
  let ridged = false;
  if (!L) { L = cholesky(G, k, ridge * (meanDiag || 1)); ridged = true; }
  if (!L) { L = cholesky(G, k, 1e-4 * (meanDiag || 1)); ridged = true; }
  const solutions = rhs.map((b) => {
    const y = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let s = b[i]!;
      for (let j = 0; j < i; j++) s -= L![i * k + j]! * y[j]!;
      y[i] = s / L![i * k + i]!;
    }
    for (let i = k - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let j = i + 1; j < k; j++) s -= L![j * k + i]! * y[j]!;
      y[i] = s / L![i * k + i]!;
    }
    return y;
  });
  return { solutions, ridged };
}

function cholesky(G: Float64Array, k: number, ridge: number): Float64Array | undefined {
  const L = new Float64Array(k * k);
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, G[i * k + i]!);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = G[i * k + j]! + (i === j ? ridge : 0);
      for (let p = 0; p < j; p++) s -= L[i * k + p]! * L[j * k + p]!;
      if (i === j) {
        if (!(s > 1e-10 * (maxDiag || 1))) return undefined;
        L[i * k + i] = Math.sqrt(s);
      } else {
        L[i * k + j] = s / L[j * k + j]!;
      }
    }
  }
  return L;
}

/**
 * One-to-one assignment maximising the total score: the Hungarian method of src/metrics/hungarian.ts (one
 * implementation), extended to rows > cols. score is [rows, cols] row-major; returns for each row the
 * assigned column, or −1 when rows > cols leaves it unmatched.
 */
export function maxAssignment(score: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (rows <= cols) return hungarianMax(Float64Array.from(score as ArrayLike<number>), rows, cols);
  const t = new Float64Array(cols * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = score[i * cols + j]!;
  const byCol = hungarianMax(t, cols, rows);
  const out = new Int32Array(rows).fill(-1);
  byCol.forEach((row, col) => { out[row] = col; });
  return out;
}

/** ⟨a[ia..ia+d), b[ib..ib+d)⟩. */
export function dotAt(a: ArrayLike<number>, ia: number, b: ArrayLike<number>, ib: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ia + j]! * b[ib + j]!;
  return s;
}

/** Normalises v in place; returns its former norm (0 leaves v untouched). */
export function normalizeInPlace(v: Float32Array | Float64Array): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j]! * v[j]!;
  const nrm = Math.sqrt(s);
  if (nrm > 0) for (let j = 0; j < v.length; j++) v[j]! /= nrm;
  return nrm;
}

/** Median of a numeric array (copied; NaN when empty). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
}

/** Linear-interpolated quantile q ∈ [0, 1] of the finite values (NaN when there are none). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(Array.prototype.filter.call(values, Number.isFinite) as number[]).sort();
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Deterministic PRNG (mulberry32) for subsampling rows reproducibly (one place: src/util/random.ts). */
export { seededRandom } from '../util/random';

/** min(k, n) row indices spread evenly over [0, n) (deterministic subsample). */
export function spreadRows(n: number, k: number): Int32Array {
  const take = Math.min(n, Math.max(0, k));
  const out = new Int32Array(take);
  for (let t = 0; t < take; t++) out[t] = Math.floor((t * n) / take);
  return out;
}

/** Row j of `rows` [m, d] (restricted to mask[j] when given) with the largest |⟨row_j, u⟩|, and that signed value. */
export function nearestRow(rows: ArrayLike<number>, m: number, d: number, u: ArrayLike<number>, mask?: ArrayLike<number>): { index: number; cosine: number } {
  let best = -1, bestVal = 0;
  for (let j = 0; j < m; j++) {
    if (mask && !(mask[j]! > 0)) continue;
    const v = dotAt(rows, j * d, u, 0, d);
    if (best < 0 || Math.abs(v) > Math.abs(bestVal)) { best = j; bestVal = v; }
  }
  return { index: best, cosine: best < 0 ? NaN : bestVal };
}

/**
 * C[m×n] = A[m×k] · B[n×k]ᵀ through fastMatmulBT, with the rows of A split across the diagnostics'
 * threads (./pool.ts) when the product is large. Every engine behind fastMatmulBT runs one thread per call
 * (the native BLAS addon sets OpenBLAS to one thread, src/compute/blasGemm.ts), so splitting always pays.
 * B is sent to each worker once per content (the unit atoms, typically); `bFrom` uses B's rows
 * [bFrom, bFrom + n) without a new copy. Same result as fastMatmulBT.
 */
export function parallelMatmulBT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, out?: Float32Array, bFrom = 0): Float32Array {
  const c = out ?? new Float32Array(m * n);
  const bRows = b.subarray(bFrom * k, (bFrom + n) * k);
  if (m * k * n < PARALLEL_MIN_WORK) return fastMatmulBT(a, bRows, m, k, n, c);
  const parts = parallelRows(m,
    (lo, hi) => { fastMatmulBT(a.subarray(lo * k, hi * k), bRows, hi - lo, k, n, c.subarray(lo * n, hi * n)); return undefined; },
    (lo, hi) => ({ kind: 'matmulBT', constants: { b }, args: { a: a.slice(lo * k, hi * k), m: hi - lo, k, n, bFrom } }),
    16);
  for (const p of parts) if (p.value) c.set(p.value as Float32Array, p.lo * n);
  return c;
}

/** Below this many multiply-adds a product stays on the calling thread (posting it costs more). */
const PARALLEL_MIN_WORK = 1 << 24;
