/**
 * Code-space KKT (docs/theory.md §B1) and dictionary-space stationarity (B2) per atom, with the B4 statistics:
 * KKT_on, KKT_off and the mean excess, STAT (tangent of the angle between the code-weighted residual g_i
 * and the atom; for L0 codes the correlation of the code with the residual along the pull, see
 * l0StatScale), RAD, the noise floor SE_i, the non-stationarity flag, the pull direction, and bootstrap
 * SEs (kktBootstrap.ts).
 * All sums run over the sparse codes; the one dense product (⟨d̂_i, r_n⟩ for every n, i) is one GEMM pass.
 */
import { fastMatmul as matmul, fastMatmulBT as matmulBT } from '../compute/fastMatmul';
import type { CodeSet } from './codeResiduals';
import { codeWeightedResidual, forEachProjectionRow } from './codeResiduals';
import { quantile } from './linalg';
import { statRule, THRESHOLDS } from './thresholds';
import { stationarityBootstrap } from './kktBootstrap';
import type { BootstrapOptions } from './bootstrap';
import { BOOTSTRAP_DEFAULTS } from './bootstrap';

export interface OffThreshold {
  /**
   * 'lambda': λ_e (L1 codes); 'row-min': the row's smallest material code (TopK swap condition, l0RowScale);
   * 'per-latent': given per latent (JumpReLU ‖d_i‖θ_i).
   */
  mode: 'lambda' | 'row-min' | 'per-latent';
  perLatent?: Float32Array;
  /** 'row-min' only: the fraction of the row's RMS kept code a code must reach to count (THRESHOLDS.l0MaterialCode). */
  materialCode?: number;
}

export interface Aggregate {
  median: number;
  p90: number;
  /** Bootstrap SE of the median over rows (docs/theory.md §B4), when the bootstrap ran. */
  se?: { median: number };
}

export interface PullDirection {
  latent: number;
  toward: number[];
  /** ⟨d̂_j, t_i⟩/‖t_i‖ for each j in `toward`. */
  score: number[];
}

export interface KktReport {
  source: CodeSet['source'];
  kind: CodeSet['kind'];
  rows: number;
  lambdaE: number;
  live: number;
  /** Latents with enough firings for STAT/KKT_on (THRESHOLDS.minFirings). */
  measured: number;
  perLatent: {
    firing: Float32Array;
    kktOn: Float32Array;
    kktOff: Float32Array;
    meanExcess: Float32Array;
    stat: Float32Array;
    rad: Float32Array;
    /** The analytic noise floor SE_i of B4: the RMS length of the sampling noise of P⊥g_i, in STAT units. */
    statSE: Float32Array;
    flagged: Uint8Array;
    /**
     * √(max(STAT² − SE², 0)): STAT with the noise floor removed in quadrature (E[STAT²] = STAT_true² + SE²
     * for independent rows).
     */
    statDebiased: Float32Array;
    /**
     * For an unflagged atom whose debiased STAT exceeds the floor (statRule: 0.05 for L1, 0.1 for L0 codes):
     * the sample rows at which STAT would clear σ·SE (SE ∝ 1/√rows): rows·(σ·SE/STAT_debiased)². NaN otherwise.
     */
    rowsToResolve: Float32Array;
    /** Bootstrap SEs over rows of the values beside them (absent when the bootstrap was off). */
    se?: { stat: Float32Array; rad: Float32Array; statSE: Float32Array; kktOn: Float32Array; kktOff: Float32Array };
    /** Bootstrap estimate of the noise floor (RMS tangential jitter of g_i between resamples): cross-checks statSE. */
    statFloorBootstrap?: Float32Array;
  };
  summary: {
    kktOn: Aggregate;
    kktOff: Aggregate;
    stat: Aggregate;
    rad: Aggregate;
    fractionFlagged: number;
    /** Median analytic noise floor SE_i and median firings per measured atom (what the floor depends on). */
    statSE: Aggregate;
    firings: Aggregate;
    /** Unflagged measured atoms whose debiased STAT exceeds the floor (statRule), and the median rows they need. */
    unresolved: number;
    rowsToResolve: number;
    /** docs/theory.md §B4 bands for the codes: good (KKT_on < 0.25 and KKT_off < 0.01), poor (> 0.5 or > 0.05), else fair. */
    codeQuality: 'good' | 'fair' | 'poor' | 'n/a';
    maxKktOn: number;
  };
  pull: PullDirection[];
  /** Resamples and seed of the row bootstrap, or null with reason.bootstrap. */
  bootstrap: { resamples: number; seed: number; fractionFlaggedSE: number } | null;
  reason: Record<string, string>;
}

