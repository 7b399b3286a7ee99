/**
 * "Generate Synthetic Dataset…": datasets with known ground truth (docs/theory.md §G) for checking training and
 * diagnostics, from src/synthetic (generate + writeSynthetic). The generation runs in the panels' worker
 * (extension/panels/data.ts), never on the extension host thread. Kind ids are the module's (g1..g7).
 */
import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';
import { oneLine } from '../src/errors';
import { panelData } from './panels/data';
import { requireTrust } from './trust';

/** The module's generators, one entry per kind id of src/synthetic SYNTHETIC_KINDS. */
export const SYNTHETIC_KINDS: { id: string; label: string; detail: string }[] = [
  { id: 'g1', label: 'G1 · Independent sparse features', detail: 'unit-norm features with low interference; recovery should be near perfect' },
  { id: 'g2', label: 'G2 · Hierarchy', detail: 'parents with exclusive children: absorption and splitting' },
  { id: 'g3', label: 'G3 · Dense direction', detail: 'sparse features plus one dense Gaussian direction: a dense antipodal pair' },
  { id: 'g4', label: 'G4 · Sparse antipodal features', detail: 'digons: both atoms learned, a sparse antipodal pair' },
  { id: 'g5', label: 'G5 · Superposition (Cui)', detail: 'digon/polygon columns at varying sparsity' },
  { id: 'g6', label: 'G6 · Co-occurrence', detail: 'two features with solo and joint rates' },
  { id: 'g7', label: 'G7 · Non-identifiable', detail: 'zero loss reachable with poor recovery' },
];

export async function generateSyntheticCommand(onWritten: (dir: string) => void, args?: { kind?: string; outDir?: string; samples?: number; seed?: number }, context?: vscode.ExtensionContext): Promise<string | undefined> {
  if (!requireTrust('Generating a synthetic dataset')) return undefined;
  if (!context) throw new Error('generateSyntheticCommand needs the extension context (to start the worker)');
  const kind = args?.kind ?? (await vscode.window.showQuickPick(SYNTHETIC_KINDS.map((k) => ({ ...k, label: k.label, description: k.id })), { title: 'Generate Synthetic Dataset (1/2)', placeHolder: 'Which generator?' }))?.id;
  if (!kind) return undefined;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const out = args?.outDir ?? await vscode.window.showInputBox({ title: 'Generate Synthetic Dataset (2/2)', prompt: 'Output folder (relative to the workspace, or absolute)', value: join('synthetic', kind) });
  if (!out) return undefined;
  const dir = isAbsolute(out) ? out : join(root, out);
  try {
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SAE Workbench: generating synthetic dataset ${kind}` },
      () => panelData(context).synthetic({ kind, outDir: dir, tokens: args?.samples, seed: args?.seed }));
    onWritten(dir);
    if (!args) void vscode.window.showInformationMessage(`SAE Workbench: wrote ${r.rows.toLocaleString('en-US')} rows × ${r.d} (${r.features} ground-truth features) to ${r.activations}`);
    return dir;
  } catch (e) {
    void vscode.window.showErrorMessage(`SAE Workbench: synthetic dataset not written: ${oneLine(e)}`);
    return undefined;
  }
}
