/**
 * Builds a ReportModel from an SAE folder and an activation file: the analysis pass, the overview, the
 * chosen feature pages, the diagnostics module's report (run here at a report-sized budget unless the
 * caller ran it), the training log beside the SAE, and an optional split tree. Used by `sae-workbench report`, `demo` and the
 * extension's Export Report command.
 */
import { basename, join, resolve } from 'node:path';
import { loadSae } from '../formats';
import type { Sae } from '../sae/types';
import { readActivationSample } from './activations';
import { analyse } from './sparsePass';
import type { Analysis } from './sparsePass';
import type { Annotation } from './panelBuilders';
import { dictionaryModel, featureModel, pickReportLatents, saeCard, weightsOnlyDictionary, withPassStats } from './panelBuilders';
import { diagnosticsModel, fileDiagnostics, panelDiagnostics, stationarityColumn, unavailableDiagnostics } from './diagnosticsPanel';
import type { PanelDiagnosticOptions, PanelDiagnostics } from './diagnosticsPanel';
import type { DiagnosticsModel, DictionaryModel, ReportModel, SplitTreeModel } from '../protocol/viewModels';
import { atomMapModel } from './atomMap';
import type { AtomMapModel } from '../protocol/viewModels';
import { atomMapLayoutOf } from './atomMapLayout';
import { groundTruthModel } from './groundTruth';
import { readTrainingLog, TRAINING_LOG_FILE } from './trainingLog';
import { readAnnotations } from './annotations';
import { featurePass } from './featurePass';
import type { PassRows } from './featurePass';
import { pageData, passCoverage } from './featurePage';

export interface ReportOptions {
  saeDir: string;
  activations?: string;
  /** Tokens of the activation file to evaluate on (the first rows). */
  maxTokens?: number;
  /** How many feature pages to include. */
  features?: number;
  annotations?: Map<number, Annotation>;
  /** Diagnostics already run by the caller (src/views/diagnosticsPanel.ts panelDiagnostics on the same sample). */
  diagnostics?: PanelDiagnostics;
  /** Budget for the diagnostics when the report runs them (rows, exact rows, skipped sections). */
  diagnosticOptions?: PanelDiagnosticOptions;
  splitTree?: SplitTreeModel;
  title?: string;
  /** Include the atom map tab (default: when all the mapped SAEs hold at most ATOM_MAP_REPORT_LIMIT atoms). */
  atomMap?: boolean;
  /** Rows the feature pages' pass reads (default DEFAULT_PASS_ROWS: every row up to its cap, a uniform sample above). */
  pageRows?: PassRows;
  /** Reports progress in words (the CLI prints it to stderr). */
  onProgress?: (what: string) => void;
}


