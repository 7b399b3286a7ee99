/**
 * The panels' public face for the rest of the extension: commands call these, activate() calls
 * registerPanels. Each panel has a controller (controllers.ts, on base.ts) and a typed protocol in
 * src/protocol. The signatures below are the contract with the host.
 */
import * as vscode from 'vscode';
import type { TrainingProgress } from '../../src/protocol/training';
import type { PanelArgs, PanelState } from '../../src/protocol/panels';
import { DICTIONARY_VIEW_TYPE } from '../../src/protocol/dictionary';
import { FEATURES_VIEW_TYPE } from '../../src/protocol/features';
import { FEATURE_VIEW_TYPE } from '../../src/protocol/feature';
import { SPLIT_TREE_VIEW_TYPE } from '../../src/protocol/splitTree';
import { DIAGNOSTICS_VIEW_TYPE } from '../../src/protocol/diagnostics';
import { TRAINING_VIEW_TYPE } from '../../src/protocol/trainingPanel';
import { dictionaryPanel, diagnosticsPanel, featurePanel, featuresPanel, splitTreePanel } from './controllers';
import { trainingPanel } from './trainingMonitor';
import type { TrainingControls } from './trainingMonitor';
import { webviewOptions } from '../webviewHtml';
import { ATOM_MAP_VIEW_TYPE } from '../../src/protocol/atomMap';
import { atomMapPanel } from './atomMap';
import { panelData } from './data';

export { setPanelDataProvider, setAnnotationSink } from './data';
export { annotationsChanged } from './controllers';
export type { PanelDataProvider } from './data';
export type { TrainingControls, RunStatus } from './trainingMonitor';

/** What a restored monitor is fed with: the live run's events, or what a finished run left behind. */
export type TrainingRestorer = (runId: string) => { progress?: vscode.Event<TrainingProgress>; controls?: TrainingControls };
let trainingRestorer: TrainingRestorer = () => ({});
/** Set at activation by whoever runs the trainings (extension/training.ts). */
export function setTrainingRestorer(r: TrainingRestorer): void { trainingRestorer = r; }

function validArgs(state: unknown): PanelArgs | undefined {
  const args = (state as PanelState | undefined)?.args;
  if (!args || !Array.isArray(args.saeDirs) || !args.saeDirs.every((d) => typeof d === 'string')) return undefined;
  return args;
}

/** Registers the webview serializers (restore after reload) and anything panels need at start. */
export function registerPanels(context: vscode.ExtensionContext): void {
  const restore = (viewType: string, open: (args: PanelArgs, panel: vscode.WebviewPanel) => void): void => {
    context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(viewType, {
      deserializeWebviewPanel: async (panel, state) => {
        panel.webview.options = webviewOptions(context.extensionUri);
        const args = validArgs(state);
        if (!args) { panel.dispose(); return; }
        open(args, panel);
      },
    }));
  };
  restore(DICTIONARY_VIEW_TYPE, (a, p) => dictionaryPanel(context, a, p));
  restore(FEATURES_VIEW_TYPE, (a, p) => featuresPanel(context, a, p));
  restore(FEATURE_VIEW_TYPE, (a, p) => featurePanel(context, a, p));
  restore(SPLIT_TREE_VIEW_TYPE, (a, p) => splitTreePanel(context, a, p));
  restore(DIAGNOSTICS_VIEW_TYPE, (a, p) => diagnosticsPanel(context, a, p));
  restore(ATOM_MAP_VIEW_TYPE, (a, p) => atomMapPanel(context, a, p));
  // A restored monitor shows the run's true state: live in this window, else as it ended (its record and log).
  restore(TRAINING_VIEW_TYPE, (a, p) => { const r = trainingRestorer(a.runId ?? ''); trainingPanel(context, a.runId ?? '', r.progress, r.controls, p); });
}

export function showDictionary(context: vscode.ExtensionContext, saeDir: string, activations: string): void { dictionaryPanel(context, { saeDirs: [saeDir], activations }); }
/** The feature browser (all latents in a table); also reachable from the dictionary overview. */
export function showFeatureBrowser(context: vscode.ExtensionContext, saeDir: string, activations?: string): void { featuresPanel(context, { saeDirs: [saeDir], activations }); }
export function showFeature(context: vscode.ExtensionContext, saeDir: string, latent: number, activations: string): void { featurePanel(context, { saeDirs: [saeDir], latent, activations }); }
export function showSplitTree(context: vscode.ExtensionContext, saeDirs: string[], activations?: string): void { splitTreePanel(context, { saeDirs, activations }); }
export function showDiagnostics(context: vscode.ExtensionContext, saeDir: string, activations?: string): void { diagnosticsPanel(context, { saeDirs: [saeDir], activations }); }
/** The atom map of one SAE, or of several sharing one map (a split family then shows as a group). */
export function showAtomMap(context: vscode.ExtensionContext, saeDirs: string[], activations?: string): void { atomMapPanel(context, { saeDirs, activations }); }
/** `controls` (optional, additive): cancel/resume and run status from whoever started the run. */
export function showTrainingMonitor(context: vscode.ExtensionContext, runId: string, progress: vscode.Event<TrainingProgress>, controls?: TrainingControls): void { trainingPanel(context, runId, progress, controls); }
/** The Export Report command's work: writes one self-contained HTML file (in the analysis worker). */
export function exportReport(context: vscode.ExtensionContext, saeDir: string, out: string, activations?: string): Promise<{ out: string; bytes: number }> {
  return panelData(context).report(saeDir, out, activations);
}
