/**
 * The palette commands (category "SAE"). Each takes an optional argument (tree node, Uri or path) so it
 * works from the explorer's context menu, CodeLens, hover links and tests; without one it asks.
 */
import * as vscode from 'vscode';
import { dirname, join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { oneLine } from '../src/errors';
import { exportReport, showAtomMap, showDictionary, showDiagnostics, showFeature, showSplitTree } from './panels';
import { browseSae, pickSae, pickSaes, pickSplitFamily, saeDirFromArg } from './pickers';
import { compareUri } from './compareDocument';
import type { DataLinks } from './dataLinks';
import { checkTrainOptions } from './trainInputs';
import type { TrainResult, TrainingRuns } from './training';
import { runTrainWizard } from './trainWizard';
import { requireTrust } from './trust';
import { generateSyntheticCommand } from './synthetic';
import { TENSOR_EDITOR_VIEW_TYPE } from './tensorEditor';
import type { Annotations } from './annotations';
import type { WorkspaceIndex } from './workspaceIndex';
import { VIEW_ID } from './explorer';

export interface CommandDeps { context: vscode.ExtensionContext; index: WorkspaceIndex; runs: TrainingRuns; annotations: Annotations; links: DataLinks }

export function registerCommands({ context, index, runs, annotations, links }: CommandDeps): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  // Palette: the wizard, with progress UI. Command API: an options object, no UI; resolves when the run ends.
  reg('saeWorkbench.train', async (arg?: unknown): Promise<TrainResult | undefined> => {
    if (!requireTrust('Training')) return undefined;
    if (arg !== undefined && !(typeof arg === 'object' && arg !== null && 'activations' in arg)) {
      // From the explorer's context menu on an activation file: the wizard, preselected.
      const path = saeDirFromArg(arg);
      if (path) await context.workspaceState.update('saeWorkbench.lastTrainOptions', { ...context.workspaceState.get<object>('saeWorkbench.lastTrainOptions'), activations: [path] });
      arg = undefined;
    }
    if (arg !== undefined) {
      const { showProgress, ...rest } = arg as { showProgress?: boolean };
      return runs.run(checkTrainOptions(rest), showProgress === true);
    }
    const opts = await runTrainWizard(context, index);
    return opts ? runs.run(opts, true) : undefined;
  });

  reg('saeWorkbench.cancelTraining', async (runId?: unknown) => {
    const active = runs.active();
    if (active.length === 0) {
      void vscode.window.showInformationMessage('SAE Workbench: no training run is in progress.');
      return [];
    }
    if (typeof runId === 'string') return runs.cancel(runId);
    if (active.length === 1) return runs.cancel(active[0]);
    const chosen = await vscode.window.showQuickPick([{ label: 'All runs', id: undefined as string | undefined }, ...active.map((id) => ({ label: id, id }))], { title: 'Cancel Training' });
    return chosen ? runs.cancel(chosen.id) : [];
  });

  reg('saeWorkbench.openSae', async (arg?: unknown) => {
    const given = saeDirFromArg(arg);
    const sae = given ? await pickSae(index, given, 'Open SAE') : await browseSae(index);
    if (!sae) return undefined;
    if (!index.get(sae.dir)) await index.addOpened(sae.dir);
    const data = await links.ensure(sae, 'Open SAE');
    if (data) showDictionary(context, sae.dir, data.source);
    return sae.dir;
  });

  reg('saeWorkbench.revealSae', async (arg?: unknown) => {
    const dir = saeDirFromArg(arg);
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    if (dir) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
  });

  reg('saeWorkbench.showDictionary', async (arg?: unknown) => {
    const sae = await pickSae(index, arg, 'Show Dictionary');
    const data = sae && await links.ensure(sae, 'Show Dictionary');
    if (sae && data) showDictionary(context, sae.dir, data.source);
  });

  reg('saeWorkbench.showFeature', async (arg?: unknown, latentArg?: unknown) => {
    const sae = await pickSae(index, arg, 'Show Feature');
    const data = sae && await links.ensure(sae, 'Show Feature');
    if (!sae || !data) return;
    let latent = typeof latentArg === 'number' ? latentArg : undefined;
    if (latent === undefined) {
      const store = annotations.storeFor(sae);
      const labelled = store.list().map((a) => ({ label: String(a.index), description: a.label, detail: a.description }));
      const qp = await vscode.window.showQuickPick(
        [{ label: '$(edit) Type a latent index…', description: `0 – ${sae.dSae - 1}`, alwaysShow: true }, ...labelled],
        { title: `Show Feature — ${sae.name}`, placeHolder: 'An annotated latent, or type an index', matchOnDescription: true },
      );
      if (!qp) return;
      if (qp.label.startsWith('$(edit)')) {
        const text = await vscode.window.showInputBox({ title: `Show Feature — ${sae.name}`, prompt: `Latent index (0 – ${sae.dSae - 1})`, validateInput: (t) => (/^\d+$/.test(t.trim()) && Number(t) < sae.dSae ? undefined : `A whole number from 0 to ${sae.dSae - 1}`) });
        if (text === undefined) return;
        latent = Number(text);
      } else latent = Number(qp.label);
    }
    if (!Number.isSafeInteger(latent) || latent < 0 || latent >= sae.dSae) {
      void vscode.window.showErrorMessage(`SAE Workbench: latent ${latent} is out of range for ${sae.name} (0 – ${sae.dSae - 1}).`);
      return;
    }
    showFeature(context, sae.dir, latent, data.source);
  });

  reg('saeWorkbench.showSplitTree', async (arg?: unknown) => {
    const given = saeDirFromArg(arg);
    const first = given ? await pickSae(index, given, 'Show Feature-Split Tree') : undefined;
    if (given && !first) return;
    // From one SAE: the SAEs of other widths that read the same activations, offered (and preselected).
    const saes = first ? await pickSplitFamily(index, links, first) : await pickSaes(index, 'Show Feature-Split Tree', 2);
    if (!saes) return;
    const data = await links.ensure(saes[0]!, 'Feature-split tree');
    if (!data) return;
    showSplitTree(context, saes.map((s) => s.dir), data.source);
  });

  reg('saeWorkbench.linkActivations', async (arg?: unknown) => {
    const sae = await pickSae(index, arg, 'Link Activations');
    if (!sae) return undefined;
    const data = await links.choose(sae, `Link Activations — ${sae.name}`);
    return data?.activations;
  });

  reg('saeWorkbench.showAtomMap', async (arg?: unknown) => {
    const given = saeDirFromArg(arg);
    const first = given ? await pickSae(index, given, 'Show Atom Map') : undefined;
    if (given && !first) return;
    const saes = first ? [first] : await pickSaes(index, 'Show Atom Map', 1);
    if (!saes?.length) return;
    // density and flags come from the SAE's data when it has some; the map itself needs only the weights
    showAtomMap(context, saes.map((s) => s.dir), links.resolve(saes[0]!.dir)?.source);
  });

  reg('saeWorkbench.runDiagnostics', async (arg?: unknown, actsArg?: unknown) => {
    const sae = await pickSae(index, arg, 'Run Diagnostics');
    if (!sae) return;
    const acts = typeof actsArg === 'string' ? actsArg : (await links.ensure(sae, 'Run Diagnostics'))?.source;
    if (!acts) return;
    showDiagnostics(context, sae.dir, acts);
  });

  reg('saeWorkbench.compareSaes', async () => {
    const saes = await pickSaes(index, 'Compare SAEs', 2);
    if (!saes) return;
    // A read-only virtual document: one per set of SAEs, reused when asked again, never "save changes?".
    const doc = await vscode.workspace.openTextDocument(compareUri(saes.map((s) => s.dir)));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    if (saes.every((s) => s.dIn === saes[0]!.dIn) && new Set(saes.map((s) => s.dSae)).size > 1) {
      const pick = await vscode.window.showInformationMessage(`SAE Workbench: compared ${saes.length} SAEs.`, 'Show Feature-Split Tree');
      const data = pick && await links.ensure(saes[0]!, 'Feature-split tree');
      if (data) showSplitTree(context, saes.map((s) => s.dir), data.source);
    }
  });

  reg('saeWorkbench.exportReport', async (arg?: unknown, target?: unknown, activations?: unknown) => {
    if (!requireTrust('Exporting a report')) return undefined;
    const sae = await pickSae(index, arg, 'Export Report');
    if (!sae) return undefined;
    // The command API with a target file never asks: it writes what it can (weights only without data).
    const acts = typeof activations === 'string' ? activations
      : typeof target === 'string' ? links.resolve(sae.dir)?.source : (await links.ensure(sae, 'Export Report'))?.source;
    if (!acts && typeof target !== 'string') return undefined;
    const uri = typeof target === 'string' ? vscode.Uri.file(target)
      : await vscode.window.showSaveDialog({ title: 'Export SAE report (self-contained HTML)', defaultUri: vscode.Uri.file(join(sae.dir, 'report.html')), filters: { HTML: ['html'] } });
    if (!uri) return undefined;
    try {
      // The analysis runs in the panels' worker; the file opens offline in any browser.
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SAE Workbench: writing the report of ${sae.name}` },
        () => exportReport(context, sae.dir, uri.fsPath, acts));
    } catch (e) {
      void vscode.window.showErrorMessage(`SAE Workbench: report not written: ${oneLine(e)}`);
      return undefined;
    }
    if (typeof target !== 'string') {
      const pick = await vscode.window.showInformationMessage(`SAE Workbench: report written to ${uri.fsPath}`, 'Open in Browser');
      if (pick) await vscode.env.openExternal(uri);
    }
    return uri.fsPath;
  });

  reg('saeWorkbench.generateSynthetic', (args?: unknown) => generateSyntheticCommand(() => index.scheduleRefresh(), args as Parameters<typeof generateSyntheticCommand>[1], context));

  reg('saeWorkbench.openTensorFile', async (arg?: unknown) => {
    const path = saeDirFromArg(arg);
    if (!path) return;
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'sae_weights.safetensors') : path;
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), TENSOR_EDITOR_VIEW_TYPE);
  });

  reg('saeWorkbench.refreshExplorer', () => index.refresh());
  reg('saeWorkbench.revealInOs', (arg?: unknown) => {
    const p = saeDirFromArg(arg);
    if (p) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(existsSync(p) && statSync(p).isDirectory() ? p : dirname(p)));
  });

  // For tests and other extensions: what the workspace index holds right now.
  // `{ rescan: false }` returns what the file watcher has kept current, without scanning.
  reg('saeWorkbench.listSaes', async (opts?: unknown) => {
    if ((opts as { rescan?: boolean } | undefined)?.rescan !== false) await index.refresh();
    return index.saes().map((e) => ({ ...e }));
  });
}
