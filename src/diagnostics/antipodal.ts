/**
 * Antipodal pairs (docs/theory.md §C2). A dense two-sided direction v forces nonnegative codes to use atoms ±v:
 * (i, j) is a dense antipodal pair if cos(d̂_i, d̂_j) ≤ −0.9, min(p_i, p_j) ≥ 0.05 and they (almost) never
 * fire together (P(both)/min p ≤ 0.05). Reported with the axis u = normalise(d̂_i − d̂_j), the variance share
 * of ŝ = ã_i − ã_j and |cos(u, top-5 PCs of x)|. Rarer pairs are sparse antipodal (e.g. TMS digons, G4).
 */
import { covariance } from '../compute/linalg';
import { symmetricEigen } from './linalg';
import type { CodeSet } from './codeResiduals';
import type { AtomPairs } from './atomPairs';
import { THRESHOLDS } from './thresholds';

export interface AntipodalPair {
  i: number;
  j: number;
  cos: number;
  pI: number;
  pJ: number;
  /** P(both)/min(p_i, p_j). */
  coactivation: number;
  kind: 'dense' | 'sparse' | 'coactive';
  axis: Float32Array;
  /** Var(ã_i − ã_j)/E‖x − b‖². */
  varianceShare: number;
  /** |cos(u, PC_k)| for the top principal components of x. */
  pcAlignment: number[];
  /**
   * Excess kurtosis of ŝ. A dense Gaussian-like direction gives ≈ 0 (slightly negative after thresholding);
   * a pair of genuine sparse opposite features (digons) gives a heavy tail (≈ 1/p). Calibrated in docs.
   */
  kurtosis: number;
}

/**
 * One dense direction ±v as the SAE encodes it. A trained SAE often spreads +v over several latents and −v
 * over several others (each a slightly different threshold), so k₊ × k₋ dense pairs describe one axis;
 * docs/theory.md's "exactly one dense antipodal pair" for G3 is one axis here (docs/diagnostics.md, calibration).
 */
export interface DenseAxis {
  /** Unit axis: the mean of its pairs' axes, oriented like the first pair's. */
  axis: Float32Array;
  /** Latents on the + side (along the axis) and on the − side. */
  plus: number[];
  minus: number[];
  pairs: number;
  /**
   * The axis's share of the variance: Var(⟨u, x − b⟩)/E‖x − b‖² for the unit axis u. (A pair's own
   * Var(ã_i − ã_j) share is a small part of it when many latents split the axis between them.)
   */
  varianceShare: number;
  /** Σ of the codes on the sample per side, strongest first (the latents that carry most of the axis). */
  strongestPlus: number[];
  strongestMinus: number[];
  /** |cos(axis, PC_k)|. */
  pcAlignment: number[];
  /** Excess kurtosis of the axis code ŝ = Σ₊ ã − Σ₋ ã (all latents of the axis, so a split ±v is whole again). */
  kurtosis: number;
}

export interface AntipodalReport {
  dense: AntipodalPair[];
  /** Dense pairs grouped into axes: latents joined by a dense pair belong to one axis. */
  denseAxes: DenseAxis[];
  sparse: AntipodalPair[];
  /** cos ≤ −0.9 and dense, but co-firing too often to be the ±v mechanism. */
  coactive: AntipodalPair[];
  pcVarianceShare: number[];
  reason: Record<string, string>;
}