/**
 * The L0 scale of STAT: √(E[ã_i²]·E[⟨u_i, r⟩²]) with u_i the unit pull direction P⊥g_i/‖P⊥g_i‖, so that
 * STAT_i = ‖P⊥g_i‖/scale is the correlation between the code ã_i and the residual along u_i (0 at a
 * stationary atom, at most 1). docs/theory.md §B4's sin∠(g_i, d̂_i) is degenerate for L0 codes: their fitted
 * magnitudes make ⟨d̂_i, r⟩ ≈ 0 on the support, so g_i ⟂ d̂_i and the sine is ≈ 1 for every atom,
 * stationary or not (measured: median 1.000 on a trained TopK SAE, 0.99 on a JumpReLU one).
 * E[⟨u, r⟩²] = uᵀMu with M = RᵀR/n (one GEMM). `residualAlongPull` keeps E[⟨u_i, r⟩²] for the bootstrap.
 */
function l0StatScale(cs: CodeSet, unitAtoms: Float32Array, g: Float64Array, radial: Float64Array, measured: Uint8Array): Float64Array & { residualAlongPull: Float64Array } {
  const { n, m, d, rowPtr, idx: latent, val: value, residual } = cs;
  const second = new Float64Array(m);
  for (let r = 0; r < n; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) second[latent[k]] += value[k] * value[k] / n;
  const rt = new Float32Array(d * n);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) rt[j * n + r] = residual[r * d + j];
  const M = matmul(rt, residual, d, n, d);
  for (let t = 0; t < d * d; t++) M[t] /= n;
  const u = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    if (!measured[i]) continue;
    let nrm = 0;
    for (let j = 0; j < d; j++) { const v = g[i * d + j] - radial[i] * unitAtoms[i * d + j]; u[i * d + j] = v; nrm += v * v; }
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < d; j++) u[i * d + j] = nrm > 0 ? u[i * d + j] / nrm : 0;
  }
  const uM = matmul(u, M, m, d, d);
  const along = new Float64Array(m);
  const scale = Object.assign(new Float64Array(m), { residualAlongPull: along });
  for (let i = 0; i < m; i++) {
    if (!measured[i]) continue;
    let q = 0;
    for (let j = 0; j < d; j++) q += uM[i * d + j] * u[i * d + j];
    along[i] = q;
    scale[i] = Math.sqrt(second[i] * Math.max(q, 0));
  }
  return scale;
}

/**
 * TopK's θ per row: the smallest kept code at least `fraction` of the RMS of the row's kept codes (NaN on an
 * empty row). The TopK objective min ‖r‖² s.t. ‖a‖₀ ≤ k is stationary when ⟨d̂_i, r⟩ = 0 on the support and
 * ⟨d̂_j, r⟩ ≤ a_(k) off it (swapping j in for the k-th code changes the loss by a_(k)² − ⟨d̂_j, r⟩²;
 * docs/theory.md §B1), so a_(k) is the row's multiplier. On a row that carries fewer features than k the
 * constraint is slack: the optimal k-th code is a noise code, the multiplier is ≈ 0, and a misfit or a swap
 * read against it puts only a noise code's loss at stake. The codes below the fraction are those slack codes;
 * the smallest code above it is the multiplier of the constraint the row actually meets (‖a‖₀ ≤ k', its k'
 * material codes), and equals a_(k) whenever the row's codes are all of one size. Shrinking every code by one
 * factor leaves the material set unchanged, so a shrunk encoder's misfit reads on the same codes.
 */
