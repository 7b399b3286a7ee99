/**
 * Where the panels get their data. The default provider runs the analysis, the diagnostics module and
 * split trees (src/views, src/diagnostics) in a worker thread, so the extension host thread only
 * coordinates; results are cached per SAE + activation file.
 * The lead may replace it (setPanelDataProvider) with one that reads the diagnostics cache beside the
 * SAE and the annotation store.
 */
import { join } from 'node:path';
import { resolveSaeData } from '../../src/data/saeData';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { InputError } from '../../src/errors';
import { MessageHandler } from '../../src/runtime/rpc';
import type { AnnotateRequest, AnnotateResponse } from '../../src/protocol/feature';
import type { DiagnosticsModel, DictionaryModel, FeatureModel, SplitTreeModel } from '../../src/protocol/viewModels';
import type { PanelDataRequests } from '../../src/protocol/panelData';
import type { PassProgress } from '../../src/protocol/viewModels';
import type { EvalRecord } from '../../src/protocol/viewModels';
import { readSettings, SECTION } from '../settings';

export interface PanelDataProvider {
  dictionary(saeDir: string, activations?: string): Promise<DictionaryModel>;
  feature(saeDir: string, latent: number, activations?: string): Promise<FeatureModel>;
  diagnostics(saeDir: string, activations?: string): Promise<DiagnosticsModel>;
  splitTree(saeDirs: string[], activations?: string): Promise<SplitTreeModel>;
  annotate(req: AnnotateRequest): Promise<AnnotateResponse>;
  /** The SAE's metrics on its data, cached beside it as eval.json (src/views/evalCache.ts). */
  evaluate(saeDir: string, activations: string): Promise<EvalRecord | undefined>;
  /** Generates and writes a synthetic dataset (src/synthetic) in the worker. */
  synthetic(req: PanelDataRequests['synthetic'][0]): Promise<PanelDataRequests['synthetic'][1]>;
  /** Writes the self-contained HTML report (off the host thread). */
  report(saeDir: string, out: string, activations?: string): Promise<{ out: string; bytes: number }>;
  /** Hears how far feature-page passes have got (absent for providers without a running pass). */
  onFeaturePass?(listener: (p: PassProgress) => void): vscode.Disposable;
}

/** The SAE's recorded data (or activations.npy beside it) when the caller gave none (src/data/saeData.ts). */
export function findActivations(saeDir: string): string | undefined {
  return resolveSaeData(saeDir)?.source;
}

class WorkerDataProvider implements PanelDataProvider {
  private rpc: MessageHandler<PanelDataRequests, Record<string, unknown>, Record<string, [unknown, unknown]>, Record<string, unknown>> | undefined;

  private readonly passListeners = new Set<(p: PassProgress) => void>();

  constructor(private readonly context: vscode.ExtensionContext) {
    // the feature pages' row cap goes to the worker now and whenever the setting changes (passes started after use it)
    context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (this.rpc && e.affectsConfiguration(`${SECTION}.featurePages.maxRows`)) this.sendPassRows(this.rpc);
    }));
  }

  private sendPassRows(rpc: NonNullable<WorkerDataProvider['rpc']>): void {
    rpc.request('passRows', { maxRows: readSettings().featurePagesMaxRows, seed: 0 }).catch(() => undefined);
  }

  onFeaturePass(listener: (p: PassProgress) => void): vscode.Disposable {
    this.passListeners.add(listener);
    return { dispose: () => { this.passListeners.delete(listener); } };
  }

  private channel(): NonNullable<WorkerDataProvider['rpc']> {
    if (this.rpc) return this.rpc;
    const worker = new Worker(join(this.context.extensionPath, 'dist', 'workers', 'panelData.worker.js'));
    const rpc = new MessageHandler<PanelDataRequests, Record<string, unknown>, Record<string, [unknown, unknown]>, Record<string, unknown>>((m) => worker.postMessage(m));
    worker.on('message', (m) => { void rpc.receive(m); });
    rpc.onEvent('featurePass', (p) => { for (const l of this.passListeners) l(p as PassProgress); });
    worker.on('error', (e) => { rpc.dispose(`analysis worker failed: ${e.message}`); this.rpc = undefined; });
    worker.on('exit', () => { rpc.dispose('analysis worker exited'); this.rpc = undefined; });
    this.context.subscriptions.push({ dispose: () => { void worker.terminate(); } });
    this.rpc = rpc;
    this.sendPassRows(rpc);
    return rpc;
  }

  dictionary(saeDir: string, activations?: string): Promise<DictionaryModel> {
    return this.channel().request('dictionary', { saeDir, activations: activations ?? findActivations(saeDir) });
  }
  feature(saeDir: string, latent: number, activations?: string): Promise<FeatureModel> {
    return this.channel().request('feature', { saeDir, latent, activations: activations ?? findActivations(saeDir) });
  }
  diagnostics(saeDir: string, activations?: string): Promise<DiagnosticsModel> {
    return this.channel().request('diagnostics', { saeDir, activations: activations ?? findActivations(saeDir) });
  }
  report(saeDir: string, out: string, activations?: string): Promise<{ out: string; bytes: number }> {
    return this.channel().request('report', { saeDir, out, activations: activations ?? findActivations(saeDir) });
  }
  splitTree(saeDirs: string[], activations?: string): Promise<SplitTreeModel> {
    return this.channel().request('splitTree', { saeDirs, activations: activations ?? (saeDirs[0] ? findActivations(saeDirs[0]) : undefined) });
  }
  synthetic(req: PanelDataRequests['synthetic'][0]): Promise<PanelDataRequests['synthetic'][1]> {
    return this.channel().request('synthetic', req);
  }
  evaluate(saeDir: string, activations: string): Promise<EvalRecord | undefined> {
    return this.channel().request('evaluate', { saeDir, activations });
  }
  annotate(req: AnnotateRequest): Promise<AnnotateResponse> {
    if (!annotationSink) return Promise.reject(new InputError('annotations', 'the annotation store is not available'));
    return annotationSink(req);
  }
}

let provider: PanelDataProvider | undefined;
let annotationSink: ((req: AnnotateRequest) => Promise<AnnotateResponse>) | undefined;

/** Where the feature page's annotation editor saves: the extension's annotation store (set at activation). */
export function setAnnotationSink(sink: (req: AnnotateRequest) => Promise<AnnotateResponse>): void {
  annotationSink = sink;
}

export function panelData(context: vscode.ExtensionContext): PanelDataProvider {
  return (provider ??= new WorkerDataProvider(context));
}

/** Replaces the data source (the host colleague's annotation store, the diagnostics cache). */
export function setPanelDataProvider(p: PanelDataProvider): void {
  provider = p;
}
