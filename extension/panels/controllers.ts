/**
 * One controller per panel: each binds its webview (base.ts) and answers `ready` with its model from
 * the data provider. `restore` functions rebuild a panel from the state its webview saved.
 */
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { PanelArgs } from '../../src/protocol/panels';
import type { DictionaryToHostEvents, HostToDictionaryEvents } from '../../src/protocol/dictionary';
import { DICTIONARY_VIEW_TYPE } from '../../src/protocol/dictionary';
import type { FeaturesToHostEvents, HostToFeaturesEvents } from '../../src/protocol/features';
import { FEATURES_VIEW_TYPE } from '../../src/protocol/features';
import type { FeatureToHostEvents, FeatureToHostRequests, HostToFeatureEvents } from '../../src/protocol/feature';
import { FEATURE_VIEW_TYPE } from '../../src/protocol/feature';
import { followFeaturePass } from './featurePass';
import type { HostToSplitTreeEvents, SplitTreeToHostEvents } from '../../src/protocol/splitTree';
import { SPLIT_TREE_VIEW_TYPE } from '../../src/protocol/splitTree';
import type { DiagnosticsToHostEvents, HostToDiagnosticsEvents } from '../../src/protocol/diagnostics';
import { DIAGNOSTICS_VIEW_TYPE } from '../../src/protocol/diagnostics';
import { bind, createPanel } from './base';
import type { Channel } from './base';
import { panelData } from './data';

type NoRequests = Record<string, [unknown, unknown]>;
const name = (args: PanelArgs): string => basename(args.saeDirs[0] ?? 'SAE');

export function dictionaryPanel(context: vscode.ExtensionContext, args: PanelArgs, panel = createPanel(context, DICTIONARY_VIEW_TYPE, `Dictionary: ${name(args)}`)): vscode.WebviewPanel {
  const ch = bind<HostToDictionaryEvents, NoRequests, DictionaryToHostEvents>(panel, context, 'dictionary', async (c) => {
    c.event('load', { model: await panelData(context).dictionary(args.saeDirs[0]!, args.activations), args });
  });
  ch.onEvent('openBrowser', () => featuresPanel(context, args));
  ch.onEvent('openDiagnostics', () => diagnosticsPanel(context, args));
  // through the command, which owns the atom map (./atomMap.ts imports this module)
  ch.onEvent('openAtomMap', () => { void vscode.commands.executeCommand('saeWorkbench.showAtomMap', args.saeDirs[0]); });
  ch.onEvent('openFeature', ({ latent }) => featurePanel(context, { ...args, latent }));
  return panel;
}

export function featuresPanel(context: vscode.ExtensionContext, args: PanelArgs, panel = createPanel(context, FEATURES_VIEW_TYPE, `Latents: ${name(args)}`)): vscode.WebviewPanel {
  const ch = bind<HostToFeaturesEvents, NoRequests, FeaturesToHostEvents>(panel, context, 'features', async (c) => {
    c.event('load', { model: await panelData(context).dictionary(args.saeDirs[0]!, args.activations), args });
  });
  ch.onEvent('openFeature', ({ latent }) => featurePanel(context, { ...args, latent }));
  ch.onEvent('compare', ({ latents }) => { for (const latent of Array.from(latents).slice(0, 4)) featurePanel(context, { ...args, latent }); });
  return panel;
}

/** Annotation saves by SAE folder: open feature pages of that SAE reload (their header shows the label). */
const annotationListeners = new Set<(saeDir: string) => void>();
export function annotationsChanged(saeDir: string): void { for (const l of annotationListeners) l(saeDir); }

export function featurePanel(context: vscode.ExtensionContext, args: PanelArgs, panel = createPanel(context, FEATURE_VIEW_TYPE, `Latent #${args.latent}: ${name(args)}`)): vscode.WebviewPanel {
  let watch: vscode.Disposable | undefined;
  // on ready, and again after an annotation of this SAE (the header shows the new label)
  const load = async (c: Channel<HostToFeatureEvents, FeatureToHostRequests, FeatureToHostEvents>): Promise<void> => {
    const model = await panelData(context).feature(args.saeDirs[0]!, args.latent ?? 0, args.activations);
    c.event('load', { model, args });
    watch?.dispose();
    if (model.pass && !model.pass.complete) watch = followFeaturePass(panelData(context), args, c);
  };
  const ch = bind<HostToFeatureEvents, FeatureToHostRequests, FeatureToHostEvents>(panel, context, 'feature', load);
  const onAnnotation = (saeDir: string): void => { if (saeDir === args.saeDirs[0]) load(ch).catch(() => undefined); };
  annotationListeners.add(onAnnotation);
  panel.onDidDispose(() => { watch?.dispose(); annotationListeners.delete(onAnnotation); });
  ch.onEvent('openFeature', ({ latent, sae }) => featurePanel(context, { ...args, saeDirs: [args.saeDirs[sae ?? 0] ?? args.saeDirs[0]!], latent }));
  ch.onRequest('annotate', (req) => panelData(context).annotate({ ...req, saeDir: args.saeDirs[0]! }));
  return panel;
}

export function splitTreePanel(context: vscode.ExtensionContext, args: PanelArgs, panel = createPanel(context, SPLIT_TREE_VIEW_TYPE, `Split tree: ${args.saeDirs.map((d) => basename(d)).join(' → ')}`)): vscode.WebviewPanel {
  const ch = bind<HostToSplitTreeEvents, NoRequests, SplitTreeToHostEvents>(panel, context, 'splitTree', async (c) => {
    c.event('load', { model: await panelData(context).splitTree(args.saeDirs, args.activations), args });
  });
  ch.onEvent('openFeature', ({ latent, sae }) => featurePanel(context, { saeDirs: [args.saeDirs[sae ?? 0]!], activations: args.activations, latent }));
  return panel;
}

export function diagnosticsPanel(context: vscode.ExtensionContext, args: PanelArgs, panel = createPanel(context, DIAGNOSTICS_VIEW_TYPE, `Diagnostics: ${name(args)}`)): vscode.WebviewPanel {
  const ch = bind<HostToDiagnosticsEvents, NoRequests, DiagnosticsToHostEvents>(panel, context, 'diagnostics', async (c) => {
    c.event('load', { model: await panelData(context).diagnostics(args.saeDirs[0]!, args.activations), args });
  });
  ch.onEvent('openFeature', ({ latent }) => featurePanel(context, { ...args, latent }));
  return panel;
}
