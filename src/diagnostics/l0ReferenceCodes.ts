/**
 * Reference codes for L0-type SAEs (docs/theory.md §B5: "OMP with k atoms for TopK, IHT with per-atom thresholds
 * for JumpReLU"): the best codes for the SAE's own dictionary under its own sparsity mechanism, against
 * which the encoder's codes are compared (the amortisation gap). L1 SAEs use the exact lasso codes of
 * lassoCodes.ts instead.
 *
 * - TopK / BatchTopK: nonnegative orthogonal matching pursuit with k atoms. Each step adds the atom with
 *   the largest positive ⟨d̂_i, r⟩ and refits the codes on the support by nonnegative least squares.
 *   Objective ½‖t − D̂ᵀa‖² at ‖a‖₀ ≤ k.
 * - JumpReLU: iterative hard thresholding with per-atom thresholds τ_i = ‖d_i‖θ_i, warm-started at the
 *   encoder's codes, on ½‖t − D̂ᵀa‖² + Σ_i ½τ_i²·1[a_i > 0] over the JumpReLU code set a_i ∈ {0} ∪ [τ_i, ∞).
 *   The penalty ½τ_i² is the one whose optimal off-support rule is B1's ⟨d̂_i, r⟩ ≤ τ_i (adding atom i
 *   at its best value gains ½⟨d̂_i, r⟩²). Proximal steps of size 1/‖D̂‖₂² never increase the objective,
 *   so the result is never worse than the encoder's codes.
 *
 * Rows are processed in blocks; every dense product goes through fastMatmul / fastMatmulBT.
 */
import { fastMatmul, fastMatmulBT } from '../compute/fastMatmul';
import { choleskySolve, symmetricEigen } from './linalg';
import type { CodeSet } from './codeResiduals';
import { THRESHOLDS } from './thresholds';

/** Which reference an amortisation report used. */
export type ReferenceKind = 'lasso' | 'omp' | 'iht';

export const REFERENCE_DESCRIPTION: Record<ReferenceKind, string> = {
  lasso: 'exact nonnegative lasso codes a* on (D̂, b_dec, λ_e) (docs/theory.md §B5)',
  omp: 'nonnegative OMP with k atoms on (D̂, b_dec): the best k-sparse codes found greedily (docs/theory.md §B5, TopK)',
  iht: 'IHT with per-atom thresholds τ_i = ‖d_i‖θ_i on ½‖r‖² + Σ ½τ_i²·1[a_i > 0] (docs/theory.md §B5, JumpReLU)',
};

export interface ReferenceCodes {
  rowPtr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
  /** r = t − D̂ᵀa [n, d]. */
  residual: Float32Array;
  /** OMP: atoms added per row at most (k); IHT: iterations run. */
  iterations: number;
  /** IHT: rows whose support still changed in the last iteration (0 for OMP). */
  unconvergedRows: number;
}

const BLOCK = 256;

/** Nonnegative OMP with at most k atoms per row. `targets` [n, d] are x − b_dec. */
export function ompCodes(targets: Float32Array, unitAtoms: Float32Array, n: number, m: number, d: number, k: number): ReferenceCodes {
  if (!(k >= 1)) throw new Error(`ompCodes: k must be ≥ 1 (got ${k})`);
  const supports: number[][] = [], values: Float64Array[] = [];
  const residual = Float32Array.from(targets.subarray(0, n * d));
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const br = Math.min(BLOCK, n - b0);
    const sel: number[][] = Array.from({ length: br }, () => []);
    const coef: Float64Array[] = Array.from({ length: br }, () => new Float64Array(0));
    const gram: Float64Array[] = Array.from({ length: br }, () => new Float64Array(k * k));
    const done = new Uint8Array(br);
    for (let step = 0; step < Math.min(k, m); step++) {
      const proj = fastMatmulBT(residual.subarray(b0 * d, (b0 + br) * d), unitAtoms, br, d, m);
      for (let t = 0; t < br; t++) {
        if (done[t]) continue;
        const s = sel[t]!;
        let best = -1, bestVal = 1e-12;
        for (let i = 0; i < m; i++) { const p = proj[t * m + i]!; if (p > bestVal && !s.includes(i)) { bestVal = p; best = i; } }
        if (best < 0) { done[t] = 1; continue; }
        // extend the support's Gram matrix by the new atom's column
        const q = s.length, G = gram[t]!;
        for (let u = 0; u < q; u++) {
          let v = 0;
          for (let j = 0; j < d; j++) v += unitAtoms[best * d + j]! * unitAtoms[s[u]! * d + j]!;
          G[q * k + u] = v; G[u * k + q] = v;
        }
        let dd = 0;
        for (let j = 0; j < d; j++) dd += unitAtoms[best * d + j]! ** 2;
        G[q * k + q] = dd;
        s.push(best);
        const row = b0 + t;
        const c = new Float64Array(s.length);
        s.forEach((lat, u) => { let v = 0; for (let j = 0; j < d; j++) v += unitAtoms[lat * d + j]! * targets[row * d + j]!; c[u] = v; });
        const a = new Float64Array(s.length);
        a.set(coef[t]!);
        nnls(G, k, c, a);
        coef[t] = a;
        for (let j = 0; j < d; j++) {
          let v = targets[row * d + j]!;
          s.forEach((lat, u) => { v -= a[u]! * unitAtoms[lat * d + j]!; });
          residual[row * d + j] = v;
        }
      }
    }
    for (let t = 0; t < br; t++) { supports.push(sel[t]!); values.push(coef[t]!); }
  }
  return { ...toCsr(supports, values, n), residual, iterations: Math.min(k, m), unconvergedRows: 0 };
}

