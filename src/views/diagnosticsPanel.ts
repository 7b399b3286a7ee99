/**
 * The panels' diagnostics come from the diagnostics module (src/diagnostics runDiagnostics over
 * buildContext): this file runs it at a panel-sized budget and maps its report onto the panel model
 * (docs/panels.md "Mapping"). Nothing here computes a diagnostic itself; a section the module did not
 * compute keeps the module's reason, which the panel shows in its place.
 */
import { buildContext, residualNorms } from '../diagnostics/context';
import type { DiagnosticContext } from '../diagnostics/context';
import { computed, copySection, notComputed, runDiagnostics, SECTIONS } from '../diagnostics/index';
import type { DiagnosticReport, Finding, SectionName } from '../diagnostics/index';
import type { Sae } from '../sae/types';
import { diagnoseSample } from '../diagnostics/files';
import type { AtomDiagnostics, DiagnosticsModel, FlagName, SaeCard } from '../protocol/viewModels';
import { FLAG, FLAG_NAMES } from '../protocol/viewModels';

/** What a panel asks of the module: enough rows for stable per-atom numbers, a few seconds on small SAEs. */
export interface PanelDiagnosticOptions {
  /** Context rows (the first rows of the sample). */
  rows?: number;
  /** Rows for the exact codes a* (amortisation gap, width gap). */
  exactRows?: number;
  /** Sections to leave out (their place in the panel says so). */
  skip?: string[];
  /** m²·d·rows budget for absorption and residual structure (HEAVY_BUDGET). */
  heavyBudget?: number;
  onProgress?: (section: string) => void;
}

/** Sections no panel shows (identity residual, within-dictionary DAG, convex reference): skipped by default. */
export const PANEL_SKIP = ['identity', 'coactivation', 'convexReference'];
export const PANEL_DIAGNOSTIC_ROWS = 2048;
const SECTION_NAMES = SECTIONS.map((s) => s.name);
export const PANEL_EXACT_ROWS = 256;
/** Rows of the antipodal and absorption tables (strongest first): a panel is read, not scrolled for minutes. */
export const TABLE_ROWS = 50;

/**
 * Absorption (C3) and residual structure (C5) cost about m²·d per row (measured: d_sae 512, d 64, 2,048 rows
 * → 12 s; d_sae 2,048, d 128 → 450 s), so a panel runs them on fewer rows: as many as this budget of
 * m²·d·rows allows (≈ 3 s), and not at all below HEAVY_MIN_ROWS, saying so.
 */
export const HEAVY_SECTIONS: SectionName[] = ['absorption', 'residual'];
export const HEAVY_BUDGET = 8.5e9;
export const HEAVY_MIN_ROWS = 256;

/** The module's report with the few context facts the model needs (the dense context itself is dropped). */
export interface PanelDiagnostics {
  report: DiagnosticReport;
  residualNorms: Float32Array;
  firing: Float32Array;
}

