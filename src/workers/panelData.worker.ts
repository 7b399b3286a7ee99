/**
 * Worker thread behind the panels: loads an SAE and its evaluation sample once, runs the analysis pass
 * and the diagnostics module (at a panel budget), and answers the panel models; builds split trees across
 * SAEs. Keeps the last few analyses and diagnostics (keyed by SAE folder + activation file).
 */
import { parentPort } from 'node:worker_threads';
import { loadSae } from '../formats';
import { MessageHandler } from '../runtime/rpc';
import { readActivationSample } from '../views/activations';
import { analyse } from '../views/sparsePass';
import type { Analysis } from '../views/sparsePass';
import { dictionaryModel, featureFlags, featureModel, saeCard, weightsOnlyDictionary, withPassStats } from '../views/panelBuilders';
import { diagnosticsModel, panelDiagnostics, unavailableDiagnostics } from '../views/diagnosticsPanel';
import type { PanelDiagnostics } from '../views/diagnosticsPanel';
import type { DictionaryModel, SplitTreeModel } from '../protocol/viewModels';
import { splitTreeForSaes, treeColumnsOf } from '../views/splitTreePanel';
import { groundTruthModel } from '../views/groundTruth';
import type { GroundTruthModel } from '../protocol/viewModels';
import { generate, parseKind, writeSynthetic } from '../synthetic';
import { readTrainingLog, TRAINING_LOG_FILE } from '../views/trainingLog';
import { buildReport } from '../views/buildReport';
import { writeReport } from '../views/html';
import { join, resolve } from 'node:path';
import { readEvalRecord, writeEvalRecord } from '../views/evalCache';
import type { PanelDataEvents, PanelDataRequests } from '../protocol/panelData';
import { InputError } from '../errors';
import { readAnnotations } from '../views/annotations';
import { diagnosticsPool } from '../diagnostics/pool';
import { finishedPassData, passDataFor, setPassRows } from '../views/featurePassRuns';
import { labelTreeNodes } from '../views/treeLabels';
import type { FeaturePassData } from '../views/featurePage';

const MAX_TOKENS = 4096;
interface Entry { a: Analysis; diag?: PanelDiagnostics | { reason: string }; groundTruth?: GroundTruthModel }
const cache = new Map<string, Entry>();

function entryFor(saeDir: string, activations: string): Entry {
  const key = `${saeDir}\0${activations}`;
  let e = cache.get(key);
  if (!e) {
    // the diagnostics' pool workers load while the SAE and its sample are read
    diagnosticsPool();
    const sae = loadSae(saeDir);
    e = { a: analyse(sae, readActivationSample(activations, MAX_TOKENS, sae.cfg.dIn)) };
    if (cache.size >= 3) cache.delete(cache.keys().next().value!);
    cache.set(key, e);
    // the explorer and CodeLens show these figures: the same sample every panel uses
    writeEvalRecord(saeDir, activations, e.a.sample.description, e.a.metrics);
  }
  return e;
}

function analysisFor(saeDir: string, activations: string): Analysis {
  return entryFor(saeDir, activations).a;
}

/** The diagnostics module's report for this SAE + sample, run once (panel budget) and cached. */
function diagnosticsFor(saeDir: string, activations: string): PanelDiagnostics | { reason: string } {
  const e = entryFor(saeDir, activations);
  e.diag ??= panelDiagnostics(e.a.sae, e.a.sample.x, e.a.sample.n);
  return e.diag;
}

/** The ground-truth card for this SAE + sample (src/views/groundTruth.ts), computed once and cached. */
function groundTruthFor(saeDir: string, activations: string): GroundTruthModel {
  const e = entryFor(saeDir, activations);
  e.groundTruth ??= groundTruthModel(e.a.sae, saeDir, activations);
  return e.groundTruth;
}

/**
 * Split trees this worker built (the split-tree panel), newest first: the feature browser, overview and
 * feature page mark FLAG.split for an SAE that a known tree holds by folder (not by a width that happens
 * to match).
 */
const knownTrees: SplitTreeModel[] = [];
const MAX_TREES = 4;
function treeFor(saeDir: string): SplitTreeModel | undefined {
  return knownTrees.find((t) => treeColumnsOf(t, saeDir).length > 0);
}

const ran = (d: PanelDiagnostics | { reason: string }): PanelDiagnostics | undefined => ('report' in d ? d : undefined);

