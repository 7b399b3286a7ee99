/**
 * D2 — finite-width convex reference (docs/theory.md §D D2; a proposal of this project, not Dorrell's
 * construction). Fix a large candidate set C (the trained atoms, spherical k-means centroids of the data
 * directions, data directions themselves) and solve the convex problem
 *   min_{A ≥ 0} (1/2N)‖X̃ − CA‖² + (λ_e/N) ΣA + (γ/√N) Σ_k ‖A_k,:‖
 * by FISTA. γ = 0 is the per-datum nonnegative lasso (its KKT conditions are a certificate); sweeping γ
 * selects fewer atoms and traces the objective against the atom count. The SAE's own point (live atoms,
 * F(D) with exact codes) is compared with that frontier.
 *
 * Everything is kept transposed (A as [N, K], data rows by candidates) so the dominant product A·G skips
 * the zeros of the sparse codes: an iteration costs nnz(A)·K instead of N·K².
 */
import { fastMatmul as matmul, fastMatmulBT as matmulBT } from '../compute/fastMatmul';
import type { DiagnosticContext } from './context';
import { seededRandom, spreadRows } from './linalg';
import { CONVEX_REFERENCE } from './thresholds';

export interface ConvexReferenceOptions {
  /** Data rows N (evenly spread over the sample; default 256). */
  rows?: number;
  /** Spherical k-means centroids (default min(4·live atoms, 256)). */
  kmeans?: number;
  /** Normalised data points added as candidates (default 64). */
  dataAtoms?: number;
  /** Cap on the candidate count K (default 512). */
  maxCandidates?: number;
  /** γ values; default: 0 and γ_max × {0.9, 0.75, 0.6, 0.45, 0.3, 0.15, 0.07, 0.03}, then up to 6 bisection steps toward the SAE's live width. */
  gammas?: number[];
  maxIterations?: number;
  seed?: number;
}

export interface SweepPoint {
  gamma: number;
  /** Candidates with a nonzero row of A. */
  atoms: number;
  /** ℓ(A) = (1/N)Σ[½‖x̃ − Ca‖² + λ_e Σa] (without the group term). */
  objective: number;
  /** ℓ after re-solving with γ = 0 on the selected atoms only (the best this atom set does). */
  refitObjective: number;
  iterations: number;
  converged: boolean;
}

export interface ConvexReferenceReport {
  lambdaE: number;
  rows: number;
  candidates: { total: number; trained: number; kmeans: number; data: number };
  sweep: SweepPoint[];
  /** Lower envelope of (atoms, refitObjective) over the sweep: non-increasing in atoms. */
  frontier: { atoms: number; objective: number; gamma: number }[];
  sae: {
    liveAtoms: number;
    /** F(D) = ℓ with exact nonnegative codes on the SAE's unit atoms. */
    objective: number;
    /** ℓ with the SAE's own codes (≥ F(D); the difference is the amortisation gap). */
    codesObjective: number;
    /** Best frontier objective with at most liveAtoms atoms, and (F(D) − that)/that. */
    frontierAtWidth: number;
    gapToFrontier: number;
  };
  /** D1's F_∞ = mean φ(‖x̃‖) on the same rows: no dictionary can go below it. */
  wideLimit: number;
  /** γ = 0 over all candidates: max_{k,n} (⟨c_k, r_n⟩ − λ_e)/λ_e (≤ 0 certifies optimality), and on-support RMS of (⟨c_k, r_n⟩ − λ_e)/λ_e. */
  certificate: { maxViolation: number; onSupportRms: number; holds: boolean; iterations: number };
  /** γ = 0 solution, for inspection: candidates [K, d] and codes [N, K]. */
  solution: { candidates: Float32Array; codes: Float32Array; rowIndex: Int32Array };
  reason?: string;
}

interface Problem {
  N: number;
  K: number;
  G: Float32Array; // [K, K] = C Cᵀ (candidates as rows)
  Bt: Float32Array; // [N, K] = X̃ Cᵀ
  xx: Float64Array; // ‖x̃_n‖²
  lipschitz: number; // ‖G‖₂ / N
  lambda: number;
}

interface Solution { At: Float32Array; iterations: number; converged: boolean; objective: number }