export function antipodalPairs(cs: CodeSet, unitAtoms: Float32Array, pairs: AtomPairs, x: Float32Array, bDec: Float32Array, pcRows = 4096): AntipodalReport {
  const { n, m, d, rowPtr, idx: latent, val: value } = cs;
  const reason: Record<string, string> = {};
  const out: AntipodalReport = { dense: [], denseAxes: [], sparse: [], coactive: [], pcVarianceShare: [], reason };
  if (pairs.antipodal.length === 0) return out;
  // the per-row code of each latent involved (dense lookup only for those latents)
  const involved = new Int32Array(m).fill(-1);
  const list: number[] = [];
  for (const p of pairs.antipodal) for (const i of [p.i, p.j]) if (involved[i] < 0) { involved[i] = list.length; list.push(i); }
  const codeOf = new Float32Array(n * list.length);
  for (let r = 0; r < n; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) { const slot = involved[latent[k]]; if (slot >= 0) codeOf[r * list.length + slot] = value[k]; }
  // E‖x − b‖² and the top principal components of x (on a row subsample: PCs of x are stable at a few thousand rows)
  let energy = 0;
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) energy += (x[r * d + j] - bDec[j]) ** 2;
  energy /= n;
  const pcN = Math.min(n, pcRows);
  const cov = covariance(x, pcN, d);
  const k = Math.min(THRESHOLDS.antipodalPcs, d);
  // the exact eigensolver of the residual spectrum (one in the codebase); the top k are its first rows
  const eig = symmetricEigen(cov, d);
  let trace = 0;
  for (let j = 0; j < d; j++) trace += cov[j * d + j];
  out.pcVarianceShare = Array.from(eig.values.subarray(0, k), (v) => (trace > 0 ? v / trace : NaN));
  for (const p of pairs.antipodal) {
    const si = involved[p.i], sj = involved[p.j], w = list.length;
    let ci = 0, cj = 0, both = 0, s1 = 0, s2 = 0;
    for (let r = 0; r < n; r++) {
      const a = codeOf[r * w + si], b = codeOf[r * w + sj];
      if (a > 0) ci++;
      if (b > 0) cj++;
      if (a > 0 && b > 0) both++;
      const s = a - b;
      s1 += s; s2 += s * s;
    }
    const mu = s1 / n;
    let m2 = 0, m4 = 0;
    for (let r = 0; r < n; r++) { const z = codeOf[r * w + si] - codeOf[r * w + sj] - mu; m2 += z * z; m4 += z ** 4; }
    m2 /= n; m4 /= n;
    const kurtosis = m2 > 0 ? m4 / (m2 * m2) - 3 : NaN;
    const pI = ci / n, pJ = cj / n, minP = Math.min(pI, pJ);
    const coactivation = minP > 0 ? both / n / minP : 0;
    const axis = new Float32Array(d);
    let nrm = 0;
    for (let j = 0; j < d; j++) { axis[j] = unitAtoms[p.i * d + j] - unitAtoms[p.j * d + j]; nrm += axis[j] ** 2; }
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < d; j++) axis[j] /= nrm || 1;
    const varS = s2 / n - (s1 / n) ** 2;
    const pcAlignment: number[] = [];
    for (let t = 0; t < k; t++) { let c = 0; for (let j = 0; j < d; j++) c += axis[j] * eig.vectors[t * d + j]; pcAlignment.push(Math.abs(c)); }
    const kind: AntipodalPair['kind'] = minP < THRESHOLDS.antipodalDenseP ? 'sparse' : coactivation <= THRESHOLDS.antipodalCoactivation ? 'dense' : 'coactive';
    const pair: AntipodalPair = { i: p.i, j: p.j, cos: p.cos, pI, pJ, coactivation, kind, axis, varianceShare: energy > 0 ? varS / energy : NaN, pcAlignment, kurtosis };
    out[kind].push(pair);
  }
  const axisShare = (u: Float32Array): number => {
    let s1 = 0, s2 = 0;
    for (let r = 0; r < n; r++) { let c = 0; for (let j = 0; j < d; j++) c += u[j] * (x[r * d + j] - bDec[j]); s1 += c; s2 += c * c; }
    return energy > 0 ? (s2 / n - (s1 / n) ** 2) / energy : NaN;
  };
  out.denseAxes = groupAxes(out.dense, unitAtoms, d, eig.vectors, k, (lat) => { const slot = involved[lat], w = list.length; return (r: number) => codeOf[r * w + slot]; }, n, axisShare);
  // Opposite sparse features that fire often (digons) pass the frequency rule; their axis code is
  // heavy-tailed, a dense direction's is not: such axes are sparse pairs (calibrated on trained SAEs).
  const heavy = out.denseAxes.filter((a) => a.kurtosis > THRESHOLDS.antipodalHeavyTail);
  if (heavy.length) {
    const lat = new Set(heavy.flatMap((a) => [...a.plus, ...a.minus]));
    const moved = out.dense.filter((p) => lat.has(p.i));
    out.dense = out.dense.filter((p) => !lat.has(p.i));
    for (const p of moved) out.sparse.push({ ...p, kind: 'sparse' });
    out.denseAxes = out.denseAxes.filter((a) => a.kurtosis <= THRESHOLDS.antipodalHeavyTail);
  }
  if (energy === 0) reason.varianceShare = 'E‖x − b‖² is 0 on the sample';
  if ([...out.dense, ...out.sparse, ...out.coactive].some((p) => !Number.isFinite(p.kurtosis))) reason.kurtosis = 'null where ŝ is constant on the sample (neither latent fires)';
  return out;
}