if (parentPort) {
  const port = parentPort;
  const rpc = new MessageHandler<Record<string, [unknown, unknown]>, PanelDataEvents, PanelDataRequests, Record<string, unknown>>((m) => port.postMessage(m));
  port.on('message', (m) => { void rpc.receive(m); });
  rpc.onRequest('dictionary', ({ saeDir, activations }) => {
    const training = readTrainingLog(join(saeDir, TRAINING_LOG_FILE))?.model;
    const annotations = readAnnotations(saeDir);
    let m: DictionaryModel;
    if (!activations) {
      const sae = loadSae(saeDir);
      m = { ...weightsOnlyDictionary(sae, annotations, { saeDir, splitTree: treeFor(saeDir), groundTruth: groundTruthModel(sae, saeDir) }), training };
    } else {
      // start the feature-page pass now, so that pages are ready (or filling) when one is opened
      try { passData(saeDir, activations); } catch { /* the feature page reports it */ }
      const a = analysisFor(saeDir, activations);
      m = dictionaryModel(a, { training, annotations, diagnostics: ran(diagnosticsFor(saeDir, activations)), context: { saeDir, splitTree: treeFor(saeDir), groundTruth: groundTruthFor(saeDir, activations) } });
      // once a pass has read every row (here or cached beside the SAE), the browser shows its figures
      const full = finishedPassData(a.sae, saeDir, activations);
      if (full) m = withPassStats(m, full);
    }
    return m;
  });
  // feature pages come from one pass over every row, run here a chunk per event-loop turn
  const passData = (saeDir: string, activations: string): FeaturePassData => passDataFor(analysisFor(saeDir, activations).sae, saeDir, activations, (p) => rpc.event('featurePass', p));
  rpc.onRequest('feature', ({ saeDir, latent, activations }) => {
    if (!activations) throw new InputError(saeDir, 'a feature page needs an activation file (none given, no activations.npy beside the SAE)');
    const a = analysisFor(saeDir, activations);
    if (!Number.isInteger(latent) || latent < 0 || latent >= a.sae.cfg.dSae) throw new InputError(saeDir, `latent ${latent} is out of range [0, ${a.sae.cfg.dSae})`);
    const pass = passData(saeDir, activations);
    const diag = ran(diagnosticsFor(saeDir, activations));
    const flags = featureFlags(a, diag, { saeDir, splitTree: treeFor(saeDir) });
    return featureModel(a, latent, flags, pass, readAnnotations(saeDir).get(latent), diag, groundTruthFor(saeDir, activations));
  });
  rpc.onRequest('passRows', (rows) => { setPassRows(rows); });
  rpc.onRequest('report', ({ saeDir, activations, out, features }) => {
    const bytes = writeReport(out, buildReport({ saeDir, activations, features, splitTree: treeFor(saeDir) }));
    return { out, bytes };
  });
  rpc.onRequest('evaluate', ({ saeDir, activations }) => {
    const have = readEvalRecord(saeDir);
    if (have && have.activations === resolve(activations)) return have;
    // an analysis cached from before (another data source was evaluated since) is written again
    const { a } = entryFor(saeDir, activations);
    return writeEvalRecord(saeDir, activations, a.sample.description, a.metrics);
  });
  rpc.onRequest('synthetic', ({ kind, outDir, tokens, seed }) => {
    const ds = generate(parseKind(kind), { tokens, seed });
    return { ...writeSynthetic(ds, outDir), rows: ds.n, d: ds.d, features: ds.nFeatures };
  });
  rpc.onRequest('splitTree', ({ saeDirs, activations }) => {
    if (!activations) throw new InputError(saeDirs[0] ?? 'split tree', 'a split tree needs the activation file the SAEs share (none given, no activations.npy beside the first SAE)');
    const tree = splitTreeForSaes(saeDirs, activations);
    labelTreeNodes(tree, { annotations: readAnnotations, pass: (dir) => finishedPassData(loadSae(dir), dir, activations) });
    knownTrees.unshift(tree);
    knownTrees.length = Math.min(knownTrees.length, MAX_TREES);
    return tree;
  });
  rpc.onRequest('diagnostics', ({ saeDir, activations }) => {
    if (!activations) throw new InputError(saeDir, 'diagnostics need an activation file (none given, no activations.npy beside the SAE)');
    const a = analysisFor(saeDir, activations);
    const d = diagnosticsFor(saeDir, activations);
    return 'report' in d ? diagnosticsModel(d, saeCard(a.sae)) : unavailableDiagnostics(saeCard(a.sae), a.sample.n, d.reason);
  });
}
