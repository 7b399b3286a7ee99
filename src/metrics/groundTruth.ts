/**
 * Metrics of an SAE against synthetic ground truth (docs/theory.md §G): decoder MMCS (signed, primary),
 * recovery@τ by max cosine and by one-to-one Hungarian matching, L_GT (Cui, adapted), AAF (average
 * activated features), and the encoder-side |cos| (Tang's M_IP) reported separately, because L1 encoders
 * learn interference-cancelling directions and a low encoder similarity is not a dictionary failure.
 */
import { fastMatmulBT as matmulBT } from '../compute/fastMatmul';
import { normalizeRows } from '../compute/linalg';
import { InputError } from '../errors';
import { decoderNorms, forward } from '../sae/forward';
import type { Sae } from '../sae/types';
import type { GroundTruth } from '../synthetic';
import { hungarianMax } from './hungarian';

export const RECOVERY_THRESHOLDS = [0.9, 0.95] as const;
/** Above this many score cells the Hungarian matching only considers each feature's top candidates. */
const HUNGARIAN_FULL_LIMIT = 4_000_000;
const HUNGARIAN_CANDIDATES = 16;

export interface GroundTruthMetrics {
  features: number;
  liveLatents: number;
  /** How liveness was decided: firing on the given rows, or nonzero decoder norm when no rows were given. */
  liveBasis: 'firing' | 'decoder-norm';
  mmcs: number;
  recovery: Record<string, number>;
  recoveryHungarian: Record<string, number>;
  meanHungarianCos: number;
  /** Tang's M_IP: mean over features of max over live latents of |cos(w_d, encoder column)|. */
  encoderMaxAbsCos: number;
  lGT: number | null;
  aaf: number;
  /** Fraction of live latents firing on ≥ 2 pure features (polysemantic) and on none. */
  polysemanticFraction: number;
  silentFraction: number;
  explainedVariance: number | null;
  /** Per feature: best latent by decoder cosine, its cosine, the Hungarian latent and its cosine. */
  perFeature: { bestLatent: Int32Array; bestCos: Float32Array; matchedLatent: Int32Array; matchedCos: Float32Array };
  /** Plain-language reading, e.g. "reconstruction good, recovery poor" (G7). */
  verdict: string;
  reason: Record<string, string>;
}

/** Whether the ground truth fits the SAE (an InputError naming `source` if not). */
export function checkGroundTruth(sae: Sae, gt: GroundTruth, source = '--ground-truth'): void {
  if (sae.cfg.transcoder) throw new InputError(source, 'ground-truth metrics compare an SAE with the features of its own input; this is a transcoder');
  if (sae.cfg.dIn !== gt.d) throw new InputError(source, `the ground truth has d ${gt.d} but the SAE has d_in ${sae.cfg.dIn}`);
}

/** Live latents: fire at least once on the rows (if given), else have a nonzero decoder row. */
function liveLatents(sae: Sae, codes: Float32Array | undefined, n: number): Int32Array {
  const m = sae.cfg.dSae;
  const norms = decoderNorms(sae);
  const live: number[] = [];
  if (codes) {
    const fired = new Uint8Array(m);
    for (let r = 0; r < n; r++) for (let i = 0; i < m; i++) if (codes[r * m + i] > 0) fired[i] = 1;
    for (let i = 0; i < m; i++) if (fired[i] && norms[i] > 0) live.push(i);
  } else for (let i = 0; i < m; i++) if (norms[i] > 0) live.push(i);
  return Int32Array.from(live);
}

/** Rows of W_dec (or columns of W_enc) for the given latents, normalised. */
function unitRows(sae: Sae, latents: Int32Array, side: 'decoder' | 'encoder'): Float32Array {
  const d = sae.cfg.dIn, m = sae.cfg.dSae;
  const out = new Float32Array(latents.length * d);
  latents.forEach((lat, k) => {
    for (let j = 0; j < d; j++) out[k * d + j] = side === 'decoder' ? sae.wDec[lat * d + j] : sae.wEnc[j * m + lat];
  });
  normalizeRows(out, latents.length, d);
  return out;
}