export function l0RowScale(cs: Pick<CodeSet, 'n' | 'rowPtr' | 'val'>, fraction: number = THRESHOLDS.l0MaterialCode): Float32Array {
  const { n, rowPtr, val } = cs;
  const theta = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let energy = 0;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) energy += val[k] * val[k];
    const floor = fraction * Math.sqrt(energy / Math.max(rowPtr[r + 1] - rowPtr[r], 1));
    let lo = Infinity;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) if (val[k] > 0 && val[k] >= floor) lo = Math.min(lo, val[k]);
    theta[r] = Number.isFinite(lo) ? lo : NaN;
  }
  return theta;
}

/**
 * The scale of L0-type KKT_on, per active entry: the threshold θ the encoder's codes sit at — for TopK the
 * row's smallest material code (l0RowScale), for JumpReLU and BatchTopK the latent's threshold (×‖d_i‖). It
 * plays λ_e's part: the off-support condition is ⟨d̂_i, r⟩ ≤ θ (the TopK swap condition, docs/theory.md §B1),
 * and on the support |⟨d̂_i, r⟩| ≥ θ means the code could be moved by more than the smallest code the row needs.
 * So the L1 bands of docs/theory.md §B4 read the same on this scale (docs/diagnostics.md "KKT for L0 codes").
 * Codes without a threshold (reference codes of an L0 SAE) fall back to σ_r = √(E‖r‖²/d), with no band.
 */
export function l0OnScale(cs: CodeSet, off: OffThreshold, rowTheta?: Float32Array): { perEntry: Float32Array; unit: 'θ' | 'σ_r' } {
  const { n, d, rowPtr, idx, residual } = cs;
  const perEntry = new Float32Array(idx.length);
  if (off.mode === 'per-latent' && off.perLatent) {
    const per = off.perLatent;
    for (let k = 0; k < idx.length; k++) perEntry[k] = per[idx[k]] || NaN;
    return { perEntry, unit: 'θ' };
  }
  if (off.mode === 'row-min') {
    const theta = rowTheta ?? l0RowScale(cs, off.materialCode);
    for (let r = 0; r < n; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) perEntry[k] = theta[r];
    return { perEntry, unit: 'θ' };
  }
  let rr = 0;
  for (let i = 0; i < n * d; i++) rr += residual[i] * residual[i];
  perEntry.fill(Math.sqrt(rr / Math.max(n * d, 1)) || 1);
  return { perEntry, unit: 'σ_r' };
}

/** The bootstrap of KKT_off reweights each recorded missed activation per resample; beyond this many it is skipped. */
const MAX_MISSED_RECORDED = 5_000_000;

function agg(v: Float32Array, mask: Uint8Array): Aggregate {
  const vals: number[] = [];
  for (let i = 0; i < v.length; i++) if (mask[i] && Number.isFinite(v[i])) vals.push(v[i]);
  return { median: quantile(vals, 0.5), p90: quantile(vals, 0.9) };
}