/** D2 over the shared context. */
export function convexReferenceSection(ctx: DiagnosticContext, opts: ConvexReferenceOptions = {}): ConvexReferenceReport {
  const m = ctx.sae.cfg.dSae, d = ctx.sae.cfg.dOut;
  const lam = ctx.lambdaE;
  const rowIndex = spreadRows(ctx.n, opts.rows ?? 256);
  const N = rowIndex.length;
  const X = new Float32Array(N * d);
  rowIndex.forEach((row, t) => { for (let j = 0; j < d; j++) X[t * d + j] = ctx.y[row * d + j]! - ctx.sae.bDec[j]!; });
  const live: number[] = [];
  for (let i = 0; i < m; i++) if (ctx.firing[i]! > 0 && ctx.atomNorms[i]! > 0) live.push(i);
  const empty = (reason: string): ConvexReferenceReport => ({
    lambdaE: lam, rows: N, candidates: { total: 0, trained: 0, kmeans: 0, data: 0 }, sweep: [], frontier: [],
    sae: { liveAtoms: live.length, objective: NaN, codesObjective: NaN, frontierAtWidth: NaN, gapToFrontier: NaN },
    wideLimit: NaN, certificate: { maxViolation: NaN, onSupportRms: NaN, holds: false, iterations: 0 },
    solution: { candidates: new Float32Array(0), codes: new Float32Array(0), rowIndex }, reason,
  });
  if (!(lam > 0)) return empty(`λ_e is ${lam} (not positive): the reference problem is undefined`);
  if (N < 2) return empty(`the convex reference needs at least 2 rows (got ${N})`);
  if (live.length === 0) return empty('every latent is dead on this sample: no trained atoms to compare');

  // Candidates: trained atoms, k-means centroids of the data directions, data directions.
  const rnd = seededRandom(opts.seed ?? 1);
  const dirs = unitDirections(X, N, d);
  const maxK = opts.maxCandidates ?? 512;
  const nTrained = Math.min(live.length, maxK);
  const nKm = Math.max(0, Math.min(opts.kmeans ?? Math.min(4 * live.length, 256), maxK - nTrained, dirs.count));
  const nData = Math.max(0, Math.min(opts.dataAtoms ?? 64, maxK - nTrained - nKm, dirs.count));
  const K = nTrained + nKm + nData;
  const C = new Float32Array(K * d);
  for (let k = 0; k < nTrained; k++) C.set(ctx.unitAtoms.subarray(live[k]! * d, (live[k]! + 1) * d), k * d);
  if (nKm > 0) C.set(sphericalKMeans(dirs.rows, dirs.count, d, nKm, rnd), nTrained * d);
  for (let k = 0; k < nData; k++) {
    const t = Math.floor(rnd() * dirs.count);
    C.set(dirs.rows.subarray(t * d, (t + 1) * d), (nTrained + nKm + k) * d);
  }

  const prob = problem(C, K, X, N, d, lam);
  const maxIt = opts.maxIterations ?? CONVEX_REFERENCE.maxIterations;
  // γ_max: the smallest γ at which A = 0 is optimal (every row's thresholded gradient inside the ball).
  let gmax = 0;
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += Math.max(prob.Bt[n * K + k]! - lam, 0) ** 2;
    gmax = Math.max(gmax, Math.sqrt(s) / Math.sqrt(N));
  }
  const gammas = (opts.gammas ?? [0.9, 0.75, 0.6, 0.45, 0.3, 0.15, 0.07, 0.03].map((f) => f * gmax).concat([0])).slice().sort((a, b) => b - a);
  const sweep: SweepPoint[] = [];
  let warm: Float32Array | undefined;
  let zeroSolution: Solution | undefined;
  for (const gamma of gammas) {
    const sol = fista(prob, gamma, maxIt, warm, gamma === 0);
    warm = sol.At;
    const used = usedAtoms(sol.At, N, K);
    const refit = gamma === 0 ? sol : fista(restrict(prob, used), 0, maxIt, undefined, false);
    sweep.push({ gamma, atoms: used.length, objective: sol.objective, refitObjective: refit.objective, iterations: sol.iterations, converged: sol.converged });
    if (gamma === 0) zeroSolution = sol;
  }
  // Compare at equal atom count: bisect γ toward the SAE's live width when the grid jumps over it.
  const target = Math.min(live.length, K);
  for (let step = 0; step < 6; step++) {
    if (sweep.some((s) => s.atoms <= target && s.atoms >= 0.9 * target)) break;
    const below = sweep.filter((s) => s.atoms < target).sort((a, b) => a.gamma - b.gamma)[0];
    const above = sweep.filter((s) => s.atoms > target).sort((a, b) => b.gamma - a.gamma)[0];
    if (!below || !above) break;
    const gamma = Math.sqrt(below.gamma * Math.max(above.gamma, below.gamma * 1e-3));
    const sol = fista(prob, gamma, maxIt, undefined, false);
    const used = usedAtoms(sol.At, N, K);
    const refit = fista(restrict(prob, used), 0, maxIt, undefined, false);
    sweep.push({ gamma, atoms: used.length, objective: sol.objective, refitObjective: refit.objective, iterations: sol.iterations, converged: sol.converged });
  }
  sweep.sort((a, b) => b.gamma - a.gamma);
  const frontier: ConvexReferenceReport['frontier'] = [];
  for (const p of [...sweep].sort((a, b) => a.atoms - b.atoms || a.refitObjective - b.refitObjective)) {
    const last = frontier[frontier.length - 1];
    if (!last || p.refitObjective < last.objective) {
      if (last && last.atoms === p.atoms) frontier.pop();
      frontier.push({ atoms: p.atoms, objective: p.refitObjective, gamma: p.gamma });
    }
  }

  // The SAE's point: exact codes on its own atoms, and its encoder's codes.
  const saeProb = problem(C.subarray(0, nTrained * d), nTrained, X, N, d, lam);
  const saeSol = fista(saeProb, 0, maxIt, undefined, true);
  let codesObjective = 0;
  rowIndex.forEach((row) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += 0.5 * ctx.residual[row * d + j]! ** 2;
    for (let k = ctx.codes.rowPtr[row]!; k < ctx.codes.rowPtr[row + 1]!; k++) s += lam * ctx.codes.val[k]!;
    codesObjective += s;
  });
  codesObjective /= N;
  const atWidth = frontier.filter((f) => f.atoms <= live.length);
  const frontierAtWidth = atWidth.length ? atWidth[atWidth.length - 1]!.objective : NaN;
  let wide = 0;
  for (let n = 0; n < N; n++) {
    const s = Math.sqrt(prob.xx[n]!);
    wide += s <= lam ? 0.5 * s * s : lam * s - 0.5 * lam * lam;
  }
  const cert = certificate(prob, zeroSolution!.At);
  const report: ConvexReferenceReport = {
    lambdaE: lam, rows: N, candidates: { total: K, trained: nTrained, kmeans: nKm, data: nData }, sweep, frontier,
    sae: { liveAtoms: live.length, objective: saeSol.objective, codesObjective, frontierAtWidth, gapToFrontier: (saeSol.objective - frontierAtWidth) / frontierAtWidth },
    wideLimit: wide / N,
    certificate: { ...cert, holds: cert.maxViolation <= 1e-3, iterations: zeroSolution!.iterations },
    solution: { candidates: C, codes: zeroSolution!.At, rowIndex },
  };
  if (live.length > maxK) report.reason = `only the first ${maxK} of ${live.length} live atoms fit in the candidate budget: the SAE point uses them only`;
  else if (!Number.isFinite(frontierAtWidth)) report.reason = `no sweep point has ≤ ${live.length} atoms: add larger γ values`;
  return report;
}

