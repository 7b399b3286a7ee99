/**
 * C3 — absorption (docs/theory.md §C C3). At the optimum for a child nested in a parent, the dictionary keeps
 * the parent atom and a merged atom ∝ E[x − b | child event]; the parent latent then goes silent where the
 * child fires (full absorption) or fires weakly there (partial). The unsupervised detector finds, for each
 * parent latent p, rows where p's direction is present but p is off ("holes"), and attributes each hole to
 * the active latent that carries p's direction (the absorber). With ground truth, the true rate.
 */
import { parallelMatmulBT as matmulBT } from './linalg';
import type { DiagnosticContext } from './context';
import { dotAt, maxAssignment, median } from './linalg';
import { coFiringCandidates, firesIn, firingCounts, latentRows, pairStats } from './encoderCodes';
import type { LatentRows, SparseCodes } from './encoderCodes';
import { ABSORPTION } from './thresholds';

export interface AbsorptionGroundTruth {
  /** Unit feature directions [nFeatures, d_out]. */
  features: Float32Array;
  nFeatures: number;
  /** True feature magnitudes on the same rows [n, nFeatures]. */
  codes: Float32Array;
  hierarchy: { parent: number; children: number[] }[];
}

export interface AbsorptionOptions {
  /** Parent latents to examine (default: every live latent). */
  parents?: number[];
  /** Absorbers reported per parent (default 5). */
  maxAbsorbers?: number;
  groundTruth?: AbsorptionGroundTruth;
}

export interface Absorber {
  latent: number;
  /** Holes of p attributed to this absorber (step 3 of the detector). */
  holesAttributed: number;
  /** The attributed holes when the absorber is nested in p (counted in AR_p), else 0. */
  holesAbsorbed: number;
  /** mean(q_p | ã_c > 0) / median(q_p | ã_p > 0): ≈ 1 for a child that absorbed p; NaN if not a hole absorber. */
  nesting: number;
  /** cos(d̂_c, d̂_p). */
  cosine: number;
  /** E_pc = 1 − P(ã_p > 0 | ã_c > 0). */
  exclusivity: number;
  /** ⟨w_enc,p, d̂_c⟩ (docs/theory.md's statistic). NaN for transcoders. */
  encoderSuppression: number;
  /**
   * ⟨w_enc,p, d̂_c⟩ − cos(d̂_c, d̂_p)·⟨w_enc,p, d̂_p⟩: p's encoder response to c beyond what c's share of
   * p's direction predicts. The raw dot is exactly 0 for the dual encoder of the absorbing optimum (its
   * row for p is orthogonal to the merged atom), so the flag uses this one. NaN for transcoders.
   */
  encoderSuppressionRelative: number;
  /** encoderSuppressionRelative < −5% of ⟨w_enc,p, d̂_p⟩ (or the raw dot < 0). */
  suppressed: boolean;
  /** B4 pull of c toward p: ⟨d̂_p, t_c⟩/‖t_c‖ with t_c = P_c^⊥ E[ã_c r]. NaN when t_c = 0. */
  pull: number;
  /** mean(ã_p | p ∧ c) / median(ã_p | p); NaN when they never co-fire. */
  coFiringActivationRatio: number;
  /** p co-fires with c at < 0.5× its median activation (on ≥ 10% of c's firings). */
  partial: boolean;
  /** Present when a field is NaN: which and why. */
  reason?: string;
}

export interface ParentAbsorption {
  latent: number;
  firing: number;
  /** τ_p = 0.5 · median(q | ã_p > 0), q = ⟨d̂_p, x − b⟩. */
  threshold: number;
  /** #{n : q_n ≥ τ_p}. */
  presentRows: number;
  holes: number;
  absorbed: number;
  /** AR_p = absorbed (holes attributed to nested absorbers) / presentRows; NaN with a reason when there are too few present rows. */
  rate: number;
  absorbers: Absorber[];
  full: boolean;
  /**
   * Weak co-firing with a more specific latent (an absorber's `partial`), or `partialHoles`: silent on
   * AR_p ≥ ABSORPTION.fullRate of its present rows where nested absorbers take the rows, though no absorber
   * is exclusive (the latent still fires at full strength on the rest of the child's rows).
   */
  partial: boolean;
  partialHoles?: boolean;
  reason?: string;
}

