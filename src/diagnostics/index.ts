/**
 * runDiagnostics(ctx, options): every diagnostic section over one DiagnosticContext, composed into one
 * report. Sections share work through DiagnosticRun's lazily computed pieces (sparse codes, exact codes a*,
 * atom pairs), and each returns its report plus findings — one sentence each, saying what was found and
 * why it matters (docs/theory.md). A value that is NaN or unavailable always has a `reason` beside it.
 * To add a section, append one entry to SECTIONS.
 */
import { InputError } from '../errors';
import { archSpec } from '../sae/arch/registry';
import { centredRows } from './context';
import type { DiagnosticContext } from './context';
import type { CodeSet } from './codeResiduals';
import { atomPairs } from './atomPairs';
import type { AtomPairs } from './atomPairs';
import { exactCodeSet, amortisationGap, l0AmortisationGap } from './amortisation';
import type { ExactCodes } from './lassoCodes';
import { kktStationarity } from './kkt';
import type { OffThreshold } from './kkt';
import { identityResidual } from './identity';
import { deadDense } from './deadDense';
import { antipodalPairs } from './antipodal';
import type { DenseAxis } from './antipodal';
import { duplicateAtoms, duplicatesSentence } from './duplicates';
import { wideLimit } from './wideLimit';
import { THRESHOLDS } from './thresholds';
import { absorptionSection } from './absorption';
import { residualSection } from './residual';
import { convexReferenceSection } from './convexReference';
import { splitTreeSection } from './splitTree';
import { absorptionFindings, residualFindings, convexReferenceFindings, splitTreeFindings, kktFindings } from './structureFindings';
import type { CodeKind } from './thresholds';
import type { KktReport } from './kkt';
import type { IdentityReport } from './identity';
import type { AmortisationReport } from './amortisation';
import type { DeadDenseReport } from './deadDense';
import type { AntipodalReport } from './antipodal';
import type { DuplicatesReport } from './duplicates';
import type { AbsorptionReport } from './absorption';
import type { ResidualReport } from './residual';
import type { SplitTreeReport } from './splitTree';
import type { WideLimitReport } from './wideLimit';
import type { ConvexReferenceReport } from './convexReference';

export interface DiagnosticOptions {
  /** Firing counts over more rows than the context holds (C1 wants N ≥ 10⁵), and how many rows. */
  firingCounts?: Float64Array;
  firingRows?: number;
  /** Rows (from the start of the context) for exact codes a* (B5, D1, B2/B3 on a*). */
  exactRows?: number;
  /** Section names to skip. */
  skip?: string[];
  onProgress?: (section: string) => void;
}

export interface Finding {
  section: string;
  severity: 'info' | 'warning' | 'problem';
  message: string;
}

/** A section (or part of one) that did not compute: why, keyed by the part's name (skipped, too few rows, no λ_e …). */
export interface NotComputed { reason: Record<string, string> }
/** A section computed on the SAE's codes and, where they exist, on the exact codes a*. */
export interface OnBothCodes<T> { sae: T; exact: T | null; reason: Record<string, string> }

/** Each section's report, as its producer returns it (the type beside the module that computes it). */
export interface DiagnosticSections {
  kkt: OnBothCodes<KktReport> | NotComputed;
  identity: OnBothCodes<IdentityReport> | NotComputed;
  amortisation: AmortisationReport | NotComputed;
  deadDense: DeadDenseReport | NotComputed;
  antipodal: AntipodalReport | NotComputed;
  duplicates: DuplicatesReport | NotComputed;
  absorption: AbsorptionReport | NotComputed;
  residual: ResidualReport | NotComputed;
  coactivation: SplitTreeReport | NotComputed;
  wideLimit: WideLimitReport | NotComputed;
  convexReference: ConvexReferenceReport | NotComputed;
}
export type SectionName = keyof DiagnosticSections;

export interface SectionResult<R> {
  report: R;
  findings?: Finding[];
}

export interface DiagnosticSection<K extends SectionName = SectionName> {
  name: K;
  /** What it computes, for help texts. */
  title: string;
  run(run: DiagnosticRun): SectionResult<DiagnosticSections[K]>;
}
type AnySection = { [K in SectionName]: DiagnosticSection<K> }[SectionName];

