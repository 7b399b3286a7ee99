/**
 * "Generate Synthetic Dataset…": datasets with known ground truth (THEORY.md §6) for checking training and
 * diagnostics. The generators are `generate(kind, opts)` / `writeSynthetic(ds, dir)` in src/synthetic,
 * built on another branch; this thin wrapper is the only place that touches them.
 *
 * MERGE: when src/synthetic/index.ts exists, make loadSynthetic() return `import('../src/synthetic')`
 * (esbuild bundles it) — and the kind ids below must match the module's.
 */
import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';
import { oneLine } from '../src/errors';
import { requireTrust } from './trust';

export interface SyntheticApi {
  generate(kind: string, opts: { samples?: number; seed?: number }): unknown;
  writeSynthetic(ds: unknown, dir: string): void;
}

async function loadSynthetic(): Promise<SyntheticApi | undefined> {
  return undefined;
}

export const SYNTHETIC_KINDS: { id: string; label: string; detail: string }[] = [
  { id: 'independent', label: 'G1 · Independent sparse features', detail: 'unit-norm features with low interference; recovery should be near perfect' },
  { id: 'hierarchy', label: 'G2 · Hierarchy', detail: 'parents with exclusive children: absorption and splitting' },
  { id: 'dense', label: 'G3 · Dense direction', detail: 'sparse features plus one dense Gaussian direction: a dense antipodal pair' },
  { id: 'antipodal', label: 'G4 · Sparse antipodal features', detail: 'digons: both atoms learned, a sparse antipodal pair' },
  { id: 'superposition', label: 'G5 · Superposition (Cui)', detail: 'digon/polygon columns at varying sparsity' },
  { id: 'cooccurrence', label: 'G6 · Co-occurrence', detail: 'two features with solo and joint rates' },
  { id: 'nonidentifiable', label: 'G7 · Non-identifiable', detail: 'zero loss reachable with poor recovery' },
];

export async function generateSyntheticCommand(onWritten: (dir: string) => void, args?: { kind?: string; outDir?: string; samples?: number; seed?: number }): Promise<string | undefined> {
  if (!requireTrust('Generating a synthetic dataset')) return undefined;
  const api = await loadSynthetic();
  if (!api) {
    void vscode.window.showInformationMessage('SAE Workbench: the synthetic generators (src/synthetic) are not part of this build yet. This command will write datasets with known ground truth (THEORY.md §6) once they are.');
    return undefined;
  }
  const kind = args?.kind ?? (await vscode.window.showQuickPick(SYNTHETIC_KINDS.map((k) => ({ ...k, label: k.label, description: k.id })), { title: 'Generate Synthetic Dataset (1/2)', placeHolder: 'Which generator?' }))?.id;
  if (!kind) return undefined;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const out = args?.outDir ?? await vscode.window.showInputBox({ title: 'Generate Synthetic Dataset (2/2)', prompt: 'Output folder (relative to the workspace, or absolute)', value: join('synthetic', kind) });
  if (!out) return undefined;
  const dir = isAbsolute(out) ? out : join(root, out);
  try {
    const ds = api.generate(kind, { samples: args?.samples, seed: args?.seed });
    api.writeSynthetic(ds, dir);
    onWritten(dir);
    if (!args) void vscode.window.showInformationMessage(`SAE Workbench: wrote synthetic dataset '${kind}' to ${dir}`);
    return dir;
  } catch (e) {
    void vscode.window.showErrorMessage(`SAE Workbench: synthetic dataset not written: ${oneLine(e)}`);
    return undefined;
  }
}