/** Runs the diagnostics module on the first rows of x, or says why it cannot (a transcoder without its targets). */
export function panelDiagnostics(sae: Sae, x: Float32Array, n: number, o: PanelDiagnosticOptions = {}): PanelDiagnostics | { reason: string } {
  if (sae.cfg.transcoder) return { reason: 'a transcoder needs its target activations (the output site) for residual diagnostics; only the input site is known here' };
  const rows = Math.min(n, o.rows ?? PANEL_DIAGNOSTIC_ROWS);
  const ctx: DiagnosticContext = buildContext(sae, x, rows);
  const skip = o.skip ?? PANEL_SKIP;
  const heavy = HEAVY_SECTIONS.filter((s) => !skip.includes(s));
  const { dSae: m, dOut: d } = sae.cfg;
  const heavyRows = Math.min(rows, Math.floor((o.heavyBudget ?? HEAVY_BUDGET) / (m * m * d)));
  try {
    const report = runDiagnostics(ctx, { exactRows: o.exactRows ?? PANEL_EXACT_ROWS, skip: [...skip, ...(heavyRows < rows ? heavy : [])], onProgress: o.onProgress });
    if (heavy.length && heavyRows < rows) {
      if (heavyRows >= HEAVY_MIN_ROWS) {
        // Same SAE, the first heavyRows rows: λ_e comes from that context's own estimate unless stored.
        try {
          const small = runDiagnostics(buildContext(sae, x, heavyRows), { skip: SECTION_NAMES.filter((s) => !heavy.includes(s)), onProgress: o.onProgress });
          for (const s of heavy) { copySection(report.sections, small.sections, s); report.timings[s] = small.timings[s] ?? 0; }
          report.findings.push(...small.findings.filter((f) => heavy.some((h) => h === f.section)));
          report.reason.heavyRows = `${heavy.join(' and ')} ran on the first ${heavyRows} rows (their cost grows as d_sae²·d per row)`;
        } catch (e) {
          if (!(e instanceof Error && e.name === 'InputError')) throw e;
          for (const s of heavy) notComputed(report.sections, s, `not computed on the first ${heavyRows} rows: ${e.message}`);
        }
      } else {
        const why = `left out of the panel: at d_sae ${m} and d ${d} it costs too much for an interactive view (grows as d_sae²·d per row); run \`sae-workbench diagnose\` for it`;
        for (const s of heavy) notComputed(report.sections, s, why);
      }
    }
    return { report, residualNorms: residualNorms(ctx), firing: ctx.firing };
  } catch (e) {
    // runDiagnostics refuses an all-dead sample with an InputError: the panel shows that sentence.
    if (e instanceof Error && e.name === 'InputError') return { reason: e.message };
    throw e;
  }
}

/**
 * The static report's diagnostics: exactly `diagnose`'s on the same file (src/diagnostics/files.ts
 * diagnoseSample — the shared analysis sample, firing rates over every row, the same exact rows), with the
 * sections no panel shows left out, so the report and `diagnose` print the same figures.
 */
export function fileDiagnostics(sae: Sae, activationsPath: string, onProgress?: (section: string) => void): PanelDiagnostics | { reason: string } {
  if (sae.cfg.transcoder) return { reason: 'a transcoder needs its target activations (the output site) for residual diagnostics; only the input site is known here' };
  try {
    const { report, ctx } = diagnoseSample(sae, { activationsPath, skip: PANEL_SKIP }, onProgress);
    return { report, residualNorms: residualNorms(ctx), firing: ctx.firing };
  } catch (e) {
    if (e instanceof Error && e.name === 'InputError') return { reason: e.message };
    throw e;
  }
}

/** A section's own "why not" (skipped, too few rows, no λ_e …), or undefined when it computed. */
function sectionReason(report: DiagnosticReport, name: SectionName): string | undefined {
  const s = report.sections[name];
  if (!s) return `the ${name} section did not run`;
  const r = 'reason' in s ? s.reason : undefined;
  return typeof r === 'string' ? r : r?.[name];
}

const f32 = (v: ArrayLike<number>): Float32Array => Float32Array.from(v);

