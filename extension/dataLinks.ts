/**
 * The workspace's link from each SAE to its data (workspaceState, per SAE folder). Resolution itself is
 * src/data/saeData.ts (link → recorded file → activations.npy beside); here the link is kept, and asked
 * for once when an SAE has no data: the likely files first (the SAE's width, nearest folder), then
 * Browse…. "SAE: Link Activations…" changes it.
 */
import * as vscode from 'vscode';
import { classifyActivationFile, rowTensorOf } from '../src/data/activationFiles';
import type { ActivationFileInfo } from '../src/data/activationFiles';
import { missingDataReason, rankCandidates, resolveSaeData } from '../src/data/saeData';
import type { DataLink, ResolvedSaeData } from '../src/data/saeData';
import type { SaeFacts } from './saeFacts';
import type { WorkspaceIndex } from './workspaceIndex';

const LINKS_KEY = 'saeWorkbench.dataLinks';

interface FileItem extends vscode.QuickPickItem { info?: ActivationFileInfo; browse?: boolean; none?: boolean }

/** "data/acts.npy (recorded)" — the explorer's and the panels' one line. */
export function describeData(d: ResolvedSaeData | undefined): string {
  if (!d) return 'none linked';
  const where = vscode.workspace.asRelativePath(d.activations);
  return `${where}${d.tensor ? ` [${d.tensor}]` : ''} (${d.origin})`;
}

export class DataLinks {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly context: vscode.ExtensionContext, private readonly index: WorkspaceIndex) {}

  private links(): Record<string, DataLink> {
    return this.context.workspaceState.get<Record<string, DataLink>>(LINKS_KEY, {});
  }

  link(saeDir: string): DataLink | undefined { return this.links()[saeDir]; }

  async setLink(saeDir: string, link: DataLink | undefined): Promise<void> {
    const all = { ...this.links() };
    if (link) all[saeDir] = link; else delete all[saeDir];
    await this.context.workspaceState.update(LINKS_KEY, all);
    this.changed.fire();
  }

  /** The data this SAE is read with now, without asking. */
  resolve(saeDir: string): ResolvedSaeData | undefined {
    return resolveSaeData(saeDir, this.link(saeDir));
  }

  /**
   * The SAE's data, asking once when there is none (and remembering the answer). Undefined when the user
   * dismissed the question; a warning says why the command cannot go on.
   */
  async ensure(sae: SaeFacts, purpose: string): Promise<ResolvedSaeData | undefined> {
    const have = this.resolve(sae.dir);
    if (have) return have;
    const chosen = await this.choose(sae, `${purpose}: which activations does ${sae.name} read? (${missingDataReason(sae.dir)})`);
    if (!chosen) void vscode.window.showWarningMessage(`SAE Workbench: ${purpose} of ${sae.name} needs its activations; use "SAE: Link Activations…" to choose them.`);
    return chosen;
  }

  /** Asks which file (and tensor) an SAE reads, stores the link, returns it resolved. */
  async choose(sae: SaeFacts, title: string): Promise<ResolvedSaeData | undefined> {
    const current = this.resolve(sae.dir);
    await this.index.scanned();
    const ranked = rankCandidates(sae.dir, sae.dIn, this.index.activations());
    const items: FileItem[] = ranked.map((info) => ({
      label: vscode.workspace.asRelativePath(info.path),
      description: info.path === current?.activations ? `$(check) ${current.origin}` : undefined,
      detail: info.note,
      info,
    }));
    items.push({ label: '$(folder-opened) Browse…', description: `a .npy or .safetensors file of rows of width ${sae.dIn}`, browse: true, alwaysShow: true });
    if (this.link(sae.dir)) items.push({ label: '$(close) Remove the link', description: 'use the recorded file again', none: true, alwaysShow: true });
    const picked = await vscode.window.showQuickPick(items, {
      title, ignoreFocusOut: true,
      placeHolder: ranked.length ? `Activation files of width ${sae.dIn}, likeliest first` : `No activation file of width ${sae.dIn} in the workspace: browse for one`,
    });
    if (!picked) return undefined;
    if (picked.none) { await this.setLink(sae.dir, undefined); return this.resolve(sae.dir); }
    let info = picked.info;
    if (picked.browse) {
      const uris = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Link', filters: { Activations: ['npy', 'safetensors'] } });
      if (!uris?.[0]) return undefined;
      info = classifyActivationFile(uris[0].fsPath);
    }
    if (!info) return undefined;
    const problem = info.role !== 'activations' ? info.note : !info.tensors.some((t) => t.d === sae.dIn) ? `its rows have width ${info.tensors.map((t) => t.d).join('/')}, the SAE reads ${sae.dIn}` : undefined;
    if (problem) {
      void vscode.window.showErrorMessage(`SAE Workbench: ${info.path}: ${problem}`);
      return undefined;
    }
    const tensor = await pickTensor(info, sae.dIn);
    if (tensor === null) return undefined;
    await this.setLink(sae.dir, { activations: info.path, tensor });
    return this.resolve(sae.dir);
  }
}

/**
 * The tensor to read from a file with several row tensors (asked), else undefined; null when dismissed.
 * `dIn` narrows the choice to tensors of that width when given.
 */
export async function pickTensor(info: ActivationFileInfo, dIn?: number): Promise<string | undefined | null> {
  const fits = info.tensors.filter((t) => dIn === undefined || t.d === dIn);
  if (fits.length <= 1) return fits[0]?.name ?? rowTensorOf(info)?.name;
  const picked = await vscode.window.showQuickPick(fits.map((t) => ({ label: t.name!, description: `${t.rows.toLocaleString('en-US')} rows × d ${t.d} (${t.dtype})` })), {
    title: `${vscode.workspace.asRelativePath(info.path)} holds ${fits.length} row tensors`, placeHolder: 'Which tensor holds the activations?', ignoreFocusOut: true,
  });
  return picked ? picked.label : null;
}