export interface GroundTruthAbsorption {
  parentFeature: number;
  /** Latent matched one-to-one (Hungarian on decoder cosine); −1 when unmatched. */
  matchedLatent: number;
  matchCosine: number;
  /** #rows with the parent and some child active. */
  events: number;
  /** P(matched latent off | parent ∧ child). */
  offRate: number;
  /** AR_P: P(matched latent off ∧ some active latent with cos ≥ 0.1 to w_P | parent ∧ child). */
  rate: number;
  reason?: string;
}

/** What a NaN means in each field that can hold one (typed arrays cannot carry per-entry reasons). */
export const ABSORPTION_NAN_REASONS = {
  rate: 'latent not examined (dead, or not in opts.parents), or too few rows carry its direction (see parents[].reason)',
  encoderSuppression: 'transcoder: the encoder reads the input site, the atoms live in the output site',
  pull: 'the absorber\'s code-weighted residual has no component off its own atom (t_c = 0)',
  coFiringActivationRatio: 'p and c never fire together',
  nesting: 'c took no holes of p (it is listed as a partial absorber only)',
} as const;

export interface AbsorptionReport {
  /** AR_p per latent (NaN for latents not examined, dead, or with too few present rows). */
  rate: Float32Array;
  nanReasons: typeof ABSORPTION_NAN_REASONS;
  parents: ParentAbsorption[];
  fullyAbsorbed: number[];
  partiallyAbsorbed: number[];
  groundTruth?: GroundTruthAbsorption[];
  reason?: string;
}

