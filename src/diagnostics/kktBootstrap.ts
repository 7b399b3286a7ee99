/**
 * Bootstrap standard errors of the B4 per-atom statistics (docs/theory.md §B4: "Bootstrap SEs are reported"):
 * STAT_i, RAD_i, the analytic noise floor SE_i, KKT_on and KKT_off, plus the headline aggregates (median
 * STAT, RAD, KKT_on and KKT_off, fraction flagged). Every resample reweights the same rows for every atom (a joint row
 * bootstrap), so aggregates over atoms get SEs too.
 *
 * It also gives the bootstrap version of the noise floor, √(mean_b ‖P⊥_i(g*_b − ĝ_i)‖²)/(λ_e m_i): the
 * RMS tangential jitter of the code-weighted residual between resamples. Its expectation is the analytic
 * SE_i, so it cross-checks that formula (docs/diagnostics.md, "Noise floor").
 *
 * Cost: per atom, one [d + 5, c_i] × [c_i, B] product of the atom's weighted residuals ã_{i,n} r_n (and five
 * scalars per firing) with the resample counts of its c_i firings (through fastMatmul): B·nnz·(d + 5)
 * multiply-adds in all.
 */
import { fastMatmul } from '../compute/fastMatmul';
import type { CodeSet } from './codeResiduals';
import { quantile } from './linalg';
import { BOOTSTRAP_DEFAULTS, resampleCounts, standardDeviation } from './bootstrap';
import type { BootstrapOptions } from './bootstrap';
import { statRule } from './thresholds';

export interface StationarityBootstrap {
  resamples: number;
  seed: number;
  /** Bootstrap SEs of the per-latent values (NaN where the value is NaN). */
  perLatent: { stat: Float32Array; rad: Float32Array; statSE: Float32Array; kktOn: Float32Array; kktOff: Float32Array };
  /** Bootstrap noise floor √(mean_b ‖P⊥(g*_b − ĝ)‖²)/(λ_e m_i): cross-check of the analytic SE_i. */
  statFloor: Float32Array;
  /** Bootstrap SEs of the headline aggregates over measured atoms. */
  summary: { statMedian: number; radMedian: number; kktOnMedian: number; kktOffMedian: number; fractionFlagged: number };
}

/**
 * KKT_off's missed activations, for its bootstrap: the (row, latent) pairs above the margin, the rows that
 * count (validRow), and the atoms with a KKT_off value. Firing rows always count, so under a resample
 * KKT_off*_i = Σ_missed w / (Σ_valid w − Σ_firings of i w).
 */
export interface MissedActivations { row: Int32Array; latent: Int32Array; validRow: Uint8Array; measured: Uint8Array }

/**
 * `measured` marks the atoms with enough firings (the same set as the report). L1 codes use the scale
 * λ_e m_i and have RAD; L0 codes use √(E[ã_i²]·E[⟨u_i, r⟩²]) (kkt.ts l0StatScale; `residualAlongPull` holds
 * E[⟨u_i, r⟩²], kept fixed across resamples) and have no RAD.
 */