/**
 * Nonnegative least squares on a support (Gram G with leading dimension ld, right-hand side c = D_Sᵀt) by
 * coordinate descent from `a`, then an exact refit on the positive coordinates when it stays positive.
 */
function nnls(G: Float64Array, ld: number, c: Float64Array, a: Float64Array): void {
  const s = c.length;
  for (let sweep = 0; sweep < 500; sweep++) {
    let change = 0;
    for (let p = 0; p < s; p++) {
      const gpp = G[p * ld + p]!;
      if (!(gpp > 0)) { a[p] = 0; continue; }
      let grad = -c[p]!;
      for (let q = 0; q < s; q++) grad += G[p * ld + q]! * a[q]!;
      const next = Math.max(0, a[p]! - grad / gpp);
      change = Math.max(change, Math.abs(next - a[p]!));
      a[p] = next;
    }
    if (change < 1e-10) break;
  }
  const pos: number[] = [];
  for (let p = 0; p < s; p++) if (a[p]! > 0) pos.push(p);
  if (pos.length === 0) return;
  const Gs = new Float64Array(pos.length * pos.length), cs = new Float64Array(pos.length);
  pos.forEach((p, u) => { cs[u] = c[p]!; pos.forEach((q, v) => { Gs[u * pos.length + v] = G[p * ld + q]!; }); });
  const { solutions: [z], ridged } = choleskySolve(Gs, pos.length, [cs]);
  if (!ridged && z!.every((v) => v > 0)) pos.forEach((p, u) => { a[p] = z![u]!; });
}

/**
 * IHT with per-atom thresholds τ (JumpReLU), warm-started at `warm` (codes in the JumpReLU set). Stops when
 * no row's support changes and the objective changes by less than tol relatively, or after maxIter.
 */