function unitDirections(X: Float32Array, N: number, d: number): { rows: Float32Array; count: number } {
  const rows = new Float32Array(N * d);
  let count = 0;
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[n * d + j]! ** 2;
    if (!(s > 0)) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) rows[count * d + j] = X[n * d + j]! * inv;
    count++;
  }
  return { rows, count };
}

/** Spherical k-means (cosine assignment, renormalised means), k-means++-style seeding, 10 rounds. */
function sphericalKMeans(rows: Float32Array, count: number, d: number, k: number, rnd: () => number): Float32Array {
  const cent = new Float32Array(k * d);
  const first = Math.floor(rnd() * count);
  cent.set(rows.subarray(first * d, (first + 1) * d), 0);
  const best = new Float64Array(count).fill(-Infinity);
  for (let c = 1; c < k; c++) {
    // Next seed ∝ (1 − max cos) to the chosen ones.
    let total = 0;
    for (let t = 0; t < count; t++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += rows[t * d + j]! * cent[(c - 1) * d + j]!;
      best[t] = Math.max(best[t]!, s);
      total += Math.max(0, 1 - best[t]!);
    }
    let pick = rnd() * total, chosen = count - 1;
    for (let t = 0; t < count; t++) { pick -= Math.max(0, 1 - best[t]!); if (pick <= 0) { chosen = t; break; } }
    cent.set(rows.subarray(chosen * d, (chosen + 1) * d), c * d);
  }
  for (let round = 0; round < 10; round++) {
    const S = matmulBT(rows.subarray(0, count * d), cent, count, d, k);
    const sums = new Float64Array(k * d);
    for (let t = 0; t < count; t++) {
      let arg = 0;
      for (let c = 1; c < k; c++) if (S[t * k + c]! > S[t * k + arg]!) arg = c;
      for (let j = 0; j < d; j++) sums[arg * d + j]! += rows[t * d + j]!;
    }
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += sums[c * d + j]! ** 2;
      if (!(s > 0)) continue; // empty cluster keeps its seed
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < d; j++) cent[c * d + j] = sums[c * d + j]! * inv;
    }
  }
  return cent;
}