export function kktStationarity(cs: CodeSet, unitAtoms: Float32Array, lambdaE: number, off: OffThreshold = { mode: 'lambda' }, opts: { pull?: boolean; bootstrap?: BootstrapOptions | false } = {}): KktReport {
  const { n, m, d, rowPtr, idx: latent, val: value, onProj, residual, count } = cs;
  const reason: Record<string, string> = {};
  const l1 = cs.kind === 'l1';
  const lambdaOk = Number.isFinite(lambdaE) && lambdaE > 0;
  // L0-type KKT_on is in units of the encoder's threshold θ (l0OnScale)
  const rowTheta = off.mode === 'row-min' ? l0RowScale(cs, off.materialCode) : undefined;
  const onScale = l1 ? undefined : l0OnScale(cs, off, rowTheta);
  const firing = new Float32Array(m), kktOn = new Float32Array(m).fill(NaN), kktOff = new Float32Array(m).fill(NaN);
  const meanExcess = new Float32Array(m).fill(NaN), stat = new Float32Array(m).fill(NaN), rad = new Float32Array(m).fill(NaN);
  const statSE = new Float32Array(m).fill(NaN), flagged = new Uint8Array(m);
  const live = new Uint8Array(m), measured = new Uint8Array(m);
  let nLive = 0, nMeasured = 0;
  for (let i = 0; i < m; i++) {
    firing[i] = count[i] / n;
    if (count[i] > 0) { live[i] = 1; nLive++; }
    if (count[i] >= THRESHOLDS.minFirings) { measured[i] = 1; nMeasured++; }
  }
  // B1 on the support; g_i = mean ã_i r; m_i = mean ã_i
  const onSq = new Float64Array(m);
  for (let r = 0; r < n; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
    const dev = l1 ? (onProj[k] - lambdaE) / lambdaE : onProj[k] / onScale!.perEntry[k];
    onSq[latent[k]] += dev * dev;
  }
  const { g, mean } = codeWeightedResidual(cs);
  const radial = new Float64Array(m), tan2 = new Float64Array(m), gNorm2 = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let rd = 0, gg = 0;
    for (let j = 0; j < d; j++) { rd += g[i * d + j] * unitAtoms[i * d + j]; gg += g[i * d + j] ** 2; }
    radial[i] = rd; gNorm2[i] = gg; tan2[i] = Math.max(gg - rd * rd, 0);
    if (measured[i]) kktOn[i] = Math.sqrt(onSq[i] / count[i]);
  }
  // noise floor: mean_n ‖P⊥(a r_n − g)‖² = [Σ_active a²(‖r‖² − p²) − 2a(⟨r, g⟩ − p·rad)] / n + ‖P⊥g‖²
  const seAcc = new Float64Array(m);
  for (let r = 0; r < n; r++) {
    const ro = r * d;
    let rn2 = 0;
    for (let j = 0; j < d; j++) rn2 += residual[ro + j] ** 2;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      const i = latent[k], a = value[k], p = onProj[k];
      let rg = 0;
      for (let j = 0; j < d; j++) rg += residual[ro + j] * g[i * d + j];
      seAcc[i] += a * a * (rn2 - p * p) - 2 * a * (rg - p * radial[i]);
    }
  }
  const l0Scale = l1 ? undefined : l0StatScale(cs, unitAtoms, g, radial, measured);
  const { sigmas, floor } = statRule(cs.kind);
  let fractionFlagged = 0;
  for (let i = 0; i < m; i++) {
    if (!measured[i]) continue;
    const scale = l1 ? lambdaE * mean[i] : l0Scale![i];
    if (!(scale > 0)) continue;
    stat[i] = Math.sqrt(tan2[i]) / scale;
    if (l1) rad[i] = radial[i] / scale - 1;
    const msq = Math.max(seAcc[i] / n + tan2[i], 0);
    statSE[i] = Math.sqrt(msq / n) / scale;
    if (stat[i] > Math.max(sigmas * statSE[i], floor)) { flagged[i] = 1; fractionFlagged++; }
  }
  fractionFlagged = nMeasured ? fractionFlagged / nMeasured : NaN;
  // KKT_off: one pass over every (row, latent) projection
  const offCount = new Float64Array(m), offAbove = new Float64Array(m), offExcess = new Float64Array(m);
  const onMask = new Uint8Array(m);
  const offOk = off.mode !== 'lambda' || lambdaOk;
  // the missed activations themselves (row, latent) and the rows that count, for the bootstrap of KKT_off
  const missed: { row: Int32Array; latent: Int32Array; count: number; overflow: boolean } = { row: new Int32Array(1024), latent: new Int32Array(1024), count: 0, overflow: false };
  const validRow = new Uint8Array(n);
  if (offOk) {
    forEachProjectionRow(residual, unitAtoms, n, m, d, (r, proj, o) => {
      let rowThr = lambdaE;
      if (rowTheta) {
        rowThr = rowTheta[r];
        if (!Number.isFinite(rowThr)) return;
      }
      validRow[r] = 1;
      for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) onMask[latent[k]] = 1;
      const per = off.mode === 'per-latent' ? off.perLatent : undefined;
      for (let i = 0; i < m; i++) {
        if (onMask[i]) continue;
        const thr = per ? per[i] : rowThr;
        if (!(thr > 0)) continue;
        const p = proj[o + i];
        offCount[i]++;
        if (p > THRESHOLDS.kktOffMargin * thr) {
          offAbove[i]++;
          if (missed.count >= MAX_MISSED_RECORDED) missed.overflow = true;
          else if (missed.count === missed.row.length) {
            const grow = (a: Int32Array): Int32Array => { const b = new Int32Array(2 * a.length); b.set(a); return b; };
            missed.row = grow(missed.row); missed.latent = grow(missed.latent);
          }
          if (!missed.overflow) { missed.row[missed.count] = r; missed.latent[missed.count] = i; missed.count++; }
        }
        if (p > thr) offExcess[i] += (p - thr) / thr;
      }
      for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) onMask[latent[k]] = 0;
    });
    for (let i = 0; i < m; i++) if (live[i] && offCount[i] > 0) { kktOff[i] = offAbove[i] / offCount[i]; meanExcess[i] = offExcess[i] / offCount[i]; }
  } else reason.kktOff = 'λ_e is unavailable (not stored with the SAE and not estimable from the codes); pass --lambda-e';
  if (!lambdaOk && l1) {
    reason.kktOn = reason.stat = 'λ_e is unavailable; pass --lambda-e';
    kktOn.fill(NaN); stat.fill(NaN); rad.fill(NaN); statSE.fill(NaN); flagged.fill(0);
  }
  if (nMeasured < nLive) reason.perLatent = `${nLive - nMeasured} live latents fire fewer than ${THRESHOLDS.minFirings} times in the ${n}-row sample: their KKT_on, STAT, RAD and SE are null; a latent firing with probability p needs about ${THRESHOLDS.minFirings}/p rows`;
  if (nLive < m) reason.deadLatents = `${m - nLive} latents never fire in the sample: every per-latent value is null for them (a dead atom's direction is unidentifiable)`;
  const kOn = agg(kktOn, measured), kOff = agg(kktOff, live);
  let codeQuality: KktReport['summary']['codeQuality'] = 'n/a';
  if (!l1 && onScale!.unit === 'σ_r') reason.codeQuality = 'these L0-type codes have no encoder threshold here (reference codes): KKT_on is in units of σ_r = √(E‖r‖²/d), which has no band';
  else if (Number.isFinite(kOn.median) && Number.isFinite(kOff.median)) {
    codeQuality = kOn.median > THRESHOLDS.kktOnPoor || kOff.median > THRESHOLDS.kktOffPoor ? 'poor'
      : kOn.median < THRESHOLDS.kktOnGood && kOff.median < THRESHOLDS.kktOffGood ? 'good' : 'fair';
  } else reason.codeQuality = nMeasured === 0 ? `no latent fires ${THRESHOLDS.minFirings} times in the ${n}-row sample` : 'KKT_off unavailable';
  // debiased STAT and the rows at which an unflagged atom would be resolved
  const statDebiased = new Float32Array(m).fill(NaN), rowsToResolve = new Float32Array(m).fill(NaN);
  const firings: number[] = [], need: number[] = [];
  for (let i = 0; i < m; i++) {
    if (!measured[i] || !Number.isFinite(stat[i])) continue;
    firings.push(count[i]);
    statDebiased[i] = Math.sqrt(Math.max(stat[i] ** 2 - statSE[i] ** 2, 0));
    if (!flagged[i] && statDebiased[i] > floor) {
      rowsToResolve[i] = Math.ceil(n * (sigmas * statSE[i] / statDebiased[i]) ** 2);
      need.push(rowsToResolve[i]);
    }
  }
  if (need.length < nMeasured) reason.rowsToResolve = 'rowsToResolve is null for flagged atoms and for atoms whose debiased STAT is within the floor ' + floor + ' (nothing left to decide)';
  if (need.length === 0) reason.summaryRowsToResolve = 'no unflagged atom has STAT above the noise floor: summary.rowsToResolve is null';
  let boot: ReturnType<typeof stationarityBootstrap> | undefined;
  if (opts.bootstrap !== false && nMeasured > 0 && (lambdaOk || !l1)) boot = stationarityBootstrap(cs, unitAtoms, lambdaE, measured, opts.bootstrap ?? BOOTSTRAP_DEFAULTS, l0Scale?.residualAlongPull, onScale?.perEntry,
    offOk && !missed.overflow ? { row: missed.row.subarray(0, missed.count), latent: missed.latent.subarray(0, missed.count), validRow, measured: Uint8Array.from(kktOff, (v) => (Number.isFinite(v) ? 1 : 0)) } : undefined);
  if (boot) { if (missed.overflow) reason.kktOffSE = `more than ${MAX_MISSED_RECORDED} missed activations: KKT_off has no bootstrap SE (its binomial SE is √(p(1 − p)/N_off))`; }
  else if (opts.bootstrap === false) reason.bootstrap = 'bootstrap SEs were not requested';
  else reason.bootstrap = nMeasured === 0 ? `no latent fires ${THRESHOLDS.minFirings} times in the ${n}-row sample` : 'λ_e is unavailable; pass --lambda-e';
  let maxKktOn = NaN;
  for (let i = 0; i < m; i++) if (measured[i] && Number.isFinite(kktOn[i])) maxKktOn = Number.isFinite(maxKktOn) ? Math.max(maxKktOn, kktOn[i]) : kktOn[i];
  const pull = opts.pull === false ? [] : pullDirections(g, unitAtoms, flagged, stat, statSE, live, m, d);
  return {
    source: cs.source, kind: cs.kind, rows: n, lambdaE, live: nLive, measured: nMeasured,
    perLatent: { firing, kktOn, kktOff, meanExcess, stat, rad, statSE, flagged, statDebiased, rowsToResolve, ...(boot ? { se: boot.perLatent, statFloorBootstrap: boot.statFloor } : {}) },
    summary: {
      kktOn: withSE(kOn, boot?.summary.kktOnMedian), kktOff: withSE(kOff, boot?.summary.kktOffMedian), stat: withSE(agg(stat, measured), boot?.summary.statMedian), rad: withSE(agg(rad, measured), boot?.summary.radMedian),
      fractionFlagged, statSE: agg(statSE, measured), firings: { median: quantile(firings, 0.5), p90: quantile(firings, 0.9) },
      unresolved: need.length, rowsToResolve: quantile(need, 0.5), codeQuality, maxKktOn,
    },
    pull, reason,
    bootstrap: boot ? { resamples: boot.resamples, seed: boot.seed, fractionFlaggedSE: boot.summary.fractionFlagged } : null,
  };
}