export function buildReport(o: ReportOptions): ReportModel {
  const progress = o.onProgress ?? (() => undefined);
  o = { ...o, annotations: o.annotations ?? readAnnotations(o.saeDir) };
  progress(`loading ${o.saeDir}`);
  const sae: Sae = loadSae(o.saeDir);
  const training = readTrainingLog(join(o.saeDir, TRAINING_LOG_FILE))?.model;
  const title = o.title ?? `SAE report: ${saeCard(sae).name}`;
  const createdAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (!o.activations) {
    const dictionary = weightsOnlyDictionary(sae, o.annotations, { saeDir: o.saeDir, splitTree: o.splitTree, groundTruth: groundTruthModel(sae, o.saeDir) });
    dictionary.training = training;
    return { title, createdAt, dictionary, features: [], training, splitTree: o.splitTree };
  }
  progress(`reading ${o.activations}`);
  const sample = readActivationSample(o.activations, o.maxTokens ?? 4096, sae.cfg.dIn);
  progress(`encoding ${sample.n} tokens`);
  const a: Analysis = analyse(sae, sample);
  progress('running diagnostics');
  // Without a row budget the report runs `diagnose` itself (its sample, its figures); a budget (tests) keeps the panels' cut.
  const onSection = (sec: string): void => progress(`diagnostics: ${sec}`);
  const pd = o.diagnostics ?? (o.diagnosticOptions ? panelDiagnostics(sae, sample.x, sample.n, { ...o.diagnosticOptions, onProgress: onSection }) : fileDiagnostics(sae, o.activations, onSection));
  const diag = 'report' in pd ? pd : undefined;
  const card = saeCard(sae);
  const diagnostics: DiagnosticsModel = diag ? diagnosticsModel(diag, card) : unavailableDiagnostics(card, sample.n, (pd as { reason: string }).reason);
  progress('comparing with the ground truth');
  const context = { saeDir: o.saeDir, splitTree: o.splitTree, groundTruth: groundTruthModel(sae, o.saeDir, o.activations) };
  progress('computing decoder geometry');
  let dictionary = dictionaryModel(a, { annotations: o.annotations, training, diagnostics: diag, context });
  progress('feature pages: one pass over the rows');
  const run = featurePass(sae, o.activations, { saeDir: o.saeDir, rows: o.pageRows, onProgress: (done, rows) => progress(`feature pages: ${done} of ${rows} rows`) });
  try {
    const pass = pageData(sae, run.stats, run.source);
    dictionary = withPassStats(dictionary, pass);
    const pages = pickReportLatents(dictionary.latents.density, dictionary.latents.flags, o.features ?? 48, o.annotations, stationarityColumn(diag, sae.cfg.dSae));
    dictionary.latents.pages = pages;
    dictionary.notes.push(`feature pages: activity, examples and histograms over ${passCoverage(pass).describe}`);
    progress(`writing ${pages.length} feature pages`);
    const features = Array.from(pages, (l) => featureModel(a, l, dictionary.latents.flags, pass, o.annotations?.get(l), diag, context.groundTruth));
    const atomMap = reportAtomMap(o, sae, dictionary, diagnostics, progress);
    return { title, createdAt, dictionary, features, diagnostics, splitTree: o.splitTree, training, atomMap };
  } finally {
    run.source.close();
  }
}

/** Above this many atoms (all mapped SAEs together) the report leaves the map to the panel, which caches it. */
export const ATOM_MAP_REPORT_LIMIT = 32768;

/**
 * The report's atom map: this SAE, or every SAE of the split tree on one map (so a split family shows
 * as a group); only this SAE has density and diagnostics, the others their weights.
 */
function reportAtomMap(o: ReportOptions, sae: Sae, dictionary: DictionaryModel, diagnostics: DiagnosticsModel, progress: (what: string) => void): AtomMapModel | undefined {
  const dirs = [o.saeDir, ...(o.splitTree?.saes.map((s) => s.path).filter((p) => resolve(p) !== resolve(o.saeDir)) ?? [])];
  // a tree written elsewhere may name folders that are not here: those SAEs are left off the map
  const others = dirs.slice(1).flatMap((d) => { try { return [{ dir: d, sae: loadSae(d) }]; } catch { return []; } })
    .filter(({ sae }) => sae.cfg.dOut === dictionary.card.dOut);
  const atoms = dictionary.latents.count + others.reduce((t, x) => t + x.sae.cfg.dSae, 0);
  if (o.atomMap === false || (o.atomMap === undefined && atoms > ATOM_MAP_REPORT_LIMIT)) return undefined;
  progress(`laying out the atom map (${atoms} atoms)`);
  // the SAEs are loaded once here; the layout reuses them (and its cache sits beside the report's SAE)
  const layout = atomMapLayoutOf([{ dir: o.saeDir, sae }, ...others]);
  return atomMapModel({
    saes: [{ name: basename(o.saeDir), dir: o.saeDir, dictionary, diagnostics },
      ...others.map(({ dir, sae }) => ({ name: basename(dir), dir, dictionary: weightsOnlyDictionary(sae, readAnnotations(dir)) }))],
    xy: layout.xy, tree: o.splitTree, layout: { seed: layout.seed, neighbors: layout.neighbors, epochs: layout.epochs, cached: layout.cached },
  });
}
