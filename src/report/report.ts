/**
 * Builds a ReportModel from an SAE folder and an activation file: the analysis pass, the overview, the
 * chosen feature pages, the diagnostics module's report (run here at a report-sized budget unless the
 * caller ran it), the training log beside the SAE, and an optional split tree. Used by `sae-workbench report`, `demo` and the
 * extension's Export Report command.
 */
import { join } from 'node:path';
import { loadSae } from '../formats';
import type { Sae } from '../sae/types';
import { readActivationSample } from './activations';
import { analyse } from './analyze';
import type { Analysis } from './analyze';
import type { Annotation } from './build';
import { dictionaryModel, featureModel, pickReportLatents, saeCard, weightsOnlyDictionary } from './build';
import { diagnosticsModel, fileDiagnostics, panelDiagnostics, stationarityColumn, unavailableDiagnostics } from './diagnostics';
import type { PanelDiagnosticOptions, PanelDiagnostics } from './diagnostics';
import type { DiagnosticsModel, ReportModel, SplitTreeModel } from './model';
import { markSplitLatents } from './splitTree';
import { groundTruthModel, latentGroundTruth } from './groundTruth';
import { readTrainingLog, TRAINING_LOG_FILE } from './trainingLog';
import { readAnnotations } from './annotations';

export interface ReportOptions {
  saeDir: string;
  activations?: string;
  /** Tokens of the activation file to evaluate on (the first rows). */
  maxTokens?: number;
  /** How many feature pages to include. */
  features?: number;
  annotations?: Map<number, Annotation>;
  /** Diagnostics already run by the caller (src/report/diagnostics.ts panelDiagnostics on the same sample). */
  diagnostics?: PanelDiagnostics;
  /** Budget for the diagnostics when the report runs them (rows, exact rows, skipped sections). */
  diagnosticOptions?: PanelDiagnosticOptions;
  splitTree?: SplitTreeModel;
  title?: string;
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
    const dictionary = weightsOnlyDictionary(sae, o.annotations);
    markSplitLatents(dictionary.latents.flags, o.splitTree, o.saeDir);
    dictionary.training = training;
    dictionary.groundTruth = groundTruthModel(sae, o.saeDir);
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
  progress('computing decoder geometry');
  const dictionary = dictionaryModel(a, { annotations: o.annotations, training, diagnostics: diag });
  markSplitLatents(dictionary.latents.flags, o.splitTree, o.saeDir);
  progress('comparing with the ground truth');
  dictionary.groundTruth = groundTruthModel(sae, o.saeDir, o.activations);
  const pages = pickReportLatents(a, dictionary.latents.flags, o.features ?? 48, o.annotations, stationarityColumn(diag, sae.cfg.dSae));
  dictionary.latents.pages = pages;
  progress(`writing ${pages.length} feature pages`);
  const features = Array.from(pages, (l) => ({ ...featureModel(a, l, dictionary.latents.flags, o.annotations?.get(l), diag), groundTruth: latentGroundTruth(dictionary.groundTruth, l) }));
  return { title, createdAt, dictionary, features, diagnostics, splitTree: o.splitTree, training };
}
