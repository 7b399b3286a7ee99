/**
 * The extension's side of annotations: one AnnotationStore per SAE (src/annotations), a watcher per file
 * that merges external edits (git pull, another window) as they land, and the commands to annotate,
 * search and export. A malformed file is reported once per distinct problem and never written over.
 */
import * as vscode from 'vscode';
import { annotationsChanged } from './panels';
import { AnnotationStore } from '../src/annotations/store';
import type { MergeConflict } from '../src/annotations/merge';
import { isInputError, oneLine } from '../src/errors';
import { writeFileAtomic } from '../src/io/atomic';
import { ANNOTATIONS_FILE } from '../src/annotations/types';
import type { SaeFacts } from './saeFacts';
import { readSettings } from './settings';
import { pickSae } from './pickers';
import { requireTrust } from './trust';
import type { WorkspaceIndex } from './workspaceIndex';

export class Annotations implements vscode.Disposable {
  private readonly stores = new Map<string, { store: AnnotationStore; watcher: vscode.FileSystemWatcher }>();
  private readonly reported = new Set<string>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with the SAE folder whose annotations changed (panels refresh on it). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.OutputChannel) {}

  dispose(): void {
    for (const s of this.stores.values()) s.watcher.dispose();
    this.changed.dispose();
  }

  /** The store for an SAE, read from disk the first time; a malformed file is reported (not thrown). */
  storeFor(sae: SaeFacts): AnnotationStore {
    const known = this.stores.get(sae.dir);
    if (known) return known.store;
    const store = new AnnotationStore(sae.dir, { dSae: sae.dSae, hookName: sae.hookName, modelId: sae.modelName });
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(sae.dir), ANNOTATIONS_FILE));
    const onDisk = () => this.sync(store);
    watcher.onDidChange(onDisk);
    watcher.onDidCreate(onDisk);
    watcher.onDidDelete(onDisk);
    this.stores.set(sae.dir, { store, watcher });
    this.sync(store);
    return store;
  }

  /** Folds the file on disk into what we hold. Public so that tests and commands can force it. */
  sync(store: AnnotationStore): void {
    try {
      const { changed, conflicts } = store.sync();
      if (conflicts.length) this.reportConflicts(store, conflicts);
      if (changed) this.changed.fire(store.saeDir);
    } catch (e) {
      this.report(e, store);
    }
  }

  private reportConflicts(store: AnnotationStore, conflicts: MergeConflict[]): void {
    const latents = [...new Set(conflicts.map((c) => c.index))];
    this.log.appendLine(`${store.path}: merged concurrent edits; kept both versions for ${conflicts.map((c) => `latent ${c.index} ${c.field}`).join(', ')}`);
    void vscode.window.showInformationMessage(`SAE Workbench: annotations were edited elsewhere at the same time (latent${latents.length > 1 ? 's' : ''} ${latents.slice(0, 5).join(', ')}${latents.length > 5 ? ', …' : ''}); the newer text is shown and the other is kept as an alternative.`);
  }

  private report(e: unknown, store: AnnotationStore): void {
    const msg = oneLine(e);
    this.log.appendLine(msg);
    if (this.reported.has(msg)) return;
    this.reported.add(msg);
    // A malformed file waits for a fix; anything else (a lock held elsewhere, a full disk) is retried by the next save.
    if (isInputError(e) && store.error) void vscode.window.showWarningMessage(`SAE Workbench: ${msg}. The file is left as it is; annotations are not saved until it is fixed.`);
    else if (isInputError(e)) void vscode.window.showWarningMessage(`SAE Workbench: ${msg}. Your edit is kept in this window and saved with the next one.`);
    else void vscode.window.showErrorMessage(`SAE Workbench: annotations: ${msg}`);
  }

  /** Sets fields of one latent's annotation and saves (merging external edits first). */
  annotate(sae: SaeFacts, latent: number, patch: { label?: string; description?: string; tags?: string[] }): boolean {
    const store = this.storeFor(sae);
    try {
      const conflicts = store.update(latent, { ...patch, author: readSettings().annotationAuthor || undefined });
      if (conflicts.length) this.reportConflicts(store, conflicts);
      this.changed.fire(sae.dir);
      return true;
    } catch (e) {
      this.report(e, store);
      return false;
    }
  }
}

function parseLatent(text: string, dSae: number): number | undefined {
  const v = Number(text.trim());
  return Number.isSafeInteger(v) && v >= 0 && v < dSae ? v : undefined;
}

