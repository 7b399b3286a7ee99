/** Shared pickers: which SAE or activation file a command acts on (from an argument, or asked). */
import * as vscode from 'vscode';
import { readSaeFacts } from './saeFacts';
import type { SaeFacts } from './saeFacts';
import { nodePath } from './explorer';
import type { WorkspaceIndex } from './workspaceIndex';
import type { DataLinks } from './dataLinks';

interface SaeItem extends vscode.QuickPickItem { dir?: string; browse?: boolean }

/** The SAE folder named by a command argument (tree node, Uri, path string), if any. */
export function saeDirFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  return nodePath(arg);
}

/** Resolves an argument or asks; healthy SAEs only. Says why when it cannot. */
export async function pickSae(index: WorkspaceIndex, arg: unknown, purpose: string): Promise<SaeFacts | undefined> {
  const given = saeDirFromArg(arg);
  if (given) {
    const f = index.get(given) ?? readSaeFacts(given);
    if (f?.ok) return f;
    void vscode.window.showErrorMessage(`SAE Workbench: ${given}: ${f ? f.reason : 'not an SAE folder'}`);
    return undefined;
  }
  await index.scanned();
  const items: SaeItem[] = index.healthySaes().map((s) => ({ label: s.name, description: vscode.workspace.asRelativePath(s.dir), detail: `${s.architecture}${s.k !== undefined ? ` k=${s.k}` : ''} · ${s.dSae.toLocaleString('en-US')} latents${s.hookName ? ` · ${s.hookName}` : ''}`, dir: s.dir }));
  items.push({ label: '$(folder-opened) Browse…', description: 'an SAE folder anywhere', browse: true, alwaysShow: true });
  const chosen = await vscode.window.showQuickPick(items, { title: purpose, placeHolder: items.length > 1 ? 'Which SAE?' : 'No SAE found in this workspace: browse for one' });
  if (!chosen) return undefined;
  if (chosen.browse) return browseSae(index);
  return index.get(chosen.dir!)?.ok ? (index.get(chosen.dir!) as SaeFacts) : undefined;
}

export async function pickSaes(index: WorkspaceIndex, purpose: string, min: number): Promise<SaeFacts[] | undefined> {
  await index.scanned();
  const items = index.healthySaes().map((s) => ({ label: s.name, description: `${s.dSae.toLocaleString('en-US')} latents${s.hookName ? ` · ${s.hookName}` : ''}`, detail: vscode.workspace.asRelativePath(s.dir), facts: s }));
  if (items.length < min) {
    void vscode.window.showInformationMessage(`SAE Workbench: ${purpose} needs at least ${min} SAEs in the workspace; ${items.length} found. Open or train more first.`);
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(items, { title: purpose, canPickMany: true, placeHolder: `Pick ${min} or more SAEs` });
  if (!chosen) return undefined;
  if (chosen.length < min) {
    void vscode.window.showWarningMessage(`SAE Workbench: ${purpose} needs at least ${min} SAEs.`);
    return undefined;
  }
  return chosen.map((c) => c.facts);
}

export async function browseSae(index: WorkspaceIndex): Promise<SaeFacts | undefined> {
  const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Open SAE' });
  if (!uris?.[0]) return undefined;
  const entry = await index.addOpened(uris[0].fsPath) ?? readSaeFacts(uris[0].fsPath);
  if (entry?.ok) return entry;
  void vscode.window.showErrorMessage(`SAE Workbench: ${uris[0].fsPath}: ${entry ? entry.reason : 'not an SAE folder (expected cfg.json and sae_weights.safetensors)'}`);
  return undefined;
}

/**
 * The SAEs a split tree from `first` spans: the SAEs of other widths that read the same activations
 * (same resolved file) are offered preselected, then the rest of the same d_in. Undefined when dismissed
 * or when there is no second width to compare with (said why).
 */
export async function pickSplitFamily(index: WorkspaceIndex, links: DataLinks, first: SaeFacts): Promise<SaeFacts[] | undefined> {
  await index.scanned();
  const data = links.resolve(first.dir)?.source;
  const others = index.healthySaes().filter((s) => s.dir !== first.dir && s.dIn === first.dIn && s.dSae !== first.dSae);
  if (others.length === 0) {
    void vscode.window.showInformationMessage(`SAE Workbench: a feature-split tree compares SAEs of different widths on the same activations; no other SAE with d_in ${first.dIn} is in the workspace. Train one of another width on the same file first.`);
    return undefined;
  }
  const sameData = (s: SaeFacts) => data !== undefined && links.resolve(s.dir)?.source === data;
  // one SAE per width is preselected: a tree's columns are widths, so two SAEs of one width are no split
  const preselected = new Set<number>();
  const items = others.sort((a, b) => Number(sameData(b)) - Number(sameData(a)) || a.dSae - b.dSae || a.name.localeCompare(b.name))
    .map((s) => {
      const picked = sameData(s) && !preselected.has(s.dSae);
      if (picked) preselected.add(s.dSae);
      return { label: s.name, description: `${s.dSae.toLocaleString('en-US')} latents${sameData(s) ? ' · same activations' : ''}`, detail: vscode.workspace.asRelativePath(s.dir), facts: s, picked };
    });
  const chosen = await vscode.window.showQuickPick(items, { title: `Feature-split tree from ${first.name} (${first.dSae.toLocaleString('en-US')} latents)`, canPickMany: true, placeHolder: 'SAEs of other widths to split across (one per width)' });
  if (!chosen?.length) return undefined;
  const widths = new Map<number, string>([[first.dSae, first.name]]);
  for (const c of chosen) {
    const same = widths.get(c.facts.dSae);
    if (same) {
      void vscode.window.showWarningMessage(`SAE Workbench: a feature-split tree takes one SAE per width; ${same} and ${c.facts.name} both have ${c.facts.dSae.toLocaleString('en-US')} latents. Pick one of them.`);
      return undefined;
    }
    widths.set(c.facts.dSae, c.facts.name);
  }
  // narrowest first, as the tree reads
  return [first, ...chosen.map((c) => c.facts)].sort((a, b) => a.dSae - b.dSae);
}
