/**
 * The exact wide-dictionary limit (docs/theory.md §D1). For unit atoms and a ≥ 0, ‖Da‖ ≤ ‖a‖₁, so every
 * dictionary has per-sample loss ℓ(x) ≥ φ(‖x − b‖), φ(s) = s²/2 (s ≤ λ_e), λ_e s − λ_e²/2 (s > λ_e), with
 * equality iff an atom lies on the ray of x − b. F_∞ = mean φ(‖x − b‖); the width gap WG = (F(D) − F_∞)/F_∞
 * says how much a wider dictionary could still gain; per-sample gaps name the rows that "want their own atom".
 */
import type { CodeSet } from './codeResiduals';
import { perRowObjective } from './codeResiduals';
import { quantile } from './linalg';

export function phi(s: number, lambdaE: number): number {
  return s <= lambdaE ? 0.5 * s * s : lambdaE * s - 0.5 * lambdaE * lambdaE;
}

export interface WideLimitReport {
  rows: number;
  fInfinity: number;
  /** F(D) with exact codes a* (the reference objective), and with the SAE's own codes. */
  fExact: number;
  fSae: number;
  widthGap: number;
  widthGapSae: number;
  /** F_∞ at the best offset b (F_∞(b) is convex), and that offset's distance from b_dec. */
  fInfinityBestB: number;
  bestBShift: number;
  perSampleGap: { median: number; p90: number; max: number; worstRows: number[] };
  /** Smallest per-sample gap ℓ_n(a*) − φ_n (≥ 0 up to solver tolerance; acceptance test 5). */
  minSampleGap: number;
  reason: Record<string, string>;
}

/** Per-row lower bound φ(‖x_n − b‖). */
export function wideLimitBound(targets: Float32Array, n: number, d: number, lambdaE: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += targets[r * d + j] ** 2;
    out[r] = phi(Math.sqrt(s), lambdaE);
  }
  return out;
}

/** F_∞(b) minimised over b by gradient descent (convex; ∇ = −mean φ′(‖x−b‖)(x−b)/‖x−b‖). */
function bestOffset(x: Float32Array, n: number, d: number, b0: Float32Array, lambdaE: number, iters = 100): { value: number; shift: number } {
  const b = Float64Array.from(b0);
  const grad = new Float64Array(d);
  const value = (): number => {
    let f = 0;
    for (let r = 0; r < n; r++) { let s = 0; for (let j = 0; j < d; j++) s += (x[r * d + j] - b[j]) ** 2; f += phi(Math.sqrt(s), lambdaE); }
    return f / n;
  };
  let f = value(), step = 1;
  for (let it = 0; it < iters; it++) {
    grad.fill(0);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[r * d + j] - b[j]) ** 2;
      const nr = Math.sqrt(s);
      const w = nr <= lambdaE ? 1 : lambdaE / nr; // φ′(s)/s
      for (let j = 0; j < d; j++) grad[j] -= (w * (x[r * d + j] - b[j])) / n;
    }
    const old = Float64Array.from(b);
    for (;;) {
      for (let j = 0; j < d; j++) b[j] = old[j] - step * grad[j];
      const fn = value();
      if (fn <= f) { f = fn; step *= 1.5; break; }
      step /= 2;
      if (step < 1e-12) { b.set(old); break; }
    }
  }
  let shift = 0;
  for (let j = 0; j < d; j++) shift += (b[j] - b0[j]) ** 2;
  return { value: f, shift: Math.sqrt(shift) };
}

export function wideLimit(exact: CodeSet, sae: CodeSet | undefined, x: Float32Array, targets: Float32Array, bDec: Float32Array, lambdaE: number): WideLimitReport {
  const { n, d } = exact;
  const reason: Record<string, string> = {};
  const bound = wideLimitBound(targets, n, d, lambdaE);
  const lE = perRowObjective(exact, lambdaE);
  let fInf = 0, fE = 0;
  const gaps = new Float64Array(n);
  let minGap = Infinity;
  for (let r = 0; r < n; r++) { fInf += bound[r]; fE += lE[r]; gaps[r] = lE[r] - bound[r]; minGap = Math.min(minGap, gaps[r]); }
  fInf /= n; fE /= n;
  let fS = NaN;
  if (sae) { const lS = perRowObjective(sae, lambdaE); fS = 0; for (let r = 0; r < n; r++) fS += lS[r]; fS /= n; }
  else reason.fSae = 'SAE codes not given';
  const order = Array.from(gaps.keys()).sort((a, b) => gaps[b] - gaps[a]).slice(0, 10);
  const best = bestOffset(x, n, d, bDec, lambdaE);
  if (!(fInf > 0)) reason.widthGap = 'F_∞ is 0: every row equals b_dec';
  return {
    rows: n, fInfinity: fInf, fExact: fE, fSae: fS, widthGap: fInf > 0 ? (fE - fInf) / fInf : NaN, widthGapSae: fInf > 0 ? (fS - fInf) / fInf : NaN,
    fInfinityBestB: best.value, bestBShift: best.shift,
    perSampleGap: { median: quantile(gaps, 0.5), p90: quantile(gaps, 0.9), max: gaps.length ? gaps[order[0]] : NaN, worstRows: order },
    minSampleGap: minGap, reason,
  };
}
