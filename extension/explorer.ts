/**
 * The "SAE Workbench" explorer view: SAE folders (facts as children, broken ones as error items with the
 * reason) and activation files. Context menus act on the item (package.json `menus.view/item/context`,
 * keyed by contextValue: sae, saeBroken, activations).
 */
import * as vscode from 'vscode';
import { relative } from 'node:path';
import { describeFacts } from './saeFacts';
import type { SaeEntry } from './saeFacts';
import type { ActivationFile, WorkspaceIndex } from './workspaceIndex';
import { describeData } from './dataLinks';
import { evaluationProblems } from './evaluation';
import type { DataLinks } from './dataLinks';
import type { FileRole } from '../src/data/activationFiles';

const ROLE_LABEL: Record<FileRole, string> = {
  activations: 'rows', groundTruth: 'ground truth', codes: 'codes', tokenIds: 'token ids', saeWeights: 'SAE weights', other: 'not rows', broken: 'broken',
};

export const VIEW_ID = 'saeWorkbench.explorer';

type Node =
  | { kind: 'group'; id: 'saes' | 'activations' }
  | { kind: 'sae'; entry: SaeEntry }
  | { kind: 'fact'; label: string; value: string; command?: vscode.Command }
  | { kind: 'activations'; file: ActivationFile };

/** What a context-menu command receives: the tree node, or nothing (palette). */
export type ExplorerNode = Node;

export function nodePath(node: unknown): string | undefined {
  const n = node as Node | undefined;
  if (n?.kind === 'sae') return n.entry.dir;
  if (n?.kind === 'activations') return n.file.path;
  if (node instanceof vscode.Uri) return node.fsPath;
  return undefined;
}

export class SaeExplorer implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly index: WorkspaceIndex, private readonly links: DataLinks) {
    index.onDidChange(() => this.changed.fire(undefined));
    links.onDidChange(() => this.changed.fire(undefined));
  }

  private rel(p: string): string {
    const folder = vscode.workspace.workspaceFolders?.find((f) => p.startsWith(f.uri.fsPath));
    return folder ? relative(folder.uri.fsPath, p) || '.' : p;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return [{ kind: 'group', id: 'saes' }, { kind: 'group', id: 'activations' }];
    if (node.kind === 'group') {
      return node.id === 'saes' ? this.index.saes().map((entry) => ({ kind: 'sae', entry })) : this.index.tensorFiles().map((file) => ({ kind: 'activations', file }));
    }
    if (node.kind === 'sae' && node.entry.ok) {
      const f = node.entry;
      const facts: Node[] = [
        { kind: 'fact', label: 'architecture', value: f.architecture + (f.k !== undefined ? ` (k=${f.k})` : '') },
        { kind: 'fact', label: 'width', value: `${f.dSae.toLocaleString('en-US')} latents, d_in ${f.dIn}` },
        { kind: 'fact', label: 'data', value: describeData(this.links.resolve(f.dir)), command: { command: 'saeWorkbench.linkActivations', title: 'Link Activations…', arguments: [f.dir] } },
        { kind: 'fact', label: 'hook', value: f.hookName ?? '(none)' },
        { kind: 'fact', label: 'explained variance', value: f.explainedVariance !== undefined ? f.explainedVariance.toFixed(3) : evaluationProblems.has(f.dir) ? `not evaluated: ${evaluationProblems.get(f.dir)}` : this.links.resolve(f.dir) ? 'evaluating…' : 'not evaluated (link its activations)' },
      ];
      if (f.l0 !== undefined) facts.push({ kind: 'fact', label: 'L0', value: f.l0.toFixed(1) });
      if (f.measuredOn) facts.push({ kind: 'fact', label: 'measured on', value: f.measuredOn });
      if (f.modelName) facts.push({ kind: 'fact', label: 'model', value: f.modelName });
      return facts;
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const n = node.id === 'saes' ? this.index.saes().length : this.index.tensorFiles().length;
        const item = new vscode.TreeItem(node.id === 'saes' ? `SAEs (${n})` : `Activation files (${n})`, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.id}`;
        item.contextValue = `group-${node.id}`;
        return item;
      }
      case 'sae': {
        const e = node.entry;
        const item = new vscode.TreeItem(e.name, e.ok ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `sae:${e.dir}`;
        item.resourceUri = vscode.Uri.file(e.dir);
        if (e.ok) {
          item.description = describeFacts(e);
          item.tooltip = new vscode.MarkdownString().appendText(`${this.rel(e.dir)}\n${describeFacts(e)}\nhook: ${e.hookName ?? '(none)'}`);
          item.iconPath = new vscode.ThemeIcon('symbol-namespace');
          item.contextValue = 'sae';
          item.command = { command: 'saeWorkbench.showDictionary', title: 'Show Dictionary', arguments: [node] };
        } else {
          item.description = e.reason;
          item.tooltip = `${this.rel(e.dir)}: ${e.reason}`;
          item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
          item.contextValue = 'saeBroken';
        }
        return item;
      }
      case 'fact': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.value;
        item.tooltip = `${node.label}: ${node.value}`;
        item.contextValue = node.command ? 'fact-data' : 'fact';
        item.command = node.command;
        return item;
      }
      case 'activations': {
        const f = node.file;
        const item = new vscode.TreeItem(f.name, vscode.TreeItemCollapsibleState.None);
        item.id = `acts:${f.path}`;
        item.resourceUri = vscode.Uri.file(f.path);
        // what the file is, so that ground truth, codes, token ids and broken files are never taken for rows
        item.description = f.role === 'activations' ? `${f.note} · ${this.rel(f.path)}` : `${ROLE_LABEL[f.role]} · ${this.rel(f.path)}`;
        item.tooltip = `${this.rel(f.path)}\n${f.note}`;
        item.iconPath = f.role === 'broken' ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
          : new vscode.ThemeIcon(f.role === 'activations' ? 'database' : 'file-binary');
        // only rows are offered for training (package.json menus key on viewItem == activations)
        item.contextValue = f.role === 'activations' ? 'activations' : 'tensorFile';
        item.command = f.manifest
          ? { command: 'vscode.open', title: 'Open Manifest', arguments: [vscode.Uri.file(f.manifest)] }
          : { command: 'vscode.openWith', title: 'Open', arguments: [vscode.Uri.file(f.path), 'saeWorkbench.tensorFile'] };
        return item;
      }
    }
  }
}