/** Maps runDiagnostics' report onto the residual-diagnostics panel model. */
export function diagnosticsModel(pd: PanelDiagnostics, card: SaeCard, notes: string[] = []): DiagnosticsModel {
  const { report } = pd;
  const reasons: Record<string, string> = {};
  const model: DiagnosticsModel = {
    sae: card, lambdaE: report.lambdaE.value, lambdaSource: report.lambdaE.source, tokens: report.rows.context, ...(report.sample ? { sample: report.sample } : {}),
    notes: [...notes], reasons, findings: report.findings.map((f: Finding) => ({ severity: f.severity, message: f.message })),
    residualNorms: { values: pd.residualNorms, source: 'diagnostics' },
  };
  if (report.lambdaE.reason) model.notes.push(report.lambdaE.reason);
  model.notes.push(`diagnostics module on the first ${report.rows.context} tokens (exact codes a* on ${report.rows.exact})`);
  if (report.reason.heavyRows) model.notes.push(report.reason.heavyRows);

  const kktWhy = sectionReason(report, 'kkt');
  const kkt = computed(report.sections, 'kkt', 'sae')?.sae;
  if (kkt && !kktWhy) {
    const p = kkt.perLatent;
    model.perAtom = { kktOn: p.kktOn, kktOff: p.kktOff, stationarity: p.stat, flagged: p.flagged, density: pd.firing, source: 'diagnostics' };
    if (kkt.kind === 'l0') model.notes.push(`${report.sae.activation} codes are L0-type: KKT_on is ⟨d̂_i, r⟩ normalised by σ_r (target 0) and STAT is the correlation of ã_i with the residual along its pull direction (docs/diagnostics.md; docs/theory.md §B4's sin∠(g_i, d̂_i) is ≈ 1 for every L0 atom)`);
  } else reasons.perAtom = kktWhy ?? 'no KKT report';

  const resWhy = sectionReason(report, 'residual');
  const res = computed(report.sections, 'residual', 'spectrum');
  if (res && !resWhy) {
    const s = res.spectrum;
    if (s.reason) reasons.spectrum = reasons.topDirections = s.reason;
    else {
      model.spectrum = { eigenvalues: f32(s.eigenvalues), spikeRatio: s.spikeRatio, effectiveRank: s.effectiveRank, source: 'diagnostics' };
      model.topDirections = {
        kurtosis: f32(s.top.map((t) => t.kurtosis)), maxCosine: f32(s.top.map((t) => Math.abs(t.nearestCosine))),
        nearestAtom: Int32Array.from(s.top.map((t) => t.nearestAtom)), source: 'diagnostics',
      };
    }
    if (res.gain.reason) reasons.bestNewAtom = res.gain.reason;
    else model.bestNewAtom = { gain: res.gain.gStar, gainFraction: res.gain.gStarRatio, source: 'diagnostics' };
  } else reasons.spectrum = reasons.topDirections = reasons.bestNewAtom = resWhy ?? 'no residual report';

  const amWhy = sectionReason(report, 'amortisation');
  const am = computed(report.sections, 'amortisation', 'objectiveGap');
  if (am && !amWhy) model.amortisation = { objectiveGap: am.objectiveGap, supportJaccard: am.meanJaccard, encoderDead: am.encoderDead.length, dictionaryDead: am.dictionaryDead.length, source: 'diagnostics' };
  else reasons.amortisation = amWhy ?? 'no amortisation report';

  const wlWhy = sectionReason(report, 'wideLimit');
  const wl = computed(report.sections, 'wideLimit', 'fInfinity');
  if (wl && !wlWhy) {
    model.widthGap = { objective: wl.fExact, wideLimit: wl.fInfinity, gap: wl.widthGap, source: 'diagnostics' };
    if (wl.reason.widthGap) reasons.widthGap = wl.reason.widthGap;
  } else reasons.widthGap = wlWhy ?? 'no wide-limit report';

  const apWhy = sectionReason(report, 'antipodal');
  const ap = computed(report.sections, 'antipodal', 'dense');
  if (ap && !apWhy) {
    const pairs = [...ap.dense, ...ap.sparse].slice(0, TABLE_ROWS);
    model.antipodal = {
      a: Int32Array.from(pairs.map((p) => p.i)), b: Int32Array.from(pairs.map((p) => p.j)), cosine: f32(pairs.map((p) => p.cos)),
      coactivation: f32(pairs.map((p) => p.coactivation)), varianceShare: f32(pairs.map((p) => p.varianceShare)),
      dense: Uint8Array.from(pairs.map((p) => (p.kind === 'dense' ? 1 : 0))), source: 'diagnostics',
    };
  } else reasons.antipodal = apWhy ?? 'no antipodal report';

  const abWhy = sectionReason(report, 'absorption');
  const ab = computed(report.sections, 'absorption', 'parents');
  if (ab && !abWhy) {
    const rows: { p: number; c: number; rate: number; cos: number; ex: number; full: boolean }[] = [];
    for (const p of ab.parents) {
      if (!p.full && !p.partial) continue;
      for (const c of p.absorbers) rows.push({ p: p.latent, c: c.latent, rate: p.presentRows > 0 ? c.holesAbsorbed / p.presentRows : NaN, cos: c.cosine, ex: c.exclusivity, full: p.full });
    }
    rows.sort((a, b) => (b.rate || 0) - (a.rate || 0));
    const top = rows.slice(0, TABLE_ROWS);
    model.absorption = {
      parent: Int32Array.from(top.map((r) => r.p)), absorber: Int32Array.from(top.map((r) => r.c)), rate: f32(top.map((r) => r.rate)),
      cosine: f32(top.map((r) => r.cos)), exclusivity: f32(top.map((r) => r.ex)), full: Uint8Array.from(top.map((r) => (r.full ? 1 : 0))), source: 'diagnostics',
    };
  } else reasons.absorption = abWhy ?? 'no absorption report';
  return model;
}