/** Puts section `name` of one report into another (the panel runs the costly sections on fewer rows). */
export function copySection<K extends SectionName>(to: DiagnosticSections, from: DiagnosticSections, name: K): void {
  to[name] = from[name];
}

/** Marks section `name` as not computed, and why. */
export function notComputed<K extends SectionName>(sections: DiagnosticSections, name: K, why: string): void {
  const not: NotComputed = { reason: { [name]: why } };
  sections[name] = not;
}

/** A section's report when it computed (its own type), or undefined when it gave a reason instead. */
export function computed<K extends SectionName, F extends string>(sections: DiagnosticSections, name: K, field: F): Extract<DiagnosticSections[K], Record<F, unknown>> | undefined {
  const s = sections[name];
  return s && field in s ? (s as Extract<DiagnosticSections[K], Record<F, unknown>>) : undefined;
}

/** Minimum rows for any statistic; below it a section reports a reason instead of numbers. */
export const MIN_ROWS: Record<string, number> = { kkt: 2 * THRESHOLDS.minFirings, identity: 2 * THRESHOLDS.minFirings, amortisation: 16, deadDense: 1, antipodal: 20, wideLimit: 16 };

export function codeKindOf(ctx: DiagnosticContext): CodeKind {
  return ctx.codes.kind;
}

/** Shared, lazily computed pieces of one diagnostic run. */
export class DiagnosticRun {
  private cache = new Map<string, unknown>();
  constructor(readonly ctx: DiagnosticContext, readonly options: DiagnosticOptions) {}

  private memo<T>(key: string, f: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, f());
    return this.cache.get(key) as T;
  }

  get m(): number { return this.ctx.sae.cfg.dSae; }
  get d(): number { return this.ctx.sae.cfg.dOut; }
  get lambdaOk(): boolean { return Number.isFinite(this.ctx.lambdaE) && this.ctx.lambdaE > 0; }

  /** The SAE's effective codes ã in sparse form with their residuals (built with the context). */
  get saeCodes(): CodeSet {
    return this.ctx.codes;
  }

  get live(): Uint8Array {
    return this.memo('live', () => Uint8Array.from(this.ctx.firing, (p) => (p > 0 ? 1 : 0)));
  }

  get pairs(): AtomPairs {
    return this.memo('pairs', () => atomPairs(this.ctx.unitAtoms, this.live, this.m, this.d));
  }

  /** Targets x − b_dec for the reference problem (SAEs only). */
  get exactRows(): number {
    return Math.min(this.ctx.n, this.options.exactRows ?? THRESHOLDS.exactRows);
  }

  /** SAE codes restricted to the exact-code rows (the first exactRows of the context). */
  get saeCodesExactRows(): CodeSet {
    return this.memo('saeCodesExactRows', () => sliceRows(this.saeCodes, this.exactRows));
  }

  /** a* on the first exactRows rows, warm-started at ã; undefined (with reason) when not applicable. */
  get exact(): { codes: CodeSet; solver: ExactCodes; targets: Float32Array } | { reason: string } {
    return this.memo('exact', () => {
      if (this.ctx.sae.cfg.transcoder) return { reason: 'transcoders have no exact codes a* (the codes cannot see the target y); B2 applies to the SAE codes only' };
      if (!this.lambdaOk) return { reason: codeKindOf(this.ctx) === 'l0' ? 'exact lasso codes a* need an L1 threshold λ_e, which L0-type codes do not have; their reference codes (OMP for TopK, IHT for JumpReLU) are in the amortisation section' : 'λ_e is unavailable: not stored with the SAE and the estimate from the codes is not positive; pass --lambda-e' };
      const n = this.exactRows;
      if (n < MIN_ROWS.amortisation) return { reason: `exact codes need at least ${MIN_ROWS.amortisation} rows; the sample has ${n}` };
      const targets = centredRows(this.ctx, n);
      const { codes, solver } = exactCodeSet(this.saeCodesExactRows, targets, this.ctx.unitAtoms, this.ctx.lambdaE);
      return { codes, solver, targets };
    });
  }

  get firingCounts(): { counts: Float64Array; rows: number } {
    return this.memo('firingCounts', () => {
      if (this.options.firingCounts && this.options.firingRows) return { counts: this.options.firingCounts, rows: this.options.firingRows };
      return { counts: Float64Array.from(this.ctx.firing, (p) => Math.round(p * this.ctx.n)), rows: this.ctx.n };
    });
  }

  offThreshold(): OffThreshold {
    const { sae, atomNorms } = this.ctx;
    const off = archSpec(sae.cfg.activation).offThreshold;
    if (off === 'lambda') return { mode: 'lambda' };
    if (off === 'threshold' && sae.threshold) return { mode: 'per-latent', perLatent: Float32Array.from(sae.threshold, (t, i) => t * atomNorms[i]) };
    return { mode: 'row-min' };
  }
}

