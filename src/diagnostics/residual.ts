/**
 * C5 — residual structure (docs/theory.md §C C5). What the dictionary leaves in r = x − x̂ tells what it
 * has not learned: on/off-support projections test the code-space KKT band, the in-span fraction tests the
 * encoder against its prediction, the covariance spectrum finds unlearned directions (and says which
 * kind), and the best-new-atom gain G* measures the pressure to grow one more atom — zero exactly when
 * ‖r(x)‖ ≤ λ_e everywhere, the wide-limit optimality condition of D1.
 */
import { archSpec } from '../sae/arch/registry';
import { fastMatmul as matmul, fastMatmulBT as matmulBT } from '../compute/fastMatmul';
import type { DiagnosticContext } from './context';
import { choleskySolve, dotAt, nearestRow, spreadRows, symmetricEigen } from './linalg';
import { forEachProjectionRow } from './codeResiduals';
import { RESIDUAL } from './thresholds';

export interface ResidualOptions {
  /** Rows for the covariance spectrum (evenly spread; default 16384). */
  covarianceRows?: number;
  /** Rows for the in-span fraction, which solves one |S|×|S| system per row (default 2048). */
  spanRows?: number;
  /** Rows for the best-new-atom ascent (default 16384). */
  gainRows?: number;
  /** Eigenvectors reported (default 5). */
  topEigenvectors?: number;
  /** Residual PCs used (±) as starts of the G* ascent (default 8). */
  gainPcStarts?: number;
  /** Largest-‖r‖ samples used as starts (default 32). */
  gainSampleStarts?: number;
  /**
   * 'l1': G(u) = ½E[(⟨u,r⟩ − λ_e)₊²] (ReLU/L1 SAEs). 'l0': G(u) = E[(⟨u,r⟩₊² − λ₀)₊] (JumpReLU), with
   * λ₀ = lambdaL0. Default: 'l0' when lambdaL0 is given, else 'l1'.
   */
  gainKind?: 'l1' | 'l0';
  lambdaL0?: number;
}

export type SpikeInterpretation = 'unlearned sparse feature' | 'unlearned dense direction' | 'partial-absorption residue' | 'unclassified' | 'not a spike';

export interface ResidualEigenvector {
  rank: number;
  eigenvalue: number;
  /** μ_k / median(μ). */
  ratioToMedian: number;
  /** Excess kurtosis of ⟨u_k, r − r̄⟩. */
  kurtosis: number;
  skewness: number;
  /** Share of rows with ⟨u_k, r − r̄⟩ > 0 (two-sidedness). */
  positiveShare: number;
  nearestAtom: number;
  /** Signed cos(u_k, d̂_nearest) (nearest by |cos|). */
  nearestCosine: number;
  isSpike: boolean;
  interpretation: SpikeInterpretation;
  vector: Float32Array;
  reason?: string;
}

/** What a NaN means in the per-atom arrays and per-eigenvector fields (typed arrays carry no reasons). */
export const RESIDUAL_NAN_REASONS = {
  on: 'the latent never fires on this sample (dead: no direction to test)',
  offTailQ99: 'the latent never fires, or fires on every row (no off-support rows)',
  offViolation: 'the latent never fires, or fires on every row (no off-support rows)',
  kurtosis: 'zero variance along this eigenvector (eigenvalue 0)',
  nearestCosine: 'no live atom to compare with',
} as const;