/** One-to-one matching of features (rows) to latents (columns) maximising total cosine; −1 = unmatched. */
export function matchFeatures(cos: Float32Array, f: number, l: number): Int32Array {
  if (l === 0) return new Int32Array(f).fill(-1);
  if (f <= l && f * l <= HUNGARIAN_FULL_LIMIT) return hungarianMax(cos, f, l);
  if (f > l) {
    // more features than latents: match latents to features, then invert
    const t = new Float32Array(l * f);
    for (let a = 0; a < f; a++) for (let b = 0; b < l; b++) t[b * f + a] = cos[a * l + b];
    const byLatent = l * f <= HUNGARIAN_FULL_LIMIT ? hungarianMax(t, l, f) : greedyMatch(t, l, f);
    const out = new Int32Array(f).fill(-1);
    byLatent.forEach((feat, lat) => { if (feat >= 0) out[feat] = lat; });
    return out;
  }
  // large: restrict each feature to its top candidates, then Hungarian on the union of those columns
  const cand = new Set<number>();
  for (let a = 0; a < f; a++) {
    const row = Array.from(cos.subarray(a * l, (a + 1) * l).keys()).sort((x, y) => cos[a * l + y] - cos[a * l + x]).slice(0, HUNGARIAN_CANDIDATES);
    for (const c of row) cand.add(c);
  }
  const cols = [...cand];
  if (f * cols.length > HUNGARIAN_FULL_LIMIT * 4) return greedyMatch(cos, f, l);
  const sub = new Float32Array(f * cols.length);
  for (let a = 0; a < f; a++) cols.forEach((c, k) => { sub[a * cols.length + k] = cos[a * l + c]; });
  const assign = cols.length >= f ? hungarianMax(sub, f, cols.length) : greedyMatch(sub, f, cols.length);
  return assign.map((k) => (k >= 0 ? cols[k] : -1));
}

/** Greedy one-to-one matching by descending score (fallback for very large problems). */
function greedyMatch(score: Float32Array, rows: number, cols: number): Int32Array {
  const pairs: [number, number, number][] = [];
  for (let a = 0; a < rows; a++) for (let b = 0; b < cols; b++) pairs.push([score[a * cols + b], a, b]);
  pairs.sort((p, q) => q[0] - p[0]);
  const out = new Int32Array(rows).fill(-1);
  const usedCol = new Uint8Array(cols);
  for (const [, a, b] of pairs) if (out[a] < 0 && !usedCol[b]) { out[a] = b; usedCol[b] = 1; }
  return out;
}

/** Mean magnitude of each feature when active (from the codes), else the generators' default 1.5. */
function meanMagnitudes(gt: GroundTruth): Float64Array {
  const f = gt.nFeatures;
  const mu = new Float64Array(f).fill(1.5);
  if (gt.codes && gt.n) {
    const sum = new Float64Array(f), cnt = new Float64Array(f);
    for (let r = 0; r < gt.n; r++) for (let i = 0; i < f; i++) { const v = gt.codes[r * f + i]; if (v > 0) { sum[i] += v; cnt[i]++; } }
    for (let i = 0; i < f; i++) if (cnt[i] > 0) mu[i] = sum[i] / cnt[i];
  }
  return mu;
}

/**
 * Ground-truth metrics for `sae` against `gt`. With activation rows `x` (the dataset's own rows, aligned
 * with gt.codes), liveness comes from firing, and L_GT and explained variance are computed too.
 */
