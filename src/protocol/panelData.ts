/**
 * The panel-data worker's channel (extension/panels/data.ts ↔ src/workers/panelData.worker.ts): the panel
 * models it answers and the feature-page pass's progress events. Type-only module.
 */
import type { DiagnosticsModel, DictionaryModel, EvalRecord, FeatureModel, PassProgress, SplitTreeModel } from './viewModels';

/** Worker → host events: how far a feature-page pass has got (throttled), and its end. */
export type PanelDataEvents = { featurePass: PassProgress };
export type PanelDataRequests = {
  dictionary: [{ saeDir: string; activations?: string }, DictionaryModel];
  feature: [{ saeDir: string; latent: number; activations?: string }, FeatureModel];
  diagnostics: [{ saeDir: string; activations?: string }, DiagnosticsModel];
  /** Writes a synthetic dataset (src/synthetic generate + writeSynthetic); `kind` is g1..g7 or an alias. */
  synthetic: [{ kind: string; outDir: string; tokens?: number; seed?: number }, { activations: string; groundTruth: string; rows: number; d: number; features: number }];
  /** buildSplitTree over 2+ SAEs of different widths (or one Matryoshka SAE) on the same activations. */
  splitTree: [{ saeDirs: string[]; activations?: string }, SplitTreeModel];
  /** The SAE's metrics on its data (the cached eval.json when it still applies), written beside it. */
  evaluate: [{ saeDir: string; activations: string }, EvalRecord | undefined];
  /** Writes the self-contained HTML report; answers with its size in bytes. */
  report: [{ saeDir: string; activations?: string; out: string; features?: number }, { out: string; bytes: number }];
  /** The rows the feature pages' passes read from now on (the setting saeWorkbench.featurePages.maxRows; 0 = every row, 'auto' = the cap the SAE's size pays for). */
  passRows: [{ maxRows: number | 'auto'; seed: number }, void];
};