export interface ResidualReport {
  lambdaE: number;
  nanReasons: typeof RESIDUAL_NAN_REASONS;
  /** Normalisation of the on-support statistic: λ_e (L1 models) or σ_r = √(E‖r‖²/d) (L0 models, target 0). */
  onSupportUnit: 'lambdaE' | 'sigmaR';
  support: {
    /** ON_i = E[⟨d̂_i, r⟩ | ã_i > 0] / unit; NaN for latents that never fire. */
    on: Float32Array;
    /** q₉₉(⟨d̂_i, r⟩ | ã_i = 0) / λ_e (histogram resolution 1/64 λ_e; clipped to ±4). */
    offTailQ99: Float32Array;
    /** P(⟨d̂_i, r⟩ > λ_e | ã_i = 0). */
    offViolation: Float32Array;
    medianOn: number;
    /** Share of live atoms with offTailQ99 > 1. */
    shareOffTailAbove1: number;
    liveAtoms: number;
    reason?: string;
  };
  inSpan: { fraction: number; predicted: number; excess: number; rows: number; rankDeficientRows: number; reason?: string };
  spectrum: {
    eigenvalues: Float64Array;
    spikeRatio: number;
    /** μ₁ / mean(μ): defined even when the median is 0. */
    meanRatio: number;
    effectiveRank: number;
    spike: boolean;
    rows: number;
    top: ResidualEigenvector[];
    reason?: string;
  };
  gain: {
    kind: 'l1' | 'l0';
    gStar: number;
    meanHalfSquaredResidual: number;
    /** G* / E[½‖r‖²]. */
    gStarRatio: number;
    isZero: boolean;
    direction: Float32Array;
    nearestAtom: number;
    nearestCosine: number;
    /** Share of rows with ⟨u*, r⟩ > λ_e (rows that would use the new atom). */
    shareRowsUsingDirection: number;
    /** max‖r‖/λ_e and P(‖r‖ > λ_e): G* > 0 ⇔ max‖r‖ > λ_e (D1's dual condition). */
    maxResidualNormOverLambda: number;
    shareResidualAboveLambda: number;
    rows: number;
    starts: number;
    reason?: string;
  };
}

/** C5 over the shared context. */
export function residualSection(ctx: DiagnosticContext, opts: ResidualOptions = {}): ResidualReport {
  const d = ctx.sae.cfg.dOut;
  const l0Model = archSpec(ctx.sae.cfg.activation).codeKind === 'l0';
  const support = supportStatistics(ctx, l0Model);
  const inSpan = inSpanFraction(ctx, opts.spanRows ?? 2048);
  const spec = spectrum(ctx, opts.covarianceRows ?? 16384, opts.topEigenvectors ?? 5);
  const pcs: Float32Array[] = [];
  for (let k = 0; k < Math.min(opts.gainPcStarts ?? 8, spec.vectors.length / d); k++) pcs.push(Float32Array.from(spec.vectors.subarray(k * d, (k + 1) * d)));
  const gain = bestNewAtom(ctx, pcs, opts);
  return { lambdaE: ctx.lambdaE, nanReasons: RESIDUAL_NAN_REASONS, onSupportUnit: l0Model ? 'sigmaR' : 'lambdaE', support, inSpan, spectrum: spec.report, gain };
}

function liveMask(ctx: DiagnosticContext): Uint8Array {
  const m = ctx.sae.cfg.dSae;
  const live = new Uint8Array(m);
  for (let i = 0; i < m; i++) live[i] = ctx.firing[i]! > 0 && ctx.atomNorms[i]! > 0 ? 1 : 0;
  return live;
}