export function ihtCodes(targets: Float32Array, unitAtoms: Float32Array, n: number, m: number, d: number, tau: Float32Array,
  warm?: { rowPtr: Int32Array; idx: Int32Array; val: Float32Array }, opts: { maxIter?: number; tol?: number } = {}): ReferenceCodes {
  const maxIter = opts.maxIter ?? THRESHOLDS.ihtMaxIter, tol = opts.tol ?? 1e-7;
  for (let i = 0; i < m; i++) if (!(tau[i]! >= 0)) throw new Error(`ihtCodes: threshold ${i} is ${tau[i]} (need ≥ 0)`);
  const mu = 1 / (spectralNormSq(unitAtoms, m, d) * 1.001 + 1e-12);
  const supports: number[][] = [], values: Float64Array[] = [];
  const residual = new Float32Array(n * d);
  let iterations = 0, unconverged = 0;
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const br = Math.min(BLOCK, n - b0);
    const A = new Float32Array(br * m);
    if (warm) for (let t = 0; t < br; t++) for (let q = warm.rowPtr[b0 + t]!; q < warm.rowPtr[b0 + t + 1]!; q++) A[t * m + warm.idx[q]!] = warm.val[q]!;
    const T = targets.subarray(b0 * d, (b0 + br) * d);
    const R = new Float32Array(br * d);
    const rowChanged = new Uint8Array(br);
    const objective = (): number => {
      let o = 0;
      for (let i = 0; i < br * d; i++) o += 0.5 * R[i]! ** 2;
      for (let t = 0; t < br; t++) for (let i = 0; i < m; i++) if (A[t * m + i]! > 0) o += 0.5 * tau[i]! ** 2;
      return o;
    };
    const updateResidual = (): void => {
      fastMatmul(A, unitAtoms, br, m, d, R);
      for (let i = 0; i < br * d; i++) R[i] = T[i]! - R[i]!;
    };
    updateResidual();
    let prev = objective(), it = 0;
    for (; it < maxIter; it++) {
      const P = fastMatmulBT(R, unitAtoms, br, d, m);
      rowChanged.fill(0);
      for (let t = 0; t < br; t++) for (let i = 0; i < m; i++) {
        const o = t * m + i, v = A[o]! + mu * P[o]!, th = tau[i]!;
        // prox of μ·½τ²·1[a > 0] over {0} ∪ [τ, ∞): keep v ≥ τ; raise to τ when that beats 0; else 0
        const next = v >= th ? v : v > 0.5 * th * (1 + mu) ? th : 0;
        if ((next > 0) !== (A[o]! > 0)) rowChanged[t] = 1;
        A[o] = next;
      }
      updateResidual();
      const obj = objective();
      const stable = !rowChanged.some((x) => x === 1);
      if (stable && Math.abs(prev - obj) <= tol * Math.max(Math.abs(obj), 1e-30)) { prev = obj; it++; break; }
      prev = obj;
    }
    iterations = Math.max(iterations, it);
    if (it >= maxIter) unconverged += rowChanged.reduce((s, x) => s + x, 0);
    for (let t = 0; t < br; t++) {
      const s: number[] = [], v: number[] = [];
      for (let i = 0; i < m; i++) if (A[t * m + i]! > 0) { s.push(i); v.push(A[t * m + i]!); }
      supports.push(s); values.push(Float64Array.from(v));
    }
    residual.set(R, b0 * d);
  }
  return { ...toCsr(supports, values, n), residual, iterations, unconvergedRows: unconverged };
}

/** ‖D̂‖₂² = largest eigenvalue of D̂ᵀD̂ (d × d). */
function spectralNormSq(unitAtoms: Float32Array, m: number, d: number): number {
  const atomsT = new Float32Array(d * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) atomsT[j * m + i] = unitAtoms[i * d + j]!;
  const C = fastMatmul(atomsT, unitAtoms, d, m, d);
  return symmetricEigen(C, d).values[0]!;
}

function toCsr(supports: number[][], values: Float64Array[], n: number): { rowPtr: Int32Array; idx: Int32Array; val: Float32Array } {
  let nnz = 0;
  for (let r = 0; r < n; r++) for (const v of values[r]!) if (v > 0) nnz++;
  const rowPtr = new Int32Array(n + 1), idx = new Int32Array(nnz), val = new Float32Array(nnz);
  let q = 0;
  for (let r = 0; r < n; r++) {
    rowPtr[r] = q;
    const order = supports[r]!.map((_, u) => u).filter((u) => values[r]![u]! > 0).sort((x, y) => supports[r]![x]! - supports[r]![y]!);
    for (const u of order) { idx[q] = supports[r]![u]!; val[q] = values[r]![u]!; q++; }
  }
  rowPtr[n] = q;
  return { rowPtr, idx, val };
}

/**
 * Per-row objective of L0-type codes: ½‖r‖² for OMP/TopK (the L0 budget is a constraint), plus Σ ½τ_i²
 * over the support for IHT/JumpReLU.
 */
export function l0Objective(c: CodeSet, tau?: Float32Array): Float64Array {
  const out = new Float64Array(c.n);
  for (let r = 0; r < c.n; r++) {
    let s = 0;
    for (let j = 0; j < c.d; j++) s += c.residual[r * c.d + j]! ** 2;
    let pen = 0;
    if (tau) for (let q = c.rowPtr[r]!; q < c.rowPtr[r + 1]!; q++) pen += 0.5 * tau[c.idx[q]!]! ** 2;
    out[r] = 0.5 * s + pen;
  }
  return out;
}