/** The panel model when the module could not run at all: every section says why. */
export function unavailableDiagnostics(card: SaeCard, tokens: number, reason: string): DiagnosticsModel {
  const reasons: Record<string, string> = {};
  for (const k of ['residualNorms', 'perAtom', 'spectrum', 'topDirections', 'amortisation', 'widthGap', 'bestNewAtom', 'antipodal', 'absorption']) reasons[k] = reason;
  return { sae: card, lambdaE: NaN, lambdaSource: 'unknown', tokens, notes: [reason], reasons };
}

/** Flag bits the diagnostics module decides: non-stationary (B4), antipodal (C2), absorbed / absorber (C3). */
export function diagnosticFlags(pd: PanelDiagnostics, m: number): Uint8Array {
  const flags = new Uint8Array(m);
  const kkt = computed(pd.report.sections, 'kkt', 'sae')?.sae;
  if (kkt) for (let i = 0; i < m; i++) if (kkt.perLatent.flagged[i]) flags[i]! |= FLAG.nonStationary;
  const ap = computed(pd.report.sections, 'antipodal', 'dense');
  for (const p of [...(ap?.dense ?? []), ...(ap?.sparse ?? [])]) { flags[p.i]! |= FLAG.antipodal; flags[p.j]! |= FLAG.antipodal; }
  const ab = computed(pd.report.sections, 'absorption', 'parents');
  for (const p of ab?.parents ?? []) {
    if (!p.full && !p.partial) continue;
    flags[p.latent]! |= FLAG.absorbed;
    for (const c of p.absorbers) flags[c.latent]! |= FLAG.absorber;
  }
  return flags;
}

/** STAT per latent from the module (NaN where it was not measured). */
export function stationarityColumn(pd: PanelDiagnostics | undefined, m: number): Float32Array {
  const kkt = pd && computed(pd.report.sections, 'kkt', 'sae')?.sae;
  return kkt ? kkt.perLatent.stat : new Float32Array(m).fill(NaN);
}

/** One atom's B4 numbers for its feature page, from the module's per-latent arrays. */
export function atomDiagnostics(pd: PanelDiagnostics, latent: number, flags: number): AtomDiagnostics | undefined {
  const kkt = computed(pd.report.sections, 'kkt', 'sae')?.sae;
  if (!kkt) return undefined;
  const p = kkt.perLatent;
  const finite = (v: number | undefined): number | undefined => (v !== undefined && Number.isFinite(v) ? v : undefined);
  const pull = kkt.pull.find((q) => q.latent === latent);
  return {
    // NaN λ_e tells the feature page the codes are L0-type (targets 0, σ_r units, STAT as a sine).
    source: 'diagnostics', lambdaE: kkt.kind === 'l1' ? pd.report.lambdaE.value : NaN,
    kktOn: finite(p.kktOn[latent]), kktOff: finite(p.kktOff[latent]), stationarity: finite(p.stat[latent]),
    radial: kkt.kind === 'l1' ? finite(p.rad[latent]) : undefined, noiseFloor: finite(p.statSE[latent]),
    pullToward: pull && pull.toward.length ? Int32Array.from(pull.toward) : undefined,
    flags: FLAG_NAMES.filter((nm) => flags & FLAG[nm]) as FlagName[],
  };
}
