/**
 * Read-only custom editor for .safetensors, .npy and .npz: tensor names, dtypes, shapes at once (from the
 * header), statistics from a worker (they read the whole file), and "Open as SAE" when the file is the
 * weights of a recognised SAE folder. Typed protocol in src/protocol/tensorEditor.ts.
 */
import * as vscode from 'vscode';
import { basename, dirname, extname, join } from 'node:path';
import { listTensors } from '../src/formats/inspect';
import type { InspectReport } from '../src/formats/inspect';
import { MessageHandler } from '../src/runtime/rpc';
import type { SaeSummary, TensorEditorHostEvents, TensorEditorWebviewEvents } from '../src/protocol/tensorEditor';
import { oneLine } from '../src/errors';
import { readSaeFacts } from './saeFacts';
import { inspectInWorker } from './inspectClient';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const TENSOR_EDITOR_VIEW_TYPE = 'saeWorkbench.tensorFile';

type Empty = Record<string, never>;

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
    panel.webview.html = webviewHtml(panel.webview, extUri, { bundle: 'tensorEditor', title: basename(path), stylesheet: ['media', 'tensorEditor.css'], body: '<main id="app" aria-live="polite"><p class="muted">Loading…</p></main>' });
    const rpc = new MessageHandler<Empty, TensorEditorHostEvents, Empty, TensorEditorWebviewEvents>((m) => void panel.webview.postMessage(m));
    let job: ReturnType<typeof inspectInWorker> | undefined;
    let closed = false;
    const subs = [
      panel.webview.onDidReceiveMessage((m: unknown) => { void rpc.receive(m); }),
      panel.onDidDispose(() => { closed = true; job?.cancel(); rpc.dispose(); for (const s of subs) s.dispose(); }),
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
      // One worker per editor; a reloaded webview (ready again) gets the same report.
      job ??= inspectInWorker(join(extUri.fsPath, 'dist', 'workers', 'inspect.worker.js'), path);
      job.report.then((r: InspectReport) => rpc.event('tensorEditor/stats', { report: r }), (e: unknown) => { if (!closed) rpc.event('tensorEditor/failed', { message: oneLine(e) }); });
    });
    rpc.onEvent('tensorEditor/openAsSae', () => {
      const sae = saeOf(path);
      if (sae) void vscode.commands.executeCommand('saeWorkbench.showDictionary', sae.dir);
      else void vscode.window.showWarningMessage(`SAE Workbench: ${basename(path)} is not the weights file of a recognised SAE folder.`);
    });
  }
}
