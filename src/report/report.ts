/**
 * Builds a ReportModel from an SAE folder and an activation file: the analysis pass, the overview, the
 * chosen feature pages, provisional diagnostics (or the diagnostics module's, when given), the training
 * log beside the SAE, and an optional split tree. Used by `sae-workbench report`, `demo` and the
 * extension's Export Report command.
 */
import { join } from 'node:path';
import { loadSae } from '../formats';
import type { Sae } from '../sae/types';
import { readActivationSample } from './activations';
import { analyse } from './analyze';
import type { Analysis } from './analyze';
import type { Annotation } from './build';
import { dictionaryModel, featureModel, pickReportLatents, provisionalDiagnostics, saeCard, weightsOnlyDictionary } from './build';
import type { DiagnosticsModel, ReportModel, SplitTreeModel } from './model';
import { readTrainingLog } from './trainingLog';
import { readAnnotations } from './annotations';

export interface ReportOptions {
  saeDir: string;
  activations?: string;
  /** Tokens of the activation file to evaluate on (the first rows). */
  maxTokens?: number;
  /** How many feature pages to include. */
  features?: number;
  annotations?: Map<number, Annotation>;
  /** Diagnostics from src/diagnostics, mapped to the model; replaces the provisional ones. */
  diagnostics?: DiagnosticsModel;
  splitTree?: SplitTreeModel;
  title?: string;
  /** Reports progress in words (the CLI prints it to stderr). */
  onProgress?: (what: string) => void;
}

export const TRAINING_LOG_FILE = 'training_log.jsonl';

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
    dictionary.training = training;
    return { title, createdAt, dictionary, features: [], training, diagnostics: o.diagnostics, splitTree: o.splitTree };
  }
  progress(`reading ${o.activations}`);
  const sample = readActivationSample(o.activations, o.maxTokens ?? 4096, sae.cfg.dIn);
  progress(`encoding ${sample.n} tokens`);
  const a: Analysis = analyse(sae, sample);
  progress('computing decoder geometry');
  const provisional = dictionaryModel(a, { annotations: o.annotations, training });
  const pages = pickReportLatents(a, provisional.latents.flags, o.features ?? 48, o.annotations);
  provisional.latents.pages = pages;
  progress(`writing ${pages.length} feature pages`);
  const features = Array.from(pages, (l) => featureModel(a, l, provisional.latents.flags, o.annotations?.get(l)));
  return { title, createdAt, dictionary: provisional, features, diagnostics: o.diagnostics ?? provisionalDiagnostics(a, provisional.latents.flags), splitTree: o.splitTree, training };
}