export function groundTruthMetrics(sae: Sae, gt: GroundTruth, x?: Float32Array, n = x ? x.length / sae.cfg.dIn : 0): GroundTruthMetrics {
  checkGroundTruth(sae, gt);
  const d = gt.d, f = gt.nFeatures, m = sae.cfg.dSae;
  const reason: Record<string, string> = {};
  const fw = x ? forward(sae, x, n) : undefined;
  const live = liveLatents(sae, fw?.codes, n);
  const l = live.length;
  const dec = unitRows(sae, live, 'decoder');
  const enc = unitRows(sae, live, 'encoder');
  const cos = l ? matmulBT(gt.features, dec, f, d, l) : new Float32Array(0);
  const encCos = l ? matmulBT(gt.features, enc, f, d, l) : new Float32Array(0);
  const bestLatent = new Int32Array(f).fill(-1), bestCos = new Float32Array(f).fill(NaN);
  let mmcs = 0, mip = 0;
  for (let a = 0; a < f; a++) {
    let best = -Infinity, bi = -1, bestAbs = 0;
    for (let b = 0; b < l; b++) {
      const c = cos[a * l + b];
      if (c > best) { best = c; bi = b; }
      bestAbs = Math.max(bestAbs, Math.abs(encCos[a * l + b]));
    }
    if (bi >= 0) { bestLatent[a] = live[bi]; bestCos[a] = best; mmcs += best; }
    mip += bestAbs;
  }
  const match = matchFeatures(cos, f, l);
  const matchedLatent = new Int32Array(f).fill(-1), matchedCos = new Float32Array(f).fill(NaN);
  let hungSum = 0;
  for (let a = 0; a < f; a++) if (match[a] >= 0) { matchedLatent[a] = live[match[a]]; matchedCos[a] = cos[a * l + match[a]]; hungSum += matchedCos[a]; }
  const recovery: Record<string, number> = {}, recoveryHungarian: Record<string, number> = {};
  for (const t of RECOVERY_THRESHOLDS) {
    recovery[String(t)] = l ? bestCos.reduce((acc, c) => acc + (c > t ? 1 : 0), 0) / f : 0;
    recoveryHungarian[String(t)] = l ? matchedCos.reduce((acc, c) => acc + (c > t ? 1 : 0), 0) / f : 0;
  }
  if (l === 0) reason.mmcs = 'no live latents: every latent is dead on the given rows (or has a zero decoder row)';

  // AAF: which latents fire on each pure feature μ_d w_d + b_true
  const mu = meanMagnitudes(gt);
  const pure = new Float32Array(f * d);
  for (let a = 0; a < f; a++) for (let j = 0; j < d; j++) pure[a * d + j] = mu[a] * gt.features[a * d + j] + gt.bias[j];
  const pureCodes = forward(sae, pure, f).codes;
  const liveSet = new Uint8Array(m);
  for (const i of live) liveSet[i] = 1;
  const featCount = new Int32Array(m);
  for (let a = 0; a < f; a++) for (let i = 0; i < m; i++) if (pureCodes[a * m + i] > 0) featCount[i]++;
  let aafSum = 0, poly = 0, silent = 0;
  for (const i of live) { aafSum += featCount[i]; if (featCount[i] >= 2) poly++; if (featCount[i] === 0) silent++; }

  let lGT: number | null = null, ev: number | null = null;
  if (x && fw) {
    let sse = 0, sst = 0;
    const mean = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += x[r * d + j] / n;
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) {
      sse += (x[r * d + j] - fw.recon[r * d + j]) ** 2;
      sst += (x[r * d + j] - mean[j]) ** 2;
    }
    ev = sst > 0 ? 1 - sse / sst : null;
    if (ev === null) reason.explainedVariance = 'the activations have zero variance';
    // The rows given are the first n rows of the generated data, so the codes' first n rows align with them.
    if (gt.codes && gt.n !== undefined && n <= gt.n) {
      const norms = decoderNorms(sae);
      let num = 0, den = 0;
      for (let r = 0; r < n; r++) for (let a = 0; a < f; a++) {
        const s = gt.codes[r * f + a];
        const lat = matchedLatent[a];
        const eff = lat >= 0 ? fw.codes[r * m + lat] * norms[lat] : 0;
        num += (s - eff) ** 2;
        den += s * s;
      }
      lGT = den > 0 ? num / den : null;
      if (lGT === null) reason.lGT = 'the ground-truth codes are all zero';
    } else reason.lGT = gt.codes ? `the ground-truth codes have ${gt.n} rows but ${n} activation rows were given (more rows than codes)` : 'the ground-truth file holds no codes (too large when written)';
  } else {
    reason.lGT = 'needs the activation rows aligned with the ground-truth codes';
    reason.explainedVariance = 'needs activation rows';
  }
  const recov = recovery['0.9'];
  const verdict = ev !== null && ev > 0.95 && recov < 0.5 ? 'reconstruction good, recovery poor: the data admit a zero-loss dictionary unlike the ground truth (non-identifiable, cf. G7)'
    : recov >= 0.9 ? 'the dictionary recovers the ground-truth features'
      : mmcs / Math.max(f, 1) >= 0.7 ? 'partial recovery: most features have a close atom, some are merged or split'
        : 'poor recovery';
  return {
    features: f, liveLatents: l, liveBasis: x ? 'firing' : 'decoder-norm',
    mmcs: l ? mmcs / f : NaN, recovery, recoveryHungarian, meanHungarianCos: l ? hungSum / f : NaN,
    encoderMaxAbsCos: l ? mip / f : NaN, lGT, aaf: l ? aafSum / l : NaN,
    polysemanticFraction: l ? poly / l : NaN, silentFraction: l ? silent / l : NaN, explainedVariance: ev,
    perFeature: { bestLatent, bestCos, matchedLatent, matchedCos }, verdict, reason,
  };
}

/** Text lines for the eval/diagnose summaries. */
export function formatGroundTruthMetrics(g: GroundTruthMetrics): string[] {
  const p = (v: number | null): string => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(3));
  return [
    `ground truth: ${g.features} features, ${g.liveLatents} live latents (${g.liveBasis})`,
    `  decoder MMCS ${p(g.mmcs)}; recovery@0.9 ${p(g.recovery['0.9'])} (one-to-one ${p(g.recoveryHungarian['0.9'])}), @0.95 ${p(g.recovery['0.95'])} (one-to-one ${p(g.recoveryHungarian['0.95'])})`,
    `  encoder max |cos| (M_IP) ${p(g.encoderMaxAbsCos)} — reported apart: L1 encoders cancel interference, so low values here are not a dictionary failure`,
    `  L_GT ${p(g.lGT)}${g.reason.lGT ? ` (${g.reason.lGT})` : ''}; AAF ${p(g.aaf)} (ideal 1; polysemantic ${p(g.polysemanticFraction)}, silent ${p(g.silentFraction)})`,
    `  ${g.verdict}`,
  ];
}
