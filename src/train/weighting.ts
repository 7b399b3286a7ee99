/**
 * Per-dimension reconstruction weights Γ for the weighted SAE (WSAE, docs/theory.md §A7, after Cui et al.):
 * L = E‖Γ(x − x̂)‖². The selection principle is W_pᵀΓ²W_p ≈ I: weight ≈ 1 on monosemantic input
 * dimensions, smaller on polysemantic ones.
 */
import { InputError } from '../errors';
import { readGroundTruth } from '../synthetic';
import type { WeightingMode } from './options';

/**
 * `variance` mode: γ_i = Var(x_i)^α, rescaled so that mean γ² = 1. The sign of α is a choice, not a
 * given: for independent features Var(x_i) = Σ_j W_ij² Var(s_j) grows with polysemanticity, so α > 0
 * up-weights exactly the dimensions the principle says to down-weight (docs/theory.md §A7 caution).
 */
export function varianceWeights(x: Float32Array, n: number, d: number, alpha: number): Float32Array {
  if (n < 2) throw new InputError('activations', `variance weights need at least 2 rows, got ${n}`);
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j]! += x[r * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) sq[j]! += (x[r * d + j]! - mean[j]!) ** 2;
  const gamma = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const v = sq[j]! / (n - 1);
    gamma[j] = v > 0 ? v ** alpha : 0;
  }
  return normaliseMeanSquare(gamma);
}

/**
 * `oracle` mode (synthetic data with known mixing W_p [d, nFeatures]): g = γ² = argmin_{g ≥ 0}
 * ‖Σ_i g_i w⁽ⁱ⁾w⁽ⁱ⁾ᵀ − I‖_F², w⁽ⁱ⁾ = row i of W_p. A d-variable NNLS with Gram H_ij = (w⁽ⁱ⁾·w⁽ʲ⁾)² and
 * right-hand side ‖w⁽ⁱ⁾‖², solved by cyclic coordinate descent (exact per coordinate, convergent for
 * this convex QP). Not rescaled: the oracle's scale is meaningful.
 */
export function oracleWeights(wp: Float32Array, d: number, nFeatures: number, maxSweeps = 10_000, tol = 1e-12): Float32Array {
  const h = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let dot = 0;
      for (let f = 0; f < nFeatures; f++) dot += wp[i * nFeatures + f]! * wp[j * nFeatures + f]!;
      h[i * d + j] = h[j * d + i] = dot * dot;
    }
    let s = 0;
    for (let f = 0; f < nFeatures; f++) s += wp[i * nFeatures + f]! ** 2;
    rhs[i] = s;
  }
  const g = solveNnls(h, rhs, d, maxSweeps, tol);
  return Float32Array.from(g, (v) => Math.sqrt(v));
}

/** min_{g≥0} ½gᵀHg − rhsᵀg for symmetric PSD H, by cyclic coordinate descent. */
export function solveNnls(h: Float64Array, rhs: Float64Array, d: number, maxSweeps = 10_000, tol = 1e-12): Float64Array {
  const g = new Float64Array(d);
  const grad = Float64Array.from(rhs, (v) => -v); // Hg − rhs at g = 0
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let maxStep = 0;
    for (let i = 0; i < d; i++) {
      const hii = h[i * d + i]!;
      if (hii <= 0) continue;
      const next = Math.max(0, g[i]! - grad[i]! / hii);
      const step = next - g[i]!;
      if (step === 0) continue;
      g[i] = next;
      for (let j = 0; j < d; j++) grad[j]! += step * h[j * d + i]!;
      maxStep = Math.max(maxStep, Math.abs(step));
    }
    if (maxStep <= tol) break;
  }
  return g;
}

function normaliseMeanSquare(gamma: Float32Array): Float32Array {
  let ms = 0;
  for (const v of gamma) ms += v * v;
  ms /= gamma.length;
  if (!(ms > 0)) return gamma.fill(1);
  const s = 1 / Math.sqrt(ms);
  for (let i = 0; i < gamma.length; i++) gamma[i]! *= s;
  return gamma;
}

/** Γ for a run: from the (scaled) sample rows for `variance`, from the ground truth's W_p for `oracle`. */
export function computeReconWeights(o: { weighting: WeightingMode; weightAlpha: number; groundTruth?: string }, sample: Float32Array, rows: number, dIn: number): Float32Array {
  if (o.weighting === 'variance') return varianceWeights(sample, rows, dIn, o.weightAlpha);
  if (o.weighting === 'oracle') {
    const gt = readGroundTruth(o.groundTruth!);
    if (gt.d !== dIn) throw new InputError(o.groundTruth!, `the ground truth's features have d = ${gt.d}, the activations d_in = ${dIn}`);
    // W_p [d, F]: column f is feature f's direction (gt.features holds them as rows [F, d])
    const wp = new Float32Array(dIn * gt.nFeatures);
    for (let f = 0; f < gt.nFeatures; f++) for (let q = 0; q < dIn; q++) wp[q * gt.nFeatures + f] = gt.features[f * dIn + q]!;
    const gamma = oracleWeights(wp, dIn, gt.nFeatures);
    let ms = 0;
    for (const g of gamma) ms += g * g;
    ms /= dIn;
    if (!(ms > 0)) throw new InputError(o.groundTruth!, 'the oracle weights are all zero (the mixing matrix has no usable rows)');
    // rescaled to mean γ² = 1 like the variance weights: Γ's overall scale only trades off against the
    // sparsity coefficient, and --l1 should mean the same thing whichever Γ a run uses
    const s = 1 / Math.sqrt(ms);
    for (let q = 0; q < dIn; q++) gamma[q]! *= s;
    return gamma;
  }
  return new Float32Array(dIn).fill(1);
}
