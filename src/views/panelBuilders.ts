/**
 * Cuts the panel models (src/protocol/viewModels.ts) out of an Analysis: the dictionary overview, a feature
 * page (its optimality numbers from the diagnostics module via ./diagnosticsPanel.ts). Also the weights-only
 * dictionary when no activations exist.
 */
import { basename } from 'node:path';
import { decoderNorms } from '../sae/forward';
import type { Sae } from '../sae/types';
import type { Analysis } from './sparsePass';
import { atomView } from './atomView';
import { basicFlags, densityFlags, maxDecoderCosine } from './sparsePass';
import type { DictionaryModel, FeatureModel, GroundTruthModel, LabelMap, Neighbours, SaeCard, SplitTreeModel, TrainingModel } from '../protocol/viewModels';
import { markSplitLatents } from './splitTreePanel';
import { latentGroundTruth } from './groundTruth';
import { passCoverage, passFields } from './featurePage';
import type { FeaturePassData } from './featurePage';
import { FLAG } from '../protocol/viewModels';
import { atomDiagnostics, diagnosticFlags, stationarityColumn } from './diagnosticsPanel';
import type { PanelDiagnostics } from './diagnosticsPanel';

export interface Annotation { label: string; note: string }

/**
 * What the panel worker and the HTML report both add to the sample's numbers: the split marks of a split
 * tree built over this SAE (by folder), and the ground-truth card. One place, so the two cannot differ.
 */
export interface PanelContext { saeDir: string; splitTree?: SplitTreeModel; groundTruth?: GroundTruthModel }

function withContext(m: DictionaryModel, ctx: PanelContext | undefined): DictionaryModel {
  if (!ctx) return m;
  markSplitLatents(m.latents.flags, ctx.splitTree, ctx.saeDir);
  if (ctx.groundTruth) m.groundTruth = ctx.groundTruth;
  return m;
}

/** A feature page's flags: the sample's, the diagnostics', and split from the tree. */
export function featureFlags(a: Analysis, diag: PanelDiagnostics | undefined, ctx: PanelContext): Uint8Array {
  const flags = latentFlags(a, diag);
  markSplitLatents(flags, ctx.splitTree, ctx.saeDir);
  return flags;
}

export function saeCard(sae: Sae): SaeCard {
  const c = sae.cfg;
  const t = c.training ?? {};
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const path = c.source?.path ?? '';
  return {
    name: path ? basename(path) : 'SAE', path, format: c.source?.format ?? 'in memory',
    architecture: String(c.metadata.architecture ?? c.activation), activation: c.activation, k: c.k,
    dIn: c.dIn, dSae: c.dSae, dOut: c.dOut, transcoder: c.transcoder, hookName: c.hookName, modelName: c.modelName,
    dtype: c.dtype, trainingTokens: num(t.tokens) ?? num(t.trainingTokens) ?? num(c.metadata.training_tokens),
    engine: typeof t.engine === 'string' ? t.engine : undefined, matryoshkaWidths: c.matryoshkaWidths,
  };
}

export function labelMap(annotations: Map<number, Annotation> | undefined): LabelMap {
  const entries = [...(annotations ?? new Map<number, Annotation>())].filter(([, a]) => a.label).sort((a, b) => a[0] - b[0]);
  return { latents: Int32Array.from(entries.map((e) => e[0])), texts: entries.map((e) => e[1].label) };
}

/** Density flags OR the diagnostics module's flags (when it ran). */
export function latentFlags(a: Analysis, diag?: PanelDiagnostics): Uint8Array {
  const flags = basicFlags(a);
  if (diag) { const more = diagnosticFlags(diag, flags.length); for (let i = 0; i < flags.length; i++) flags[i]! |= more[i]!; }
  return flags;
}