/** C3 over the shared context. */
export function absorptionSection(ctx: DiagnosticContext, opts: AbsorptionOptions = {}): AbsorptionReport {
  const m = ctx.sae.cfg.dSae, d = ctx.sae.cfg.dOut, n = ctx.n;
  const codes = ctx.codes;
  const cols = latentRows(codes);
  const counts = firingCounts(codes);
  const parents = (opts.parents ?? Array.from({ length: m }, (_, i) => i)).filter((p) => counts[p]! > 0 && ctx.atomNorms[p]! > 0);
  const cos = cosineCache(ctx.unitAtoms, d);
  const b = ctx.sae.bDec;
  const centered = (row: number, j: number): number => ctx.y[row * d + j]! - b[j]!;

  // Pass 1: τ_p from q on the rows where p fires (sparse dot products).
  const tau = new Float64Array(m).fill(NaN);
  const medianActive = new Float64Array(m).fill(NaN);
  for (const p of parents) {
    const qs: number[] = [];
    const as: number[] = [];
    for (let t = cols.colPtr[p]!; t < cols.colPtr[p + 1]!; t++) {
      const row = cols.rows[t]!;
      let q = 0;
      for (let j = 0; j < d; j++) q += ctx.unitAtoms[p * d + j]! * centered(row, j);
      qs.push(q);
      as.push(cols.vals[t]!);
    }
    tau[p] = ABSORPTION.presenceFraction * median(qs);
    medianActive[p] = median(as);
  }

  // Pass 2: present rows and holes, q for all rows through the GEMM in chunks of rows.
  const present = new Int32Array(m), holes = new Int32Array(m), absorbed = new Int32Array(m);
  const absorberCounts = new Map<number, Map<number, number>>();
  const isParent = new Uint8Array(m);
  for (const p of parents) if (tau[p]! > 0) isParent[p] = 1;
  const onRow = new Float32Array(m);
  // Parents in blocks: per block one GEMM gives q for a chunk of rows and one gives the block's columns of
  // the atom Gram (cos(j, p) for the absorber search), instead of a d-length dot per (hole, active latent).
  const parentList = parents.filter((p) => isParent[p]);
  const block = Math.max(1, Math.min(512, Math.floor(8_000_000 / Math.max(m, 1))));
  const chunk = Math.max(1, Math.min(n, Math.floor(4_000_000 / block)));
  const xb = new Float32Array(chunk * d);
  const atomsB = new Float32Array(block * d);
  for (let b0 = 0; b0 < parentList.length; b0 += block) {
    const ps = parentList.slice(b0, b0 + block), B = ps.length;
    ps.forEach((p, k) => atomsB.set(ctx.unitAtoms.subarray(p * d, (p + 1) * d), k * d));
    const gramB = matmulBT(ctx.unitAtoms, atomsB.subarray(0, B * d), m, d, B); // [m, B]: cos(j, ps[k])
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) xb[r * d + j] = centered(start + r, j);
      const Q = matmulBT(xb.subarray(0, rows * d), atomsB.subarray(0, B * d), rows, d, B);
      for (let r = 0; r < rows; r++) {
        const row = start + r;
        const lo = codes.rowPtr[row]!, hi = codes.rowPtr[row + 1]!;
        for (let u = lo; u < hi; u++) onRow[codes.idx[u]!] = codes.val[u]!;
        for (let k = 0; k < B; k++) {
          const p = ps[k]!;
          const q = Q[r * B + k]!;
          if (!(q >= tau[p]!)) continue;
          present[p]!++;
          if (onRow[p]! > 0) continue;
          holes[p]!++;
          let best = -1, bestScore = -Infinity, bestCos = 0;
          for (let u = lo; u < hi; u++) {
            const j = codes.idx[u]!;
            const c = gramB[j * B + k]!;
            const score = codes.val[u]! * c;
            if (score > bestScore) { bestScore = score; best = j; bestCos = c; }
          }
          if (best >= 0 && bestCos >= ABSORPTION.minAbsorberCosine && bestScore >= ABSORPTION.attributedShare * q) {
            let mp = absorberCounts.get(p);
            if (!mp) absorberCounts.set(p, (mp = new Map()));
            mp.set(best, (mp.get(best) ?? 0) + 1);
          }
        }
        for (let u = lo; u < hi; u++) onRow[codes.idx[u]!] = 0;
      }
    }
  }

  // Nesting of each hole absorber in its parent: mean q_p over the absorber's firings, relative to p's own.
  const nestingOf = new Map<number, number>();
  // Σ (x − b) over each absorber's firings, once per absorber: then each (p, c) is one d-length dot.
  const firingSums = new Map<number, Float64Array>();
  const firingSum = (c: number): Float64Array => {
    let sum = firingSums.get(c);
    if (sum) return sum;
    sum = new Float64Array(d);
    for (let t = cols.colPtr[c]!; t < cols.colPtr[c + 1]!; t++) { const row = cols.rows[t]!; for (let j = 0; j < d; j++) sum[j]! += centered(row, j); }
    firingSums.set(c, sum);
    return sum;
  };
  for (const [p, mp] of absorberCounts) {
    const typical = tau[p]! / ABSORPTION.presenceFraction;
    for (const [c, held] of mp) {
      const lo = cols.colPtr[c]!, hi = cols.colPtr[c + 1]!;
      const sum = firingSum(c);
      let dot = 0;
      for (let j = 0; j < d; j++) dot += ctx.unitAtoms[p * d + j]! * sum[j]!;
      const nesting = hi > lo ? dot / (hi - lo) / typical : NaN;
      nestingOf.set(c * m + p, nesting);
      if (nesting >= ABSORPTION.minNesting) absorbed[p]! += held;
    }
  }

  // Partial-absorption candidates: latents c on whose firings p co-fires at least partialMinCoFiring.
  const coFiring = coFiringCandidates(codes, cols, ABSORPTION.partialMinCoFiring * 0.5);
  const candidatesOf = new Map<number, Set<number>>();
  for (let c = 0; c < m; c++) for (const p of coFiring[c]!) {
    if (!isParent[p] || cos(c, p) < ABSORPTION.minAbsorberCosine) continue;
    let s = candidatesOf.get(p);
    if (!s) candidatesOf.set(p, (s = new Set()));
    s.add(c);
  }
  for (const [p, mp] of absorberCounts) {
    let s = candidatesOf.get(p);
    if (!s) candidatesOf.set(p, (s = new Set()));
    for (const c of mp.keys()) s.add(c);
  }
  const pairList: number[] = [];
  for (const [p, s] of candidatesOf) for (const c of s) pairList.push(c, p);
  const stats = pairStats(codes, cols, Int32Array.from(pairList));
  const pairIndex = new Map<number, number>();
  for (let t = 0; t < pairList.length / 2; t++) pairIndex.set(pairList[2 * t]! * m + pairList[2 * t + 1]!, t);

  const rate = new Float32Array(m).fill(NaN);
  const report: ParentAbsorption[] = [];
  const pullOf = pullFactory(ctx, codes, cols);
  for (const p of parents) {
    const entry: ParentAbsorption = {
      latent: p, firing: ctx.firing[p]!, threshold: tau[p]!, presentRows: present[p]!, holes: holes[p]!, absorbed: absorbed[p]!,
      rate: NaN, absorbers: [], full: false, partial: false,
    };
    if (!(tau[p]! > 0)) entry.reason = `⟨d̂_p, x − b⟩ has median ${(tau[p]! / ABSORPTION.presenceFraction).toPrecision(3)} where the latent fires (not positive): presence is undefined`;
    else if (present[p]! < ABSORPTION.minPresentRows) entry.reason = `only ${present[p]} rows carry the direction (AR needs ≥ ${ABSORPTION.minPresentRows}; use more rows)`;
    else entry.rate = absorbed[p]! / present[p]!;
    rate[p] = entry.rate;
    const cands = [...(candidatesOf.get(p) ?? [])];
    const held = absorberCounts.get(p);
    const absorbers = cands.map((c): Absorber => {
      const t = pairIndex.get(c * m + p)!;
      const both = stats.both[t]!;
      const coRatio = both > 0 ? stats.sumSecond[t]! / both / medianActive[p]! : NaN;
      const coShare = counts[c]! > 0 ? both / counts[c]! : 0;
      const supp = ctx.sae.cfg.transcoder ? NaN : encoderDot(ctx, p, c);
      const own = ctx.sae.cfg.transcoder ? NaN : encoderDot(ctx, p, p);
      const relative = supp - cos(c, p) * own;
      const nesting = nestingOf.get(c * m + p) ?? NaN;
      const holesAbsorbed = nesting >= ABSORPTION.minNesting ? held?.get(c) ?? 0 : 0;
      return {
        latent: c, holesAbsorbed, holesAttributed: held?.get(c) ?? 0, nesting, cosine: cos(c, p), exclusivity: 1 - coShare,
        encoderSuppression: supp, encoderSuppressionRelative: relative,
        suppressed: supp < 0 || relative < -ABSORPTION.encoderSuppressionMargin * Math.abs(own), pull: pullOf(c, p), coFiringActivationRatio: coRatio,
        partial: coShare >= ABSORPTION.partialMinCoFiring && coRatio < ABSORPTION.partialActivationRatio,
      };
    }).filter((a) => a.holesAbsorbed > 0 || a.partial);
    for (const a of absorbers) {
      const why = (['encoderSuppression', 'pull', 'coFiringActivationRatio', 'nesting'] as const)
        .filter((k) => Number.isNaN(a[k])).map((k) => `${k}: ${ABSORPTION_NAN_REASONS[k]}`);
      if (why.length) a.reason = why.join('; ');
    }
    absorbers.sort((a1, a2) => a2.holesAbsorbed - a1.holesAbsorbed || a2.cosine - a1.cosine);
    entry.absorbers = absorbers.slice(0, opts.maxAbsorbers ?? 5);
    entry.full = entry.rate >= ABSORPTION.fullRate && absorbers.some((a) => a.holesAbsorbed > 0 && a.exclusivity >= ABSORPTION.fullExclusivity);
    entry.partialHoles = !entry.full && entry.rate >= ABSORPTION.fullRate && absorbers.some((a) => a.holesAbsorbed > 0);
    entry.partial = absorbers.some((a) => a.partial) || entry.partialHoles;
    report.push(entry);
  }
  const out: AbsorptionReport = {
    rate, nanReasons: ABSORPTION_NAN_REASONS, parents: report,
    fullyAbsorbed: report.filter((e) => e.full).map((e) => e.latent),
    partiallyAbsorbed: report.filter((e) => e.partial).map((e) => e.latent),
  };
  if (Array.from(rate).some(Number.isNaN)) out.reason = `rate has NaN entries: ${ABSORPTION_NAN_REASONS.rate}`;
  if (opts.groundTruth) out.groundTruth = groundTruthAbsorption(ctx, codes, opts.groundTruth);
  return out;
}