function sliceRows(c: CodeSet, n: number): CodeSet {
  if (n >= c.n) return c;
  const end = c.rowPtr[n];
  const count = new Int32Array(c.m);
  for (let k = 0; k < end; k++) count[c.idx[k]]++;
  return { ...c, n, rowPtr: c.rowPtr.subarray(0, n + 1), idx: c.idx.subarray(0, end), val: c.val.subarray(0, end), onProj: c.onProj.subarray(0, end), residual: c.residual.subarray(0, n * c.d), count, weighted: undefined };
}

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : 'n/a';
}

/** The sections, in order. Add one line here to add a section. */
export const SECTIONS: AnySection[] = [
  {
    name: 'kkt', title: 'code-space KKT and dictionary stationarity (B1, B2, B4)',
    run: (run): SectionResult<DiagnosticSections['kkt']> => {
      if (run.ctx.n < MIN_ROWS.kkt) return { report: { reason: { kkt: `KKT/stationarity needs at least ${MIN_ROWS.kkt} rows; the sample has ${run.ctx.n}` } } };
      const sae = kktStationarity(run.saeCodes, run.ctx.unitAtoms, run.ctx.lambdaE, run.offThreshold());
      const ex = run.exact;
      const exact = 'codes' in ex ? kktStationarity(ex.codes, run.ctx.unitAtoms, run.ctx.lambdaE) : undefined;
      const findings = [...kktFindings(sae, 'SAE codes'), ...(exact ? kktFindings(exact, 'exact codes a*') : [])];
      return { report: { sae, exact: exact ?? null, reason: exact ? {} : { exact: (ex as { reason: string }).reason } }, findings };
    },
  },
  {
    name: 'identity', title: 'pairwise identity residual (B3)',
    run: (run): SectionResult<DiagnosticSections['identity']> => {
      if (run.ctx.n < MIN_ROWS.identity) return { report: { reason: { identity: `the identity residual needs at least ${MIN_ROWS.identity} rows; the sample has ${run.ctx.n}` } } };
      const sae = identityResidual(run.saeCodes, run.ctx.unitAtoms, run.ctx.lambdaE, run.pairs);
      const ex = run.exact;
      const exact = 'codes' in ex ? identityResidual(ex.codes, run.ctx.unitAtoms, run.ctx.lambdaE, run.pairs) : undefined;
      const findings: Finding[] = [];
      if (exact && Number.isFinite(exact.maxAbs) && exact.maxAbs > 0.05) findings.push({ section: 'identity', severity: 'warning', message: `exact codes: the pairwise identity cos_ij = π + (1 − π)κ fails by up to ${fmt(exact.maxAbs)} (pair ${exact.worst[0]?.i}→${exact.worst[0]?.j}): the dictionary is not at a stationary point of the reference problem (B3).` });
      if (Number.isFinite(sae.p90Abs) && sae.p90Abs > 0.1) findings.push({ section: 'identity', severity: 'info', message: `SAE codes: the identity residual's 90th percentile is ${fmt(sae.p90Abs)}; with amortised codes this measures how inconsistent the encoder is with its decoder (B3).` });
      return { report: { sae, exact: exact ?? null, reason: exact ? {} : { exact: (ex as { reason: string }).reason } }, findings };
    },
  },
  {
    name: 'amortisation', title: 'amortisation gap (B5)',
    run: (run) => {
      const fc = run.firingCounts;
      const dead = Uint8Array.from(fc.counts, (c) => (c === 0 ? 1 : 0));
      // L0-type SAEs are compared with their own reference codes (OMP / IHT), L1 SAEs with the lasso a*
      const ex = codeKindOf(run.ctx) === 'l0' && !run.ctx.sae.cfg.transcoder ? l0AmortisationGap(run.ctx, run.saeCodesExactRows, dead) : run.exact;
      if (!('codes' in ex) && !('objectiveGap' in ex)) return { report: { reason: { amortisation: ex.reason } } };
      const rep = 'codes' in ex ? amortisationGap(run.saeCodesExactRows, ex.codes, ex.solver, run.ctx.lambdaE, dead) : ex;
      const findings: Finding[] = [];
      if (Number.isFinite(rep.objectiveGap)) findings.push({ section: 'amortisation', severity: rep.objectiveGap > 0.1 ? 'problem' : rep.objectiveGap > 0.02 ? 'warning' : 'info',
        message: `the encoder's codes cost ${fmt(100 * rep.objectiveGap)}% more than the ${rep.reference.kind === 'lasso' ? 'exact lasso codes' : rep.reference.kind === 'omp' ? 'reference codes (nonnegative OMP with k atoms)' : 'reference codes (IHT with the per-atom thresholds)'} for the same dictionary (support Jaccard ${fmt(rep.meanJaccard)}): that share of the objective is lost to amortisation, not to the dictionary (B5).` });
      if (rep.encoderDead.length) findings.push({ section: 'amortisation', severity: 'warning', message: `${rep.encoderDead.length} dead latents would fire under ${rep.reference.kind === 'lasso' ? 'exact' : 'reference'} codes (encoder-dead): their atoms are useful, only the encoder never selects them — resample the encoder rows only.` });
      if (rep.dictionaryDead.length) findings.push({ section: 'amortisation', severity: 'info', message: `${rep.dictionaryDead.length} latents are dead under both the encoder and ${rep.reference.kind === 'lasso' ? 'exact' : 'reference'} codes (dictionary-dead): their atoms are not useful where they point — resample them (e.g. toward high-residual rows).` });
      return { report: rep, findings };
    },
  },
  {
    name: 'deadDense', title: 'dead and dense latents (C1)',
    run: (run) => {
      const fc = run.firingCounts;
      const rep = deadDense(fc.counts, fc.rows);
      const findings: Finding[] = [];
      if (rep.dead.length) findings.push({ section: 'deadDense', severity: rep.fractionDead > 0.1 ? 'problem' : 'warning', message: `${rep.dead.length} latents (${fmt(100 * rep.fractionDead)}%) never fire in ${fc.rows} rows (p < ${rep.deadRateBound.toExponential(1)}): dead latents waste width and their directions are unidentifiable, so they are excluded from every geometric diagnostic.` });
      if (rep.dense.length) findings.push({ section: 'deadDense', severity: 'warning', message: `${rep.dense.length} latents fire on more than ${100 * THRESHOLDS.dense}% of rows (${rep.ultraDense.length} above ${100 * THRESHOLDS.ultraDense}%): dense latents usually encode a dense direction of the data, often as an antipodal pair (C2).` });
      return { report: rep, findings };
    },
  },
  {
    name: 'antipodal', title: 'dense and sparse antipodal pairs (C2)',
    run: (run) => {
      if (run.ctx.n < MIN_ROWS.antipodal) return { report: { reason: { antipodal: `antipodal pairs need at least ${MIN_ROWS.antipodal} rows; the sample has ${run.ctx.n}` } } };
      const rep = antipodalPairs(run.saeCodes, run.ctx.unitAtoms, run.pairs, run.ctx.x, run.ctx.sae.bDec);
      // One finding per axis (a trained SAE often splits ±v over several latents each side: k₊ × k₋ pairs).
      const findings: Finding[] = rep.denseAxes.map((ax) => ({ section: 'antipodal', severity: 'info' as const, message: denseAxisSentence(ax) }));
      if (rep.sparse.length) findings.push({ section: 'antipodal', severity: 'info', message: `${rep.sparse.length} sparse antipodal pairs (cos ≤ ${THRESHOLDS.antipodalCos}, one side fires on < ${100 * THRESHOLDS.antipodalDenseP}% of rows, or the axis code is heavy-tailed with excess kurtosis > ${THRESHOLDS.antipodalHeavyTail}): genuine opposite features (like TMS digons), not the dense-direction mechanism.` });
      return { report: rep, findings };
    },
  },
  {
    name: 'duplicates', title: 'duplicated atoms',
    run: (run) => { const report = duplicateAtoms(run.saeCodes, run.pairs); const s = duplicatesSentence(report); return { report, findings: s ? [{ section: 'duplicates', severity: 'warning', message: s }] : [] }; },
  },
  { name: 'absorption', title: 'absorption (C3)', run: (run) => { const report = absorptionSection(run.ctx); return { report, findings: absorptionFindings(report) }; } },
  { name: 'residual', title: 'residual structure and best new atom (C5)', run: (run) => { const report = residualSection(run.ctx); return { report, findings: residualFindings(report) }; } },
  { name: 'coactivation', title: 'co-activation DAG within the dictionary (C4)', run: (run) => { const report = splitTreeSection([run.ctx]); return { report, findings: splitTreeFindings(report) }; } },
  {
    name: 'wideLimit', title: 'wide-dictionary limit F_∞ and width gap (D1)',
    run: (run) => {
      const ex = run.exact;
      if (!('codes' in ex)) return { report: { reason: { wideLimit: ex.reason } } };
      const rep = wideLimit(ex.codes, run.saeCodesExactRows, run.ctx.x, ex.targets, run.ctx.sae.bDec, run.ctx.lambdaE);
      const findings: Finding[] = [];
      if (Number.isFinite(rep.widthGap)) findings.push({ section: 'wideLimit', severity: 'info', message: `width gap WG = ${fmt(rep.widthGap)}: with exact codes the dictionary's objective is ${fmt(100 * rep.widthGap)}% above the infinite-width optimum F_∞ (every row on its own atom), which bounds what more width could gain (D1).` });
      return { report: rep, findings };
    },
  },
  { name: 'convexReference', title: 'finite-width convex reference (D2)', run: (run) => { const report = convexReferenceSection(run.ctx); return { report, findings: convexReferenceFindings(report) }; } },
];

