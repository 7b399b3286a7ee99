/**
 * The atom map panel's controller: the layout runs in its own worker (src/workers/atomMap.worker.ts,
 * progress forwarded to the webview); the colour columns come from the panels' data provider (density
 * and flags of the dictionary model, antipodal pairs from the diagnostics, families from the split tree
 * when several SAEs share the map), composed by src/views/atomMap.ts.
 */
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { AnnotationStore } from '../../src/annotations/store';
import { MessageHandler } from '../../src/runtime/rpc';
import type { AtomMapToHostEvents, HostToAtomMapEvents } from '../../src/protocol/atomMap';
import { ATOM_MAP_VIEW_TYPE } from '../../src/protocol/atomMap';
import type { PanelArgs } from '../../src/protocol/panels';
import { atomMapModel } from '../../src/views/atomMap';
import type { AtomMapInputs } from '../../src/views/atomMap';
import type { AtomMapWorkerEvents, AtomMapWorkerRequests } from '../../src/protocol/atomMap';
import type { CachedLayout } from '../../src/protocol/viewModels';
import type { DiagnosticsModel, SplitTreeModel } from '../../src/protocol/viewModels';
import { bind, createPanel } from './base';
import { featurePanel, featuresPanel } from './controllers';
import { findActivations, panelData } from './data';

type NoRequests = Record<string, [unknown, unknown]>;

/** Runs one layout in a fresh worker (ended when done): layouts are rare and large. */
function layoutInWorker(context: vscode.ExtensionContext, saeDirs: string[], onProgress: (p: AtomMapWorkerEvents['progress']) => void): Promise<CachedLayout> {
  const worker = new Worker(join(context.extensionPath, 'dist', 'workers', 'atomMap.worker.js'));
  const rpc = new MessageHandler<AtomMapWorkerRequests, Record<string, unknown>, Record<string, [unknown, unknown]>, AtomMapWorkerEvents>((m) => worker.postMessage(m));
  worker.on('message', (m) => { void rpc.receive(m); });
  worker.on('error', (e) => rpc.dispose(`atom map worker failed: ${e.message}`));
  worker.on('exit', () => rpc.dispose('atom map worker exited'));
  rpc.onEvent('progress', onProgress);
  return rpc.request('layout', { saeDirs }).finally(() => { void worker.terminate(); });
}

function tagsOf(saeDir: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  try {
    const store = new AnnotationStore(saeDir);
    store.sync();
    for (const a of store.list()) if (a.tags.length) out.set(a.index, a.tags);
  } catch { /* no or unreadable annotations: no tags to colour by */ }
  return out;
}

export function atomMapPanel(context: vscode.ExtensionContext, args: PanelArgs,
  panel = createPanel(context, ATOM_MAP_VIEW_TYPE, `Atom map: ${args.saeDirs.map((d) => basename(d)).join(' + ')}`)): vscode.WebviewPanel {
  const ch = bind<HostToAtomMapEvents, NoRequests, AtomMapToHostEvents>(panel, context, 'atomMap', async (c) => {
    const acts = args.activations ?? findActivations(args.saeDirs[0]!);
    const data = panelData(context);
    const layout = layoutInWorker(context, args.saeDirs, (p) => c.event('progress', p));
    const saes: AtomMapInputs['saes'] = await Promise.all(args.saeDirs.map(async (dir) => {
      const dictionary = await data.dictionary(dir, acts);
      // antipodal pairs are drawn as lines; they come from the diagnostics (cached by the data worker)
      const diagnostics: DiagnosticsModel | undefined = acts ? await data.diagnostics(dir, acts).catch(() => undefined) : undefined;
      return { name: basename(dir), dir, dictionary, diagnostics, tags: tagsOf(dir) };
    }));
    let tree: SplitTreeModel | undefined;
    if (args.saeDirs.length > 1 && acts) tree = await data.splitTree(args.saeDirs, acts).catch(() => undefined);
    const l = await layout;
    const model = atomMapModel({ saes, xy: l.xy, tree, layout: { seed: l.seed, neighbors: l.neighbors, epochs: l.epochs, cached: l.cached } });
    if (args.saeDirs.length > 1 && !tree) model.notes.push(acts ? 'No split tree across these SAEs (they need different widths and the same activations): families are not coloured.' : 'No activations linked: families and density are not coloured.');
    c.event('load', { model, args });
  });
  ch.onEvent('openFeature', ({ latent, sae }) => featurePanel(context, { saeDirs: [args.saeDirs[sae ?? 0] ?? args.saeDirs[0]!], activations: args.activations, latent }));
  ch.onEvent('openBrowser', ({ sae, latents }) => featuresPanel(context, { saeDirs: [args.saeDirs[sae] ?? args.saeDirs[0]!], activations: args.activations, latents: Array.from(latents) }));
  return panel;
}
