/**
 * "SAE: Capture Activations…": runs python/sae_workbench_capture with the user's interpreter (the Python
 * extension's selected one, else saeWorkbench.pythonPath, else python3), shows its JSON progress lines as
 * a progress bar with Cancel, and offers to train on the result. The process does the work; this thread
 * only reads lines (src/capture/run.ts).
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { runCapture, splitArgs } from '../src/capture/run';
import type { CaptureRequest, CaptureResult } from '../src/capture/run';
import { readSettings } from './settings';
import { requireTrust } from './trust';

const LAST = 'saeWorkbench.lastCapture';

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails(resource?: vscode.Uri): { execCommand?: string[] } };
}

/** The interpreter to run: the Python extension's selection, else the setting, else python3. */
export async function captureInterpreter(): Promise<{ python: string; from: string }> {
  const ext = vscode.extensions.getExtension<PythonApi>('ms-python.python');
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (ext) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const envs = api?.environments;
      if (envs) {
        const resolved = await envs.resolveEnvironment(envs.getActiveEnvironmentPath(resource));
        const path = resolved?.executable.uri?.fsPath;
        if (path) return { python: path, from: 'the Python extension' };
      }
      const cmd = api?.settings?.getExecutionDetails(resource).execCommand;
      if (cmd?.[0]) return { python: cmd[0], from: 'the Python extension' };
    } catch {
      // fall through to the setting: the Python extension's API is optional
    }
  }
  const configured = readSettings().pythonPath;
  if (configured) return { python: configured, from: 'saeWorkbench.pythonPath' };
  return { python: process.platform === 'win32' ? 'python' : 'python3', from: 'the default' };
}

async function askRequest(context: vscode.ExtensionContext): Promise<CaptureRequest | undefined> {
  const last = context.workspaceState.get<Partial<CaptureRequest>>(LAST) ?? {};
  const title = 'Capture Activations';
  const model = await vscode.window.showInputBox({
    title: `${title} (1/5): model`, value: last.model, ignoreFocusOut: true,
    prompt: 'A Hugging Face name or folder (gpt2, ./my-model), or module:factory returning a torch.nn.Module',
    validateInput: (v) => (v.trim() ? undefined : 'give a model'),
  });
  if (!model) return undefined;
  const sites = await vscode.window.showInputBox({
    title: `${title} (2/5): sites`, value: last.sites?.join(', '), ignoreFocusOut: true,
    prompt: 'TransformerLens hook names or module paths, comma-separated (blocks.8.hook_resid_pre, model.layers.8, model.layers.8.mlp:input)',
    validateInput: (v) => (v.split(',').some((s) => s.trim()) ? undefined : 'give at least one site'),
  });
  if (!sites) return undefined;
  const corpusUri = await vscode.window.showOpenDialog({
    title: `${title} (3/5): text corpus`, canSelectFiles: true, canSelectFolders: false, openLabel: 'Use as corpus',
    filters: { 'Text corpus': ['txt', 'jsonl', 'parquet'] }, defaultUri: last.corpus ? vscode.Uri.file(dirname(last.corpus)) : undefined,
  });
  if (!corpusUri?.[0]) return undefined;
  const corpus = corpusUri[0].fsPath;
  const suggested = join(dirname(corpus), `${basename(corpus, extname(corpus))}-activations`);
  const out = await vscode.window.showInputBox({
    title: `${title} (4/5): output folder`, value: suggested, ignoreFocusOut: true,
    prompt: 'Shards, manifest, tokenizer and W_U go here; a folder holding an unfinished capture with the same options is resumed',
    validateInput: (v) => (v.trim() ? undefined : 'give a folder'),
  });
  if (!out) return undefined;
  const extra = await vscode.window.showInputBox({
    title: `${title} (5/5): options`, value: last.extraArgs?.join(' ') ?? '--context-length 128 --batch-size 8', ignoreFocusOut: true,
    prompt: 'More options of python -m sae_workbench_capture (e.g. --device cuda --dtype bf16 --max-rows 1000000); see docs/capture.md',
  });
  if (extra === undefined) return undefined;
  const request = { model: model.trim(), sites: sites.split(',').map((s) => s.trim()).filter(Boolean), corpus, out: out.trim(), extraArgs: splitArgs(extra) };
  await context.workspaceState.update(LAST, request);
  return request;
}

/** Runs a capture with a progress notification (Cancel stops it, keeping complete shards). */
export async function captureWithProgress(context: vscode.ExtensionContext, output: vscode.OutputChannel, request: CaptureRequest, python?: string): Promise<CaptureResult> {
  const chosen = python ? { python, from: 'the caller' } : await captureInterpreter();
  output.appendLine(`capture: ${chosen.python} (from ${chosen.from}) -m sae_workbench_capture → ${request.out}`);
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Capturing activations (${request.sites.join(', ')})`, cancellable: true },
    async (reporter, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let shown = 0;
      return runCapture(chosen.python, request, {
        pythonRoot: join(context.extensionPath, 'python'), cwd, signal: abort.signal,
        onEvent: (e) => {
          if (e.event === 'progress') {
            const pct = e.fraction === null ? shown : 100 * e.fraction;
            reporter.report({ increment: Math.max(0, pct - shown), message: `${e.rows.toLocaleString('en-US')} rows, ${Math.round(e.rows_per_s).toLocaleString('en-US')} rows/s` });
            shown = Math.max(shown, pct);
          } else if (e.event === 'start' && e.resumed_rows > 0) {
            reporter.report({ message: `resuming after ${e.resumed_rows.toLocaleString('en-US')} rows` });
          }
        },
      });
    },
  );
}

export function registerCaptureCommand(context: vscode.ExtensionContext, output: vscode.OutputChannel): void {
  // Palette: asks, then shows the outcome. Command API: {model, sites, corpus, out, extraArgs?, python?}; resolves with the result.
  context.subscriptions.push(vscode.commands.registerCommand('saeWorkbench.captureActivations', async (arg?: unknown): Promise<CaptureResult | undefined> => {
    if (!requireTrust('Capturing activations')) return undefined;
    const given = arg && typeof arg === 'object' && 'model' in arg ? (arg as CaptureRequest & { python?: string }) : undefined;
    const request = given ?? await askRequest(context);
    if (!request) return undefined;
    const result = await captureWithProgress(context, output, request, given?.python);
    output.appendLine(`capture: ${result.outcome}: ${result.message}`);
    if (result.outcome === 'done') {
      const site = request.sites.length > 1 ? `#${request.sites[0]}` : '';
      void vscode.window.showInformationMessage(`SAE Workbench: ${result.message}`, 'Train SAE…', 'Reveal').then((pick) => {
        if (pick === 'Train SAE…') void vscode.commands.executeCommand('saeWorkbench.train', vscode.Uri.file(`${request.out}${site}`));
        if (pick === 'Reveal' && existsSync(request.out)) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(join(request.out, 'manifest.json')));
      });
    } else if (result.outcome === 'cancelled') {
      void vscode.window.showInformationMessage(`SAE Workbench: ${result.message}`);
    } else {
      void vscode.window.showErrorMessage(`SAE Workbench: capture failed: ${result.message}`);
    }
    return result;
  }));
}