/** Why an L0-type SAE has no λ_e (its estimate is reported only as the median ⟨d̂_i, r⟩ on active pairs). */
export const L0_LAMBDA_NOTE = 'λ_e does not apply to L0-type codes (TopK, BatchTopK, JumpReLU): their penalty counts active latents, so there is no L1 threshold; the estimate beside it is only the median ⟨d̂_i, r⟩ on active pairs (≈ 0 when magnitudes fit). Their KKT scale is the encoder\'s threshold θ — the row\'s smallest material code (TopK: its smallest kept code at least half the RMS of the row\'s kept codes) or the latent\'s threshold (BatchTopK, JumpReLU) — see the KKT line';

/** The dense-axis finding: one axis, how many latents carry it on each side and which most, its variance share. */
export function denseAxisSentence(ax: DenseAxis): string {
  const side = (lat: number[], strongest: number[]): string => `${lat.length} latent${lat.length === 1 ? '' : 's'}${lat.length > strongest.length ? ` (strongest ${strongest.join(', ')})` : ` (${lat.join(', ')})`}`;
  return `one dense axis, carried by ${side(ax.plus, ax.strongestPlus)} on +v and ${side(ax.minus, ax.strongestMinus)} on −v, never together (cos ≤ ${THRESHOLDS.antipodalCos}, each side on ≥ ${100 * THRESHOLDS.antipodalDenseP}% of rows): the axis carries ${fmt(100 * ax.varianceShare)}% of the variance of x − b_dec (|cos| with PC1 ${fmt(ax.pcAlignment[0] ?? NaN)}). Nonnegative codes need ±v to represent a signed scalar, so a dense two-sided direction takes latents on both sides (C2); the axis code is light-tailed (excess kurtosis ${fmt(ax.kurtosis)} ≤ ${THRESHOLDS.antipodalHeavyTail}), as a dense direction's is.`;
}