export function registerAnnotationCommands(context: vscode.ExtensionContext, index: WorkspaceIndex, annotations: Annotations): void {
  context.subscriptions.push(
    // Args for scripted use: (saeDir | tree node, latent?, { label, description, tags }?) — with all three, no UI.
    vscode.commands.registerCommand('saeWorkbench.annotateFeature', async (arg?: unknown, latentArg?: unknown, fields?: { label?: string; description?: string; tags?: string[] }) => {
      if (!requireTrust('Annotating features')) return false;
      const sae = await pickSae(index, arg, 'Annotate Feature');
      if (!sae) return false;
      const store = annotations.storeFor(sae);
      let latent = typeof latentArg === 'number' ? latentArg : undefined;
      if (latent === undefined) {
        const text = await vscode.window.showInputBox({ title: `Annotate Feature — ${sae.name}`, prompt: `Latent index (0 – ${sae.dSae - 1})`, validateInput: (t) => (parseLatent(t, sae.dSae) === undefined ? `A whole number from 0 to ${sae.dSae - 1}` : undefined) });
        if (text === undefined) return false;
        latent = parseLatent(text, sae.dSae)!;
      }
      if (fields) { const ok = annotations.annotate(sae, latent, fields); if (ok) annotationsChanged(sae.dir); return ok; }
      const old = store.get(latent);
      const label = await vscode.window.showInputBox({ title: `Latent ${latent} — label`, value: old?.label ?? '', prompt: 'A short name, e.g. "French nouns"' });
      if (label === undefined) return false;
      const description = await vscode.window.showInputBox({ title: `Latent ${latent} — description`, value: old?.description ?? '', prompt: 'What it does (optional)' });
      if (description === undefined) return false;
      const tags = await vscode.window.showInputBox({ title: `Latent ${latent} — tags`, value: old?.tags.join(', ') ?? '', prompt: 'Comma-separated tags (optional)' });
      if (tags === undefined) return false;
      const saved = annotations.annotate(sae, latent, { label, description, tags: tags.split(',').map((t) => t.trim()).filter(Boolean) });
      if (saved) {
        annotationsChanged(sae.dir);
        void vscode.window.showInformationMessage(`SAE Workbench: latent ${latent} of ${sae.name} ${label ? `labelled "${label}"` : 'annotated'} (saved in annotations.json).`, 'Show Feature').then((pick) => {
          if (pick) void vscode.commands.executeCommand('saeWorkbench.showFeature', sae.dir, latent);
        });
      }
      return saved;
    }),
    vscode.commands.registerCommand('saeWorkbench.searchAnnotations', async (arg?: unknown) => {
      const sae = await pickSae(index, arg, 'Search Annotations');
      if (!sae) return;
      const store = annotations.storeFor(sae);
      if (store.list().length === 0) {
        void vscode.window.showInformationMessage(`SAE Workbench: ${sae.name} has no annotations yet. Use "SAE: Annotate Feature…" to add one.`);
        return;
      }
      const items = store.list().map((a) => ({ label: `${a.index}: ${a.label || '(no label)'}`, description: a.tags.join(', '), detail: a.description, latent: a.index }));
      const chosen = await vscode.window.showQuickPick(items, { title: `Annotations of ${sae.name}`, placeHolder: 'Search labels, descriptions, tags', matchOnDescription: true, matchOnDetail: true });
      if (chosen) void vscode.commands.executeCommand('saeWorkbench.showFeature', sae.dir, chosen.latent);
    }),
    vscode.commands.registerCommand('saeWorkbench.exportAnnotations', async (arg?: unknown, target?: string) => {
      if (!requireTrust('Exporting annotations')) return;
      const sae = await pickSae(index, arg, 'Export Annotations');
      if (!sae) return;
      const store = annotations.storeFor(sae);
      const uri = target ? vscode.Uri.file(target) : await vscode.window.showSaveDialog({ title: 'Export annotations (Neuronpedia explanation format)', defaultUri: vscode.Uri.file(`${sae.dir}-explanations.json`), filters: { JSON: ['json'] } });
      if (!uri) return;
      try {
        writeFileAtomic(uri.fsPath, JSON.stringify(store.toNeuronpedia(), null, 2) + '\n');
        if (!target) void vscode.window.showInformationMessage(`SAE Workbench: exported ${store.list().length} annotation(s) to ${uri.fsPath}`);
      } catch (e) {
        void vscode.window.showErrorMessage(`SAE Workbench: export failed: ${oneLine(e)}`);
      }
    }),
  );
}