export function stationarityBootstrap(cs: CodeSet, unitAtoms: Float32Array, lambdaE: number, measured: Uint8Array, opts: BootstrapOptions = {},
  residualAlongPull?: Float64Array, onScale?: Float32Array, missed?: MissedActivations): StationarityBootstrap {
  const { n, m, d, rowPtr, idx: latent, val: value, onProj, residual } = cs;
  const B = opts.resamples ?? BOOTSTRAP_DEFAULTS.resamples, seed = opts.seed ?? BOOTSTRAP_DEFAULTS.seed;
  const l1 = cs.kind === 'l1';
  const rule = statRule(cs.kind);
  const w = resampleCounts(n, B, seed);
  // column view of the codes: per latent, its rows, values and nonzero index (for onProj)
  const colPtr = new Int32Array(m + 1);
  for (let k = 0; k < latent.length; k++) colPtr[latent[k]! + 1]!++;
  for (let i = 0; i < m; i++) colPtr[i + 1]! += colPtr[i]!;
  const fill = colPtr.slice(0, m), colRow = new Int32Array(latent.length), colNz = new Int32Array(latent.length);
  for (let r = 0; r < n; r++) for (let k = rowPtr[r]!; k < rowPtr[r + 1]!; k++) { const t = fill[latent[k]!]!++; colRow[t] = r; colNz[t] = k; }
  const rowNorm2 = new Float64Array(n);
  for (let r = 0; r < n; r++) { let s = 0; for (let j = 0; j < d; j++) s += residual[r * d + j]! ** 2; rowNorm2[r] = s; }
  if (!l1 && !onScale) throw new Error('stationarityBootstrap: L0 codes need the KKT_on scale per entry (kkt.ts l0OnScale)');
  const nan = () => new Float32Array(m).fill(NaN);
  const seStat = nan(), seRad = nan(), seFloor = nan(), seKktOn = nan(), seKktOff = nan(), statFloor = nan();
  // per resample, per atom (for the aggregates)
  const statB = new Float32Array(B * m).fill(NaN), radB = new Float32Array(B * m).fill(NaN), kktOnB = new Float32Array(B * m).fill(NaN), flagB = new Uint8Array(B * m);
  const one = new Float64Array(B), floorB = new Float64Array(B);
  // counts by row ([n, B]) so that an atom's firings gather contiguous blocks
  const wByRow = new Float32Array(n * B);
  for (let b = 0; b < B; b++) for (let r = 0; r < n; r++) wByRow[r * B + b] = w[b * n + r]!;
  // KKT_off: per resample, the weight of the valid rows and of each atom's missed activations
  const kktOffB = new Float32Array(B * m).fill(NaN);
  const validW = new Float64Array(B), missedW = new Float64Array(missed ? B * m : 0);
  if (missed) {
    for (let r = 0; r < n; r++) if (missed.validRow[r]) for (let b = 0; b < B; b++) validW[b]! += wByRow[r * B + b]!;
    for (let e = 0; e < missed.row.length; e++) {
      const r = missed.row[e]!, i = missed.latent[e]!;
      for (let b = 0; b < B; b++) missedW[b * m + i]! += wByRow[r * B + b]!;
    }
    // every atom with a KKT_off (live, not only measured): the weight of its firings, then KKT_off*
    const fireW = new Float64Array(B * m);
    for (let r = 0; r < n; r++) for (let k = rowPtr[r]!; k < rowPtr[r + 1]!; k++) {
      const i = latent[k]!;
      for (let b = 0; b < B; b++) fireW[b * m + i]! += wByRow[r * B + b]!;
    }
    for (let i = 0; i < m; i++) {
      if (!missed.measured[i]) continue;
      for (let b = 0; b < B; b++) { const den = validW[b]! - fireW[b * m + i]!; if (den > 0) kktOffB[b * m + i] = missedW[b * m + i]! / den; }
      seKktOff[i] = standardDeviation(Float64Array.from({ length: B }, (_, b) => kktOffB[b * m + i]!));
    }
  }
  // per resample b: Σ_t w ã r (d columns), then Σ w ã, Σ w ‖P⊥(ã r)‖², Σ w dev², Σ w, Σ w ã² — one GEMM per atom
  const cols = d + 5;
  if (!l1 && !residualAlongPull) throw new Error('stationarityBootstrap: L0 codes need residualAlongPull');
  const rad = new Float64Array(B), gg = new Float64Array(B), dRad = new Float64Array(B), dd = new Float64Array(B);
  for (let i = 0; i < m; i++) {
    if (!measured[i]) continue;
    const c0 = colPtr[i]!, c = colPtr[i + 1]! - c0;
    const Vt = new Float32Array(cols * c), Wt = new Float32Array(c * B);
    for (let t = 0; t < c; t++) {
      const r = colRow[c0 + t]!, k = colNz[c0 + t]!, a = value[k]!, p = onProj[k]!;
      const dv = l1 ? (p - lambdaE) / lambdaE : p / onScale![k]!;
      for (let j = 0; j < d; j++) Vt[j * c + t] = a * residual[r * d + j]!;
      Vt[d * c + t] = a;
      Vt[(d + 1) * c + t] = a * a * Math.max(rowNorm2[r]! - p * p, 0); // ‖P⊥(ã r)‖²
      Vt[(d + 2) * c + t] = dv * dv;
      Vt[(d + 3) * c + t] = 1;
      Vt[(d + 4) * c + t] = a * a;
      Wt.set(wByRow.subarray(r * B, r * B + B), t * B);
    }
    const GT = fastMatmul(Vt, Wt, cols, c, B); // [cols, B]
    // the full-sample values ĝ, m̂ (weights 1)
    let mHat = 0;
    const gHat = new Float64Array(d);
    for (let j = 0; j < d; j++) { let v = 0; for (let t = 0; t < c; t++) v += Vt[j * c + t]!; gHat[j] = v / n; }
    for (let t = 0; t < c; t++) mHat += Vt[d * c + t]!;
    mHat /= n;
    rad.fill(0); gg.fill(0); dRad.fill(0); dd.fill(0);
    for (let j = 0; j < d; j++) {
      const u = unitAtoms[i * d + j]!, gh = gHat[j]!, o = j * B;
      for (let b = 0; b < B; b++) {
        const gj = GT[o + b]! / n, dj = gj - gh;
        rad[b]! += gj * u; gg[b]! += gj * gj; dRad[b]! += dj * u; dd[b]! += dj * dj;
      }
    }
    let a2Hat = 0;
    for (let t = 0; t < c; t++) a2Hat += Vt[(d + 4) * c + t]!;
    a2Hat /= n;
    const along = l1 ? 0 : Math.max(residualAlongPull![i]!, 0);
    // the bootstrap noise floor: RMS tangential jitter of g*, in units of the full-sample scale
    const scaleHat = l1 ? lambdaE * mHat : Math.sqrt(a2Hat * along);
    let jitter = 0;
    for (let b = 0; b < B; b++) jitter += Math.max(dd[b]! - dRad[b]! ** 2, 0);
    statFloor[i] = scaleHat > 0 ? Math.sqrt(jitter / B) / scaleHat : NaN;
    for (let b = 0; b < B; b++) {
      const mb = GT[d * B + b]! / n, qb = GT[(d + 1) * B + b]!, devb = GT[(d + 2) * B + b]!, wb = GT[(d + 3) * B + b]!;
      const tan2 = Math.max(gg[b]! - rad[b]! ** 2, 0);
      const scale = l1 ? lambdaE * mb : Math.sqrt((GT[(d + 4) * B + b]! / n) * along);
      if (!(scale > 0) || !(wb > 0)) { one[b] = NaN; floorB[b] = NaN; continue; }
      const stat = Math.sqrt(tan2) / scale;
      const floor = Math.sqrt(Math.max(qb / n - tan2, 0) / n) / scale;
      one[b] = stat; floorB[b] = floor;
      statB[b * m + i] = stat;
      if (l1) radB[b * m + i] = rad[b]! / scale - 1;
      kktOnB[b * m + i] = Math.sqrt(devb / wb);
      if (stat > Math.max(rule.sigmas * floor, rule.floor)) flagB[b * m + i] = 1;
    }
    seStat[i] = standardDeviation(one);
    seFloor[i] = standardDeviation(floorB);
    if (l1) seRad[i] = standardDeviation(Float64Array.from({ length: B }, (_, b) => radB[b * m + i]!));
    seKktOn[i] = standardDeviation(Float64Array.from({ length: B }, (_, b) => kktOnB[b * m + i]!));
  }
  // aggregates per resample → their SEs
  const medStat = new Float64Array(B), medRad = new Float64Array(B), medKkt = new Float64Array(B), medOff = new Float64Array(B), frac = new Float64Array(B);
  let nMeasured = 0;
  for (let i = 0; i < m; i++) if (measured[i]) nMeasured++;
  for (let b = 0; b < B; b++) {
    const s: number[] = [], r: number[] = [], k: number[] = [];
    let flagged = 0;
    for (let i = 0; i < m; i++) {
      if (!measured[i]) continue;
      s.push(statB[b * m + i]!); r.push(radB[b * m + i]!); k.push(kktOnB[b * m + i]!);
      flagged += flagB[b * m + i]!;
    }
    medStat[b] = quantile(s, 0.5); medRad[b] = quantile(r, 0.5); medKkt[b] = quantile(k, 0.5);
    if (missed) medOff[b] = quantile(kktOffB.subarray(b * m, (b + 1) * m), 0.5);
    frac[b] = nMeasured ? flagged / nMeasured : NaN;
  }
  return {
    resamples: B, seed,
    perLatent: { stat: seStat, rad: seRad, statSE: seFloor, kktOn: seKktOn, kktOff: seKktOff },
    statFloor,
    summary: { statMedian: standardDeviation(medStat), radMedian: standardDeviation(medRad), kktOnMedian: standardDeviation(medKkt), kktOffMedian: missed ? standardDeviation(medOff) : NaN, fractionFlagged: standardDeviation(frac) },
  };
}