/** The overview + browser model from a full analysis (STAT and flags from the diagnostics, when given). */
export function dictionaryModel(a: Analysis, opts: { annotations?: Map<number, Annotation>; training?: TrainingModel; pages?: Int32Array; diagnostics?: PanelDiagnostics; context?: PanelContext } = {}): DictionaryModel {
  const { dSae, dOut } = a.sae.cfg;
  const cos = maxDecoderCosine(a.unitAtoms, dSae, dOut);
  const notes: string[] = [];
  if (!cos.exact) notes.push(`max decoder cosine is a lower bound: each atom was compared with ${Math.floor(4e9 / (dSae * dOut))} evenly spaced atoms, not all ${dSae}`);
  if (a.sample.skippedNonFinite) notes.push(`${a.sample.skippedNonFinite} activation rows with NaN/Inf were left out`);
  if (a.metrics.note) notes.push(a.metrics.note);
  notes.push(`statistics over ${a.sample.description} of ${basename(a.sample.path)}; a latent with density 0 here is dead on this sample, not necessarily everywhere`);
  return withContext({
    card: saeCard(a.sae), metrics: a.metrics, activationsPath: a.sample.path, measuredOn: `${a.sample.description} of ${basename(a.sample.path)}`, l0PerToken: a.l0PerToken, training: opts.training, notes,
    latents: {
      count: dSae, density: a.density, meanActivation: a.meanActivation, maxActivation: a.maxActivation, decoderNorm: a.decoderNorm,
      maxDecoderCosine: cos.value, maxCosineExact: cos.exact, stationarity: stationarityColumn(opts.diagnostics, dSae),
      stationaritySource: opts.diagnostics ? 'diagnostics' : undefined, flags: latentFlags(a, opts.diagnostics), labels: labelMap(opts.annotations), pages: opts.pages,
    },
  }, opts.context);
}

/**
 * The browser's firing columns from a feature-page pass that has read every row: density, mean and max
 * activation are then the figures the feature pages show (one definition for both panels), and dead/dense
 * are the pass's verdict, not the sample's. The reconstruction metrics stay the sample's, as stated.
 */
export function withPassStats(m: DictionaryModel, pass: FeaturePassData): DictionaryModel {
  const coverage = passCoverage(pass);
  if (!coverage.complete) return m;
  const s = pass.stats, n = m.latents.count;
  const density = new Float32Array(n), meanActivation = new Float32Array(n), maxActivation = new Float32Array(n);
  const flags = Uint8Array.from(m.latents.flags);
  for (let i = 0; i < n; i++) {
    density[i] = s.density(i); meanActivation[i] = s.meanActivation(i); maxActivation[i] = s.max[i]!;
    flags[i] = densityFlags(flags[i]!, density[i]!);
  }
  const notes = m.notes.filter((x) => !x.startsWith('statistics over '));
  notes.push(`latent density, mean and max activation over ${coverage.describe} (the feature pages' pass); the metrics above over ${m.measuredOn ?? 'the evaluation sample'}`);
  return { ...m, notes, latents: { ...m.latents, density, meanActivation, maxActivation, flags } };
}

/** Weights-only overview (no activation file): decoder geometry, no firing statistics. */
export function weightsOnlyDictionary(sae: Sae, annotations?: Map<number, Annotation>, context?: PanelContext): DictionaryModel {
  const { dSae, dOut } = sae.cfg;
  const norms = decoderNorms(sae);
  const unit = new Float32Array(dSae * dOut);
  for (let i = 0; i < dSae; i++) if (norms[i]! > 0) for (let j = 0; j < dOut; j++) unit[i * dOut + j] = sae.wDec[i * dOut + j]! / norms[i]!;
  const cos = maxDecoderCosine(unit, dSae, dOut);
  const nan = (): Float32Array => new Float32Array(dSae).fill(NaN);
  const density = sae.logDensity ? Float32Array.from(sae.logDensity, (v) => 10 ** v) : nan();
  return withContext({
    card: saeCard(sae), activationsPath: '', l0PerToken: new Float32Array(0),
    metrics: { tokens: 0, explainedVariance: NaN, l0: NaN, deadFraction: NaN, denseFraction: NaN, msePerElement: NaN, ssePerToken: NaN, note: 'no activation file: only the decoder geometry is shown' },
    notes: [sae.logDensity ? 'density from sparsity.safetensors (training-time estimate)' : 'no activation file was given: open the panel with an activation .npy to see firing statistics'],
    latents: {
      count: dSae, density, meanActivation: nan(), maxActivation: nan(), decoderNorm: norms, maxDecoderCosine: cos.value, maxCosineExact: cos.exact,
      stationarity: nan(), flags: new Uint8Array(dSae), labels: labelMap(annotations),
    },
  }, context);
}