function withSE(a: Aggregate, se: number | undefined): Aggregate {
  return se === undefined ? a : { ...a, se: { median: se } };
}

/** t_i = P⊥_i g_i for flagged atoms (most significant first, capped); top atoms j by ⟨d̂_j, t_i⟩/‖t_i‖. */
function pullDirections(g: Float64Array, unitAtoms: Float32Array, flagged: Uint8Array, stat: Float32Array, se: Float32Array, live: Uint8Array, m: number, d: number): PullDirection[] {
  const list: number[] = [];
  for (let i = 0; i < m; i++) if (flagged[i]) list.push(i);
  list.sort((a, b) => stat[b] / (se[b] || 1e-30) - stat[a] / (se[a] || 1e-30));
  const chosen = list.slice(0, THRESHOLDS.maxPullAtoms);
  if (chosen.length === 0) return [];
  const t = new Float32Array(chosen.length * d);
  chosen.forEach((i, k) => {
    let rd = 0;
    for (let j = 0; j < d; j++) rd += g[i * d + j] * unitAtoms[i * d + j];
    let nrm = 0;
    for (let j = 0; j < d; j++) { const v = g[i * d + j] - rd * unitAtoms[i * d + j]; t[k * d + j] = v; nrm += v * v; }
    nrm = Math.sqrt(nrm);
    if (nrm > 0) for (let j = 0; j < d; j++) t[k * d + j] /= nrm;
  });
  const scores = matmulBT(t, unitAtoms, chosen.length, d, m);
  return chosen.map((i, k) => {
    const best: [number, number][] = [];
    for (let j = 0; j < m; j++) {
      if (j === i || !live[j]) continue;
      const s = scores[k * m + j];
      if (best.length < THRESHOLDS.pullTop || s > best[best.length - 1][0]) {
        best.push([s, j]);
        best.sort((a, b) => b[0] - a[0]);
        if (best.length > THRESHOLDS.pullTop) best.pop();
      }
    }
    return { latent: i, toward: best.map((b) => b[1]), score: best.map((b) => b[0]) };
  });
}