export interface DiagnosticReport {
  sae: { activation: string; dIn: number; dSae: number; dOut: number; transcoder: boolean; codeKind: CodeKind };
  rows: { context: number; exact: number; firing: number };
  /** Which rows the context was: one line from src/io/rowSample.ts (set by diagnoseFiles and the report). */
  sample?: string;
  lambdaE: { value: number; source: DiagnosticContext['lambdaSource']; estimate: number; ratio: number; reason?: string };
  sections: DiagnosticSections;
  findings: Finding[];
  timings: Record<string, number>;
  reason: Record<string, string>;
}

export function runDiagnostics(ctx: DiagnosticContext, options: DiagnosticOptions = {}): DiagnosticReport {
  const run = new DiagnosticRun(ctx, options);
  const c = ctx.sae.cfg;
  const reason: Record<string, string> = {};
  const live = run.live.reduce((a, b) => a + b, 0);
  if (live === 0) throw new InputError(ctx.sae.cfg.source?.path ?? 'sae', `all ${c.dSae} latents are dead on the ${ctx.n}-row sample (none fires), so no diagnostic applies; check that the activations come from the SAE's hook and are scaled as in training`);
  const ratio = ctx.lambdaE / ctx.lambdaEstimate;
  const lambda = { value: ctx.lambdaE, source: ctx.lambdaSource, estimate: ctx.lambdaEstimate, ratio, reason: undefined as string | undefined };
  const findings: Finding[] = [];
  if (codeKindOf(ctx) === 'l0' && ctx.lambdaSource === 'estimated') lambda.reason = L0_LAMBDA_NOTE;
  else if (!run.lambdaOk) lambda.reason = 'λ_e is unavailable: not stored with the SAE (cfg.json sae_workbench.training.lambdaE) and the data estimate is not positive; pass --lambda-e';
  else if (!Number.isFinite(ctx.lambdaEstimate)) lambda.reason = 'no active (row, latent) pair to estimate λ_e from';
  else if (ctx.lambdaSource !== 'estimated' && codeKindOf(ctx) === 'l1' && !(ratio > 0 && Math.abs(Math.log(ratio)) <= Math.log(1.25))) {
    findings.push({ section: 'lambda', severity: 'warning', message: `the ${ctx.lambdaSource} λ_e = ${fmt(ctx.lambdaE)} disagrees with the data's estimate ${fmt(ctx.lambdaEstimate)} (median ⟨d̂_i, r⟩ on active pairs): either the loss convention is recorded wrongly (docs/theory.md §1: λ/2, λd/2 or λ), which rescales every KKT value, or the encoder's codes are far from lasso codes (see the KKT figures), which biases the estimate.` });
  }
  // filled below, one entry per section of SECTIONS (each name once), so every field is set on return
  const sections: Partial<Record<SectionName, unknown>> = {};
  const timings: Record<string, number> = {};
  for (const s of SECTIONS) {
    if (options.skip?.includes(s.name)) { sections[s.name] = { reason: { [s.name]: 'skipped by request' } } satisfies NotComputed; continue; }
    options.onProgress?.(s.name);
    const t0 = performance.now();
    const res = s.run(run);
    timings[s.name] = (performance.now() - t0) / 1000;
    sections[s.name] = res.report;
    if (res.findings) findings.push(...res.findings);
  }
  if (c.normalizeActivations !== 'none') findings.push({ section: 'input', severity: 'warning', message: `the SAE normalises its inputs (${c.normalizeActivations}) while the diagnostics work on raw activations and residuals, so λ_e-scaled values (KKT, STAT, the width gap) are exact only when that normalisation is a constant factor.` });
  if (live < c.dSae) reason.deadLatents = `${c.dSae - live} latents never fire in the ${ctx.n}-row context sample; per-latent values are null for them`;
  return {
    sae: { activation: c.activation, dIn: c.dIn, dSae: c.dSae, dOut: c.dOut, transcoder: c.transcoder, codeKind: codeKindOf(ctx) },
    rows: { context: ctx.n, exact: run.exactRows, firing: run.firingCounts.rows },
    lambdaE: lambda, sections: sections as DiagnosticSections, findings, timings, reason,
  };
}