/** Connected components of the dense pairs (union-find on latents); each component is one axis. */
function groupAxes(dense: AntipodalPair[], unitAtoms: Float32Array, d: number, pcs: Float64Array, k: number, codeOf: (lat: number) => (r: number) => number, n: number, axisShare: (u: Float32Array) => number): DenseAxis[] {
  const parent = new Map<number, number>();
  const find = (a: number): number => { let r = a; while (parent.get(r) !== r) r = parent.get(r)!; parent.set(a, r); return r; };
  // Latents joined by a dense pair share an axis; so do pairs whose axes are parallel (|cos| ≥ −antipodalCos):
  // when many latents split ±v, some of their cross pairs co-fire a little and are not dense pairs, which
  // would otherwise cut one axis into several.
  const reps: AntipodalPair[] = [];
  for (const p of dense) {
    if (!parent.has(p.i)) parent.set(p.i, p.i);
    if (!parent.has(p.j)) parent.set(p.j, p.j);
    parent.set(find(p.i), find(p.j));
    const q = reps.find((r) => { let c = 0; for (let j = 0; j < d; j++) c += r.axis[j] * p.axis[j]; return Math.abs(c) >= -THRESHOLDS.antipodalCos; });
    if (q) parent.set(find(p.i), find(q.i)); else reps.push(p);
  }
  const groups = new Map<number, AntipodalPair[]>();
  for (const p of dense) { const r = find(p.i); (groups.get(r) ?? groups.set(r, []).get(r)!).push(p); }
  const axes: DenseAxis[] = [];
  for (const pairs of groups.values()) {
    const ref = pairs[0]!.axis;
    const axis = new Float32Array(d);
    for (const p of pairs) {
      let c = 0;
      for (let j = 0; j < d; j++) c += p.axis[j] * ref[j];
      const sgn = c >= 0 ? 1 : -1;
      for (let j = 0; j < d; j++) axis[j] += sgn * p.axis[j];
    }
    let nrm = 0;
    for (let j = 0; j < d; j++) nrm += axis[j] ** 2;
    nrm = Math.sqrt(nrm) || 1;
    for (let j = 0; j < d; j++) axis[j] /= nrm;
    const plus: number[] = [], minus: number[] = [];
    for (const lat of new Set(pairs.flatMap((p) => [p.i, p.j]))) {
      let c = 0;
      for (let j = 0; j < d; j++) c += unitAtoms[lat * d + j] * axis[j];
      (c >= 0 ? plus : minus).push(lat);
    }
    const pcAlignment: number[] = [];
    for (let t = 0; t < k; t++) { let c = 0; for (let j = 0; j < d; j++) c += axis[j] * pcs[t * d + j]; pcAlignment.push(Math.abs(c)); }
    const sh = new Float64Array(n);
    const mass = new Map<number, number>();
    for (const [side, sign] of [[plus, 1], [minus, -1]] as const) for (const lat of side) {
      const c = codeOf(lat);
      let m = 0;
      for (let r = 0; r < n; r++) { const v = c(r); sh[r] += sign * v; m += v; }
      mass.set(lat, m);
    }
    const strongest = (side: number[]): number[] => [...side].sort((a, b) => mass.get(b)! - mass.get(a)!).slice(0, 3);
    axes.push({ axis, plus: plus.sort((a, b) => a - b), minus: minus.sort((a, b) => a - b), pairs: pairs.length, varianceShare: axisShare(axis), strongestPlus: strongest(plus), strongestMinus: strongest(minus), pcAlignment, kurtosis: excessKurtosis(sh) });
  }
  return axes.sort((a, b) => b.varianceShare - a.varianceShare);
}

function excessKurtosis(v: Float64Array): number {
  const n = v.length;
  let mu = 0;
  for (let r = 0; r < n; r++) mu += v[r] / n;
  let m2 = 0, m4 = 0;
  for (let r = 0; r < n; r++) { const z = v[r] - mu; m2 += z * z; m4 += z ** 4; }
  m2 /= n; m4 /= n;
  return m2 > 0 ? m4 / (m2 * m2) - 3 : NaN;
}