/** cos(d̂_i, d̂_j) with a bounded memo (holes revisit the same pairs). */
function cosineCache(unitAtoms: Float32Array, d: number): (i: number, j: number) => number {
  const memo = new Map<number, number>();
  const m = unitAtoms.length / d;
  return (i, j) => {
    const key = i < j ? i * m + j : j * m + i;
    let v = memo.get(key);
    if (v === undefined) {
      if (memo.size > 1_000_000) memo.clear();
      v = dotAt(unitAtoms, i * d, unitAtoms, j * d, d);
      memo.set(key, v);
    }
    return v;
  };
}

/** ⟨w_enc,p, d̂_c⟩ with W_enc [d_in, d_sae] (column p). */
function encoderDot(ctx: DiagnosticContext, p: number, c: number): number {
  const { dIn, dSae, dOut } = ctx.sae.cfg;
  let s = 0;
  for (let j = 0; j < Math.min(dIn, dOut); j++) s += ctx.sae.wEnc[j * dSae + p]! * ctx.unitAtoms[c * dOut + j]!;
  return s;
}

/** B4 pull of c toward p, with g_c = mean_n ã_c r_n computed once per absorber. */
function pullFactory(ctx: DiagnosticContext, _codes: SparseCodes, cols: LatentRows): (c: number, p: number) => number {
  const d = ctx.sae.cfg.dOut;
  const tangents = new Map<number, Float64Array | null>();
  return (c, p) => {
    let t = tangents.get(c);
    if (t === undefined) {
      const g = new Float64Array(d);
      for (let u = cols.colPtr[c]!; u < cols.colPtr[c + 1]!; u++) {
        const row = cols.rows[u]!, a = cols.vals[u]!;
        for (let j = 0; j < d; j++) g[j]! += a * ctx.residual[row * d + j]!;
      }
      const radial = dotAt(g, 0, ctx.unitAtoms, c * d, d);
      let nrm = 0;
      for (let j = 0; j < d; j++) { g[j]! -= radial * ctx.unitAtoms[c * d + j]!; nrm += g[j]! ** 2; }
      nrm = Math.sqrt(nrm);
      if (nrm > 0) { for (let j = 0; j < d; j++) g[j]! /= nrm; t = g; } else t = null;
      tangents.set(c, t);
    }
    return t ? dotAt(t, 0, ctx.unitAtoms, p * d, d) : NaN;
  };
}