function problem(C: Float32Array, K: number, X: Float32Array, N: number, d: number, lambda: number): Problem {
  const G = matmulBT(C, C, K, d, K);
  const Bt = matmulBT(X, C, N, d, K);
  const xx = new Float64Array(N);
  for (let n = 0; n < N; n++) { let s = 0; for (let j = 0; j < d; j++) s += X[n * d + j]! ** 2; xx[n] = s; }
  // ‖G‖₂ by power iteration (G is PSD).
  let v = new Float64Array(K).fill(1 / Math.sqrt(Math.max(K, 1)));
  let mu = 0;
  for (let it = 0; it < 100; it++) {
    const w = new Float64Array(K);
    for (let a = 0; a < K; a++) { let s = 0; for (let b = 0; b < K; b++) s += G[a * K + b]! * v[b]!; w[a] = s; }
    let nrm = 0;
    for (let a = 0; a < K; a++) nrm += w[a]! ** 2;
    nrm = Math.sqrt(nrm);
    if (!(nrm > 0)) break;
    const done = Math.abs(nrm - mu) <= 1e-9 * nrm;
    mu = nrm;
    v = w.map((t) => t / nrm);
    if (done) break;
  }
  // A little headroom: the power iteration approaches ‖G‖₂ from below.
  return { N, K, G, Bt, xx, lipschitz: (mu * 1.01) / N || 1, lambda };
}

/** The sub-problem on a subset of candidates (for refits). */
function restrict(p: Problem, keep: number[]): Problem {
  const K = keep.length;
  const G = new Float32Array(K * K);
  const Bt = new Float32Array(p.N * K);
  keep.forEach((a, s) => {
    keep.forEach((b, t) => { G[s * K + t] = p.G[a * p.K + b]!; });
    for (let n = 0; n < p.N; n++) Bt[n * K + s] = p.Bt[n * p.K + a]!;
  });
  return { ...p, K, G, Bt };
}

function usedAtoms(At: Float32Array, N: number, K: number): number[] {
  const norms = new Float64Array(K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) norms[k]! += At[n * K + k]! ** 2;
  let max = 0;
  for (const v of norms) max = Math.max(max, v);
  const out: number[] = [];
  for (let k = 0; k < K; k++) if (norms[k]! > 0 && Math.sqrt(norms[k]!) > CONVEX_REFERENCE.usedAtomRelative * Math.sqrt(max)) out.push(k);
  return out;
}

/** ℓ(A) from A·G (already computed): (1/N)Σ_n[½(‖x̃‖² − 2⟨b_n, a_n⟩ + ⟨a_n, (AG)_n⟩) + λ Σ a_n]. */
function objectiveOf(p: Problem, At: Float32Array, AG: Float32Array): number {
  let total = 0;
  for (let n = 0; n < p.N; n++) {
    let s = p.xx[n]!;
    let l1 = 0;
    for (let k = 0; k < p.K; k++) {
      const a = At[n * p.K + k]!;
      if (a === 0) continue;
      s += a * AG[n * p.K + k]! - 2 * a * p.Bt[n * p.K + k]!;
      l1 += a;
    }
    total += 0.5 * Math.max(s, 0) + p.lambda * l1;
  }
  return total / p.N;
}