function supportStatistics(ctx: DiagnosticContext, l0Model: boolean): ResidualReport['support'] {
  const { n } = ctx;
  const m = ctx.sae.cfg.dSae, d = ctx.sae.cfg.dOut;
  const lam = ctx.lambdaE;
  const live = liveMask(ctx);
  let liveAtoms = 0;
  for (let i = 0; i < m; i++) liveAtoms += live[i]!;
  const on = new Float32Array(m).fill(NaN);
  const offTailQ99 = new Float32Array(m).fill(NaN);
  const offViolation = new Float32Array(m).fill(NaN);
  if (!(lam > 0)) return { on, offTailQ99, offViolation, medianOn: NaN, shareOffTailAbove1: NaN, liveAtoms, reason: `λ_e is ${lam} (not positive): the KKT band is undefined` };
  if (liveAtoms === 0) return { on, offTailQ99, offViolation, medianOn: NaN, shareOffTailAbove1: NaN, liveAtoms, reason: 'no live latents on this sample' };
  let sq = 0;
  for (let t = 0; t < n * d; t++) sq += ctx.residual[t]! ** 2;
  const sigmaR = Math.sqrt(sq / (n * d));
  const unit = l0Model ? sigmaR : lam;
  const bins = RESIDUAL.histogramBins, range = RESIDUAL.histogramRange;
  const hist = new Int32Array(m * bins);
  const onSum = new Float64Array(m), onCount = new Int32Array(m), offCount = new Int32Array(m), offAbove = new Int32Array(m);
  const codes = ctx.codes;
  const onRow = new Uint8Array(m);
  // the same ⟨d̂_i, r_n⟩ pass as KKT_off (B4) over the same arrays: read from its cache when it ran first
  forEachProjectionRow(ctx.residual, ctx.unitAtoms, n, m, d, (row, proj, off) => {
    const lo = codes.rowPtr[row]!, hi = codes.rowPtr[row + 1]!;
    for (let k = lo; k < hi; k++) onRow[codes.idx[k]!] = 1;
    for (let i = 0; i < m; i++) {
      if (!live[i]) continue;
      const v = proj[off + i]!;
      if (onRow[i]) { onSum[i]! += v; onCount[i]!++; continue; }
      offCount[i]!++;
      if (v > lam) offAbove[i]!++;
      const b = Math.min(bins - 1, Math.max(0, Math.floor(((v / lam + range) / (2 * range)) * bins)));
      hist[i * bins + b]!++;
    }
    for (let k = lo; k < hi; k++) onRow[codes.idx[k]!] = 0;
  });
  const onVals: number[] = [];
  let above1 = 0, withOff = 0;
  for (let i = 0; i < m; i++) {
    if (!live[i]) continue;
    on[i] = onSum[i]! / onCount[i]! / unit;
    onVals.push(on[i]!);
    if (offCount[i]! === 0) continue;
    offViolation[i] = offAbove[i]! / offCount[i]!;
    const target = Math.ceil(0.99 * offCount[i]!);
    let acc = 0, b = 0;
    for (; b < bins; b++) { acc += hist[i * bins + b]!; if (acc >= target) break; }
    offTailQ99[i] = -range + ((b + 1) / bins) * 2 * range;
    withOff++;
    if (offTailQ99[i]! > 1) above1++;
  }
  onVals.sort((a, b) => a - b);
  const out: ResidualReport['support'] = { on, offTailQ99, offViolation, medianOn: onVals[onVals.length >> 1]!, shareOffTailAbove1: withOff ? above1 / withOff : NaN, liveAtoms };
  if (liveAtoms < m || withOff < liveAtoms) out.reason = `NaN entries: ${m - liveAtoms} latents never fire (no direction to test)${withOff < liveAtoms ? `; ${liveAtoms - withOff} fire on every row (no off-support rows)` : ''}`;
  if (!withOff) out.reason = `${out.reason ?? ''}${out.reason ? '; ' : ''}shareOffTailAbove1: no live latent has off-support rows`;
  return out;
}

/** φ = E‖P_S r‖²/E‖r‖² against λ_e² E[𝟙ᵀG_S⁻¹𝟙]/E‖r‖², the value exact on-support KKT would give. */
function inSpanFraction(ctx: DiagnosticContext, maxRows: number): ResidualReport['inSpan'] {
  const d = ctx.sae.cfg.dOut;
  const rowsIdx = spreadRows(ctx.n, maxRows);
  let rr = 0, inSpan = 0, pred = 0, rankDeficientRows = 0;
  for (const row of rowsIdx) {
    const support: number[] = [];
    for (let k = ctx.codes.rowPtr[row]!; k < ctx.codes.rowPtr[row + 1]!; k++) if (ctx.atomNorms[ctx.codes.idx[k]!]! > 0) support.push(ctx.codes.idx[k]!);
    for (let j = 0; j < d; j++) rr += ctx.residual[row * d + j]! ** 2;
    const k = support.length;
    if (k === 0) continue;
    const G = new Float64Array(k * k);
    const v = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      v[a] = dotAt(ctx.unitAtoms, support[a]! * d, ctx.residual, row * d, d);
      for (let b = 0; b <= a; b++) {
        const g = dotAt(ctx.unitAtoms, support[a]! * d, ctx.unitAtoms, support[b]! * d, d);
        G[a * k + b] = g; G[b * k + a] = g;
      }
    }
    const { solutions, ridged } = choleskySolve(G, k, [v, new Float64Array(k).fill(1)]);
    if (ridged) rankDeficientRows++;
    for (let a = 0; a < k; a++) { inSpan += v[a]! * solutions[0]![a]!; pred += solutions[1]![a]!; }
  }
  const lam = ctx.lambdaE;
  if (rowsIdx.length === 0) return { fraction: NaN, predicted: NaN, excess: NaN, rows: 0, rankDeficientRows, reason: 'in-span fraction needs at least 1 row' };
  if (!(rr > 0)) return { fraction: NaN, predicted: NaN, excess: NaN, rows: rowsIdx.length, rankDeficientRows, reason: 'the residual is exactly zero on the sampled rows' };
  const fraction = inSpan / rr;
  const predicted = lam > 0 ? (lam * lam * pred) / rr : NaN;
  return { fraction, predicted, excess: fraction - predicted, rows: rowsIdx.length, rankDeficientRows, ...(lam > 0 ? {} : { reason: `λ_e is ${lam}: no prediction` }) };
}