function groundTruthAbsorption(ctx: DiagnosticContext, codes: SparseCodes, gt: AbsorptionGroundTruth): GroundTruthAbsorption[] {
  const m = ctx.sae.cfg.dSae, d = ctx.sae.cfg.dOut, F = gt.nFeatures;
  const score = matmulBT(gt.features, ctx.unitAtoms, F, d, m);
  // Dead or zero atoms cannot be matched.
  for (let f = 0; f < F; f++) for (let i = 0; i < m; i++) if (!(ctx.firing[i]! > 0 && ctx.atomNorms[i]! > 0)) score[f * m + i] = -2;
  const match = maxAssignment(score, F, m);
  return gt.hierarchy.map(({ parent, children }) => {
    const latent = match[parent]!;
    const matchCosine = latent >= 0 ? score[parent * m + latent]! : NaN;
    let events = 0, off = 0, absorbedRows = 0;
    for (let row = 0; row < ctx.n; row++) {
      if (!(gt.codes[row * F + parent]! > 0) || !children.some((c) => gt.codes[row * F + c]! > 0)) continue;
      events++;
      if (latent >= 0 && firesIn(codes, row, latent)) continue;
      off++;
      for (let u = codes.rowPtr[row]!; u < codes.rowPtr[row + 1]!; u++) {
        if (score[parent * m + codes.idx[u]!]! >= ABSORPTION.gtAbsorberCosine) { absorbedRows++; break; }
      }
    }
    const entry: GroundTruthAbsorption = { parentFeature: parent, matchedLatent: latent, matchCosine, events, offRate: events ? off / events : NaN, rate: events ? absorbedRows / events : NaN };
    if (!events) entry.reason = 'the parent never fires together with a child on this sample';
    else if (latent < 0) entry.reason = 'no live latent left to match this feature (fewer live latents than features)';
    return entry;
  });
}