/**
 * FISTA with the nonnegative soft threshold then row-group shrinkage as the prox, gradient-based adaptive
 * restart, stopping at relative objective change < 1e-6 — or, when `kkt` is set (γ = 0), once the largest
 * KKT violation is below 1e-4·λ_e (B5's rule).
 */
function fista(p: Problem, gamma: number, maxIt: number, warm: Float32Array | undefined, kkt: boolean): Solution {
  const { N, K } = p;
  const eta = 1 / p.lipschitz;
  const l1Step = (eta * p.lambda) / N;
  const groupStep = (eta * gamma) / Math.sqrt(N);
  let A: Float32Array = warm ? warm.slice() : new Float32Array(N * K);
  let Y: Float32Array = A.slice();
  let t = 1;
  let AG = matmul(A, p.G, N, K, K);
  // Y·G follows from A·G by linearity (Y = next + β(next − A)), so each iteration needs one product.
  let YG = AG;
  let obj = objectiveOf(p, A, AG) + groupTerm(A, N, K, gamma);
  let it = 0, converged = false;
  for (; it < maxIt; it++) {
    const next = new Float32Array(N * K);
    for (let q = 0; q < N * K; q++) next[q] = Math.max(0, Y[q]! - (eta * (YG[q]! - p.Bt[q]!)) / N - l1Step);
    if (groupStep > 0) {
      const norms = new Float64Array(K);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) norms[k]! += next[n * K + k]! ** 2;
      for (let k = 0; k < K; k++) {
        const nrm = Math.sqrt(norms[k]!);
        const f = nrm > groupStep ? 1 - groupStep / nrm : 0;
        if (f !== 1) for (let n = 0; n < N; n++) next[n * K + k]! *= f;
      }
    }
    const nextAG = matmul(next, p.G, N, K, K);
    const nextObj = objectiveOf(p, next, nextAG) + groupTerm(next, N, K, gamma);
    // Restart the momentum when the step goes uphill (O'Donoghue & Candès).
    const restart = nextObj > obj;
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const beta = restart ? 0 : (t - 1) / tNext;
    Y = new Float32Array(N * K);
    YG = new Float32Array(N * K);
    for (let q = 0; q < N * K; q++) { Y[q] = next[q]! + beta * (next[q]! - A[q]!); YG[q] = nextAG[q]! + beta * (nextAG[q]! - AG[q]!); }
    const change = Math.abs(obj - nextObj) / Math.max(Math.abs(nextObj), 1e-30);
    A = next; AG = nextAG; obj = nextObj;
    t = restart ? 1 : tNext;
    if (kkt) {
      if (it % 5 === 4 && kktViolation(p, A, AG) < 1e-4) { converged = true; it++; break; }
    } else if (change < CONVEX_REFERENCE.relativeTolerance && it > 2) { converged = true; it++; break; }
  }
  return { At: A, iterations: it, converged, objective: objectiveOf(p, A, AG) };
}

function groupTerm(At: Float32Array, N: number, K: number, gamma: number): number {
  if (gamma === 0) return 0;
  const norms = new Float64Array(K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) norms[k]! += At[n * K + k]! ** 2;
  let s = 0;
  for (const v of norms) s += Math.sqrt(v);
  return (gamma / Math.sqrt(N)) * s;
}

/** Largest relative KKT violation of the nonnegative lasso: off support ⟨c_k, r⟩ ≤ λ, on support = λ. */
function kktViolation(p: Problem, At: Float32Array, AG: Float32Array): number {
  let worst = 0;
  for (let q = 0; q < p.N * p.K; q++) {
    const corr = p.Bt[q]! - AG[q]!; // ⟨c_k, r_n⟩
    const v = At[q]! > 0 ? Math.abs(corr - p.lambda) : corr - p.lambda;
    if (v > worst) worst = v;
  }
  return worst / p.lambda;
}

function certificate(p: Problem, At: Float32Array): { maxViolation: number; onSupportRms: number } {
  const AG = matmul(At, p.G, p.N, p.K, p.K);
  let maxViolation = -Infinity, sq = 0, cnt = 0;
  for (let q = 0; q < p.N * p.K; q++) {
    const v = (p.Bt[q]! - AG[q]! - p.lambda) / p.lambda;
    if (v > maxViolation) maxViolation = v;
    if (At[q]! > 0) { sq += v * v; cnt++; }
  }
  return { maxViolation, onSupportRms: cnt ? Math.sqrt(sq / cnt) : 0 };
}