function topK(values: Float32Array | Float64Array, k: number, exclude: number): Neighbours {
  const order: number[] = [];
  for (let i = 0; i < values.length; i++) if (i !== exclude && Number.isFinite(values[i]!)) order.push(i);
  order.sort((p, q) => values[q]! - values[p]! || p - q);
  const pick = order.slice(0, k);
  return { latents: Int32Array.from(pick), values: Float32Array.from(pick, (i) => values[i]!) };
}

/** The text of one activation row: its token (decoded alone), else its row label. */
function rowToken(text: FeaturePassData['text'], row: number): string | undefined {
  const t = text.tokens;
  if (t && row < t.ids.length) return t.decoder.decode(t.ids, row, row + 1).texts[0];
  return text.labels?.texts[row];
}

/**
 * The feature page of one latent: activity, histogram, examples and logit effects from the whole-data
 * pass (./featurePage.ts); neighbours and diagnostics from the analysis sample.
 */
export function featureModel(a: Analysis, latent: number, flags: Uint8Array, pass: FeaturePassData, annotation?: Annotation, diag?: PanelDiagnostics, groundTruth?: GroundTruthModel): FeatureModel {
  const { dSae, dOut } = a.sae.cfg;
  const { colPtr, rows } = a.codes;
  const start = colPtr[latent]!, end = colPtr[latent + 1]!;
  // Nearest by decoder cosine: one row of D̂D̂ᵀ.
  const u = a.unitAtoms.subarray(latent * dOut, (latent + 1) * dOut);
  const cosRow = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let s = 0;
    for (let k = 0; k < dOut; k++) s += u[k]! * a.unitAtoms[j * dOut + k]!;
    cosRow[j] = a.decoderNorm[j]! > 0 ? s : NaN;
  }
  // Nearest by co-activation: Jaccard of firing sets.
  const co = new Float64Array(dSae);
  for (let t = start; t < end; t++) {
    const r = rows[t]!;
    for (let e = a.codes.rowPtr[r]!; e < a.codes.rowPtr[r + 1]!; e++) co[a.codes.idx[e]!]! += 1;
  }
  const ni = end - start;
  const jac = new Float64Array(dSae).fill(NaN);
  for (let j = 0; j < dSae; j++) if (co[j]! > 0) jac[j] = co[j]! / (ni + (colPtr[j + 1]! - colPtr[j]!) - co[j]!);
  let f = flags[latent]!;
  const fields = passFields(a.sae, pass, latent);
  // once the pass has read every row, dead and dense are its verdict, not the sample's
  if (fields.pass?.complete) f = densityFlags(f, fields.density);
  const diagnostics = diag ? atomDiagnostics(diag, latent, f) : undefined;
  return {
    latent, sae: saeCard(a.sae), label: annotation?.label ?? '', note: annotation?.note ?? '',
    ...fields, decoderNorm: a.decoderNorm[latent]!,
    nearestByDecoder: topK(cosRow, 8, latent), nearestByCoactivation: topK(jac, 8, latent), diagnostics,
    atom: atomView(a, latent, (row) => rowToken(pass.text, row)),
    ...(groundTruth ? { groundTruth: latentGroundTruth(groundTruth, latent) } : {}),
  };
}

/**
 * Which latents get a page in a report: the most frequent live ones (by `density`), the flagged ones and the
 * annotated ones, up to `limit`, in latent order.
 */
export function pickReportLatents(density: ArrayLike<number>, flags: Uint8Array, limit: number, annotations?: Map<number, Annotation>, stationarity?: Float32Array): Int32Array {
  const stat = (i: number): number => { const v = stationarity?.[i]; return v !== undefined && Number.isFinite(v) ? v : -Infinity; };
  const chosen = new Set<number>();
  for (const k of annotations?.keys() ?? []) if (chosen.size < limit && k < flags.length) chosen.add(k);
  const flagged = [...flags.keys()].filter((i) => flags[i]! & (FLAG.dense | FLAG.nonStationary)).sort((p, q) => stat(q) - stat(p));
  for (const i of flagged.slice(0, Math.floor(limit / 4))) if (chosen.size < limit) chosen.add(i);
  const live = [...flags.keys()].filter((i) => density[i]! > 0).sort((p, q) => density[q]! - density[p]! || p - q);
  for (const i of live) { if (chosen.size >= limit) break; chosen.add(i); }
  return Int32Array.from([...chosen].sort((p, q) => p - q));
}
