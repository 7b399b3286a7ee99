/**
 * Read-only custom editor for .safetensors, .npy and .npz: tensor names, dtypes, shapes at once (from the
 * header), statistics from a worker (they read the whole file), and "Open as SAE" when the file is the
 * weights of a recognised SAE folder. Typed protocol in src/protocol/tensorEditor.ts.
 */
import * as vscode from 'vscode';
import { Worker } from 'node:worker_threads';
import { basename, dirname, extname, join } from 'node:path';
import { listTensors } from '../src/io/inspect';
import type { InspectReport } from '../src/io/inspect';
import { MessageHandler } from '../src/protocol/rpc';
import type { InspectWorkerRequests, SaeSummary, TensorEditorHostEvents, TensorEditorWebviewEvents } from '../src/protocol/tensorEditor';
import { oneLine } from '../src/errors';
import { readSaeFacts } from './saeFacts';
import { showDictionary } from './panels';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const TENSOR_EDITOR_VIEW_TYPE = 'saeWorkbench.tensorFile';

type Empty = Record<string, never>;

/** Runs inspectPath in a worker thread; the worker ends after one answer (or when the editor closes). */
export function inspectInWorker(extensionUri: vscode.Uri, path: string, token?: vscode.CancellationToken): Promise<InspectReport> {
  const worker = new Worker(join(extensionUri.fsPath, 'dist', 'workers', 'inspect.worker.js'));
  const rpc = new MessageHandler<InspectWorkerRequests, Empty, Empty, Empty>((m) => worker.postMessage(m));
  worker.on('message', (m: unknown) => { void rpc.receive(m); });
  worker.on('error', (e) => rpc.dispose(`the statistics worker crashed: ${oneLine(e)}`));
  worker.on('exit', (code) => rpc.dispose(code === 0 ? 'the statistics worker stopped' : `the statistics worker exited with code ${code}`));
  const cancel = token?.onCancellationRequested(() => void worker.terminate());
  return rpc.request('inspect', { path }).finally(() => { cancel?.dispose(); void worker.terminate(); });
}

function saeOf(file: string): SaeSummary | null {
  const f = readSaeFacts(dirname(file));
  if (!f || !f.ok || basename(file) !== 'sae_weights.safetensors') return null;
  return { dir: f.dir, architecture: f.architecture, dSae: f.dSae, dIn: f.dIn, k: f.k, hookName: f.hookName };
}

export class TensorEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly context: vscode.ExtensionContext) {}

  static register(context: vscode.ExtensionContext): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(TENSOR_EDITOR_VIEW_TYPE, new TensorEditorProvider(context), {
      supportsMultipleEditorsPerDocument: true,
      // No retainContextWhenHidden: the view is cheap to rebuild from the cached report and setState.
    });
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const path = document.uri.fsPath;
    const extUri = this.context.extensionUri;
    panel.webview.options = webviewOptions(extUri);
    panel.webview.html = webviewHtml(panel.webview, extUri, 'tensorEditor', basename(path));
    const rpc = new MessageHandler<Empty, TensorEditorHostEvents, Empty, TensorEditorWebviewEvents>((m) => void panel.webview.postMessage(m));
    const cts = new vscode.CancellationTokenSource();
    let report: Promise<InspectReport> | undefined;
    const subs = [
      panel.webview.onDidReceiveMessage((m: unknown) => { void rpc.receive(m); }),
      panel.onDidDispose(() => { cts.cancel(); cts.dispose(); rpc.dispose(); for (const s of subs) s.dispose(); }),
    ];
    rpc.onEvent('tensorEditor/ready', () => {
      // The header is small and read at once; .npz is a zip whose listing needs decompression: worker only.
      let listing = null;
      try {
        if (extname(path).toLowerCase() !== '.npz') listing = listTensors(path);
      } catch (e) {
        rpc.event('tensorEditor/failed', { message: oneLine(e) });
        return;
      }
      rpc.event('tensorEditor/listing', { fileName: basename(path), listing, sae: saeOf(path), trusted: vscode.workspace.isTrusted });
      report ??= inspectInWorker(extUri, path, cts.token);
      report.then((r) => rpc.event('tensorEditor/stats', { report: r }), (e) => { if (!cts.token.isCancellationRequested) rpc.event('tensorEditor/failed', { message: oneLine(e) }); });
    });
    rpc.onEvent('tensorEditor/openAsSae', () => {
      const sae = saeOf(path);
      if (sae) showDictionary(this.context, sae.dir);
      else void vscode.window.showWarningMessage(`SAE Workbench: ${basename(path)} is not the weights file of a recognised SAE folder.`);
    });
  }
}