function spectrum(ctx: DiagnosticContext, maxRows: number, topK: number): { report: ResidualReport['spectrum']; vectors: Float64Array } {
  const m = ctx.sae.cfg.dSae, d = ctx.sae.cfg.dOut;
  const rowsIdx = spreadRows(ctx.n, maxRows);
  const N = rowsIdx.length;
  const empty = { eigenvalues: new Float64Array(0), spikeRatio: NaN, meanRatio: NaN, effectiveRank: NaN, spike: false, rows: N, top: [] };
  if (N < 2 * d) {
    // Fewer rows than ~2d leaves the covariance rank-deficient: eigenvalues are still exact for the sample.
    if (N < 2) return { report: { ...empty, reason: `the residual spectrum needs at least 2 rows (got ${N})` }, vectors: new Float64Array(0) };
  }
  const mean = new Float64Array(d);
  for (const row of rowsIdx) for (let j = 0; j < d; j++) mean[j]! += ctx.residual[row * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= N;
  // Cov = RcᵀRc / N, accumulated in row blocks through the GEMM (Rcᵀ as a [d, rows] block).
  const cov = new Float32Array(d * d);
  const block = 1024;
  const centered = new Float32Array(N * d);
  rowsIdx.forEach((row, t) => { for (let j = 0; j < d; j++) centered[t * d + j] = ctx.residual[row * d + j]! - mean[j]!; });
  for (let s = 0; s < N; s += block) {
    const rows = Math.min(block, N - s);
    const blockT = new Float32Array(d * rows);
    for (let t = 0; t < rows; t++) for (let j = 0; j < d; j++) blockT[j * rows + t] = centered[(s + t) * d + j]!;
    matmul(blockT, centered.subarray(s * d, (s + rows) * d), d, rows, d, cov, true);
  }
  for (let t = 0; t < d * d; t++) cov[t]! /= N;
  const { values, vectors } = symmetricEigen(cov, d);
  const sorted = Float64Array.from(values).sort();
  const med = d % 2 ? sorted[d >> 1]! : 0.5 * (sorted[(d >> 1) - 1]! + sorted[d >> 1]!);
  let total = 0;
  for (const v of values) total += Math.max(v, 0);
  let entropy = 0;
  for (const v of values) { const p = Math.max(v, 0) / total; if (p > 0) entropy -= p * Math.log(p); }
  const tiny = 1e-12 * Math.max(values[0]!, 0);
  const medianZero = !(med > tiny);
  const spikeRatio = medianZero ? Infinity : values[0]! / med;
  const live = liveMask(ctx);
  const lam = ctx.lambdaE;
  const top: ResidualEigenvector[] = [];
  for (let k = 0; k < Math.min(topK, d); k++) {
    const u = Float32Array.from(vectors.subarray(k * d, (k + 1) * d));
    let m2 = 0, m3 = 0, m4 = 0, pos = 0;
    for (let t = 0; t < N; t++) {
      const z = dotAt(centered, t * d, u, 0, d);
      const z2 = z * z;
      m2 += z2; m3 += z2 * z; m4 += z2 * z2;
      if (z > 0) pos++;
    }
    m2 /= N; m3 /= N; m4 /= N;
    const kurtosis = m2 > 0 ? m4 / (m2 * m2) - 3 : NaN;
    const skewness = m2 > 0 ? m3 / m2 ** 1.5 : NaN;
    const near = nearestRow(ctx.unitAtoms, m, d, u, live);
    const ratio = medianZero ? Infinity : values[k]! / med;
    const isSpike = ratio > RESIDUAL.spikeRatio && (!(lam > 0) || values[k]! > RESIDUAL.spikeMinVarianceOverLambda2 * lam * lam);
    top.push({
      rank: k, eigenvalue: values[k]!, ratioToMedian: ratio, kurtosis, skewness, positiveShare: pos / N,
      nearestAtom: near.index, nearestCosine: near.cosine, isSpike,
      interpretation: isSpike ? interpretSpike(kurtosis, pos / N, near.cosine) : 'not a spike', vector: u,
      ...(m2 > 0 ? {} : { reason: RESIDUAL_NAN_REASONS.kurtosis }),
      ...(near.index < 0 ? { reason: RESIDUAL_NAN_REASONS.nearestCosine } : {}),
      ...(medianZero ? { reason: 'ratioToMedian is infinite: the median residual eigenvalue is 0' } : {}),
    });
  }
  const report: ResidualReport['spectrum'] = {
    eigenvalues: values, spikeRatio, meanRatio: total > 0 ? values[0]! / (total / d) : NaN,
    effectiveRank: total > 0 ? Math.exp(entropy) : NaN, spike: top.length > 0 && top[0]!.isSpike, rows: N, top,
  };
  if (medianZero) report.reason = 'the median residual eigenvalue is 0 (the residual spans fewer than d/2 directions, e.g. noise-free data): spikeRatio is infinite, use meanRatio';
  else if (N < 2 * d) report.reason = `only ${N} rows for d = ${d}: the covariance is rank-deficient and the median eigenvalue is biased low (use ≥ ${2 * d} rows)`;
  return { report, vectors };
}

/** docs/theory.md §C5's table: alignment with an atom first (a residue of a learned feature), then the tails. */
function interpretSpike(kurtosis: number, positiveShare: number, nearestCosine: number): SpikeInterpretation {
  if (Math.abs(nearestCosine) >= RESIDUAL.atomAlignedCosine) return 'partial-absorption residue';
  if (kurtosis >= RESIDUAL.heavyTailKurtosis) return 'unlearned sparse feature';
  const twoSided = Math.min(positiveShare, 1 - positiveShare) >= RESIDUAL.twoSidedMinShare;
  if (Math.abs(kurtosis) <= RESIDUAL.gaussianKurtosis && twoSided) return 'unlearned dense direction';
  return 'unclassified';
}

/**
 * G* = max_{‖u‖=1} G(u). G is convex in u, so the projected-gradient step with infinite step size,
 * u ← ∇G(u)/‖∇G(u)‖, never decreases it (G(v) ≥ G(u) + ⟨∇G(u), v − u⟩ and v maximises ⟨∇G(u), ·⟩ on
 * the ball). All starts advance together through two GEMMs per iteration; the best 4 then run until G
 * gains less than 1e-7 relative per step (at most 100 steps).
 */
function bestNewAtom(ctx: DiagnosticContext, pcs: Float32Array[], opts: ResidualOptions): ResidualReport['gain'] {
  const m = ctx.sae.cfg.dSae, d = ctx.sae.cfg.dOut;
  const kind = opts.gainKind ?? (opts.lambdaL0 !== undefined ? 'l0' : 'l1');
  const lam = kind === 'l1' ? ctx.lambdaE : opts.lambdaL0 ?? ctx.lambdaE * ctx.lambdaE;
  const rowsIdx = spreadRows(ctx.n, opts.gainRows ?? 16384);
  const N = rowsIdx.length;
  const R = new Float32Array(N * d);
  const norms = new Float64Array(N);
  let half = 0, maxNorm = 0, above = 0;
  rowsIdx.forEach((row, t) => {
    let s = 0;
    for (let j = 0; j < d; j++) { const v = ctx.residual[row * d + j]!; R[t * d + j] = v; s += v * v; }
    norms[t] = Math.sqrt(s);
    half += 0.5 * s;
    maxNorm = Math.max(maxNorm, norms[t]!);
    if (norms[t]! > ctx.lambdaE) above++;
  });
  half /= Math.max(N, 1);
  const base = {
    kind, meanHalfSquaredResidual: half, maxResidualNormOverLambda: maxNorm / ctx.lambdaE,
    shareResidualAboveLambda: N ? above / N : NaN, rows: N,
  };
  const fail = (reason: string): ResidualReport['gain'] => ({
    ...base, gStar: NaN, gStarRatio: NaN, isZero: false, direction: new Float32Array(d), nearestAtom: -1, nearestCosine: NaN, shareRowsUsingDirection: NaN, starts: 0, reason,
  });
  if (N === 0) return fail('G* needs at least 1 row');
  if (!(lam > 0)) return fail(`the ${kind === 'l1' ? 'λ_e' : 'λ₀'} is ${lam} (not positive)`);
  const starts: Float32Array[] = [];
  for (const pc of pcs) { starts.push(pc.slice()); starts.push(pc.map((v) => -v)); }
  const bySize = Array.from(norms.keys()).sort((a, b) => norms[b]! - norms[a]!).slice(0, opts.gainSampleStarts ?? 32);
  for (const t of bySize) if (norms[t]! > 0) starts.push(R.slice(t * d, (t + 1) * d).map((v) => v / norms[t]!));
  if (starts.length === 0) return { ...fail('the residual is zero on every sampled row'), gStar: 0, gStarRatio: 0, isZero: true };
  let U: Float32Array = new Float32Array(starts.length * d);
  starts.forEach((u, s) => U.set(u, s * d));
  const evaluate = (Ucur: Float32Array, S: number): { g: Float64Array; grad: Float32Array } => {
    const Z = matmulBT(R, Ucur, N, d, S); // [N, S]
    const W = new Float32Array(S * N); // per-start weights on rows: ∂G/∂⟨u, r⟩
    const g = new Float64Array(S);
    for (let t = 0; t < N; t++) for (let s = 0; s < S; s++) {
      const z = Z[t * S + s]!;
      if (kind === 'l1') {
        const e = z - lam;
        if (e > 0) { g[s]! += 0.5 * e * e; W[s * N + t] = e; }
      } else if (z > 0 && z * z > lam) { g[s]! += z * z - lam; W[s * N + t] = 2 * z; }
    }
    for (let s = 0; s < S; s++) g[s]! /= N;
    return { g, grad: matmul(W, R, S, N, d) };
  };
  const step = (grad: Float32Array, Ucur: Float32Array, S: number): Float32Array => {
    const next = new Float32Array(S * d);
    for (let s = 0; s < S; s++) {
      let nrm = 0;
      for (let j = 0; j < d; j++) nrm += grad[s * d + j]! ** 2;
      nrm = Math.sqrt(nrm);
      // A start with no row above threshold has zero gradient and G = 0: it stays where it is.
      for (let j = 0; j < d; j++) next[s * d + j] = nrm > 0 ? grad[s * d + j]! / nrm : Ucur[s * d + j]!;
    }
    return next;
  };
  let S = starts.length;
  let cur = evaluate(U, S);
  for (let it = 0; it < 8; it++) { U = step(cur.grad, U, S); cur = evaluate(U, S); }
  // Keep the 4 best starts and run them to convergence.
  const keep = Array.from(cur.g.keys()).sort((a, b) => cur.g[b]! - cur.g[a]!).slice(0, 4);
  const U2 = new Float32Array(keep.length * d);
  keep.forEach((s, t) => U2.set(U.subarray(s * d, (s + 1) * d), t * d));
  U = U2; S = keep.length;
  cur = evaluate(U, S);
  for (let it = 0; it < 100; it++) {
    const nextU = step(cur.grad, U, S);
    const next = evaluate(nextU, S);
    let change = 0, scale = 0;
    for (let s = 0; s < S; s++) { change = Math.max(change, next.g[s]! - cur.g[s]!); scale = Math.max(scale, next.g[s]!); }
    U = nextU; cur = next;
    if (!(change > 1e-7 * scale)) break;
  }
  let best = 0;
  for (let s = 1; s < S; s++) if (cur.g[s]! > cur.g[best]!) best = s;
  const direction = U.slice(best * d, (best + 1) * d);
  const gStar = cur.g[best]!;
  let using = 0;
  for (let t = 0; t < N; t++) {
    const z = dotAt(R, t * d, direction, 0, d);
    if (kind === 'l1' ? z > lam : z > 0 && z * z > lam) using++;
  }
  const near = nearestRow(ctx.unitAtoms, m, d, direction, liveMask(ctx));
  const gStarRatio = half > 0 ? gStar / half : 0;
  return {
    ...base, gStar, gStarRatio, isZero: gStarRatio <= RESIDUAL.gainZeroRelative, direction,
    nearestAtom: near.index, nearestCosine: near.cosine, shareRowsUsingDirection: using / N, starts: starts.length,
    ...(near.index < 0 ? { reason: `nearestCosine: ${RESIDUAL_NAN_REASONS.nearestCosine}` } : {}),
  };
}
