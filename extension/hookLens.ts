/**
 * CodeLens and hover beside model code: a string literal naming a hook point that a known SAE was trained
 * on (its cfg.json hook_name) gets "SAE: 16,384 latents · EV 0.87 — Dictionary | Diagnostics". Languages
 * come from the setting saeWorkbench.codeLens.languages (Python by default).
 */
import * as vscode from 'vscode';
import { findHookStrings } from './hookStrings';
import { describeFacts, lensTitle } from './saeFacts';
import type { SaeFacts } from './saeFacts';
import { readSettings, SECTION } from './settings';
import type { WorkspaceIndex } from './workspaceIndex';

const HOVER_COMMANDS = ['saeWorkbench.showDictionary', 'saeWorkbench.runDiagnostics', 'saeWorkbench.showFeature'];

class HookLensProvider implements vscode.CodeLensProvider, vscode.HoverProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly index: WorkspaceIndex) {
    index.onDidChange(() => this.changed.fire());
  }

  private matches(doc: vscode.TextDocument): { range: vscode.Range; saes: SaeFacts[] }[] {
    const known = this.index.hookNames();
    return findHookStrings(doc.getText(), known).map((m) => ({ range: new vscode.Range(doc.positionAt(m.start), doc.positionAt(m.end)), saes: this.index.byHook(m.hookName) }));
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    for (const { range, saes } of this.matches(doc)) {
      for (const sae of saes) {
        const prefix = saes.length > 1 ? `${sae.name}: ` : '';
        lenses.push(
          new vscode.CodeLens(range, { title: prefix + lensTitle(sae), tooltip: `${sae.dir}\n${describeFacts(sae)}`, command: 'saeWorkbench.revealSae', arguments: [sae.dir] }),
          new vscode.CodeLens(range, { title: 'Dictionary', command: 'saeWorkbench.showDictionary', arguments: [sae.dir] }),
          new vscode.CodeLens(range, { title: 'Diagnostics', command: 'saeWorkbench.runDiagnostics', arguments: [sae.dir] }),
        );
      }
    }
    return lenses;
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const hit = this.matches(doc).find((m) => m.range.contains(pos));
    if (!hit) return undefined;
    const md = new vscode.MarkdownString();
    md.isTrusted = { enabledCommands: HOVER_COMMANDS };
    for (const sae of hit.saes) {
      const link = (cmd: string, title: string) => `[${title}](command:${cmd}?${encodeURIComponent(JSON.stringify([sae.dir]))})`;
      md.appendMarkdown('**');
      md.appendText(sae.name);
      md.appendMarkdown('** — ');
      md.appendText(`${describeFacts(sae)} · d_in ${sae.dIn}${sae.modelName ? ` · ${sae.modelName}` : ''}`);
      md.appendMarkdown(`\n\n${link('saeWorkbench.showDictionary', 'Dictionary')} · ${link('saeWorkbench.runDiagnostics', 'Diagnostics')}\n\n`);
    }
    return new vscode.Hover(md, hit.range);
  }
}

export function registerHookLens(context: vscode.ExtensionContext, index: WorkspaceIndex): void {
  const provider = new HookLensProvider(index);
  let registrations: vscode.Disposable[] = [];
  const register = () => {
    for (const r of registrations) r.dispose();
    const selector = readSettings().codeLensLanguages.map((language) => ({ language }));
    registrations = selector.length ? [vscode.languages.registerCodeLensProvider(selector, provider), vscode.languages.registerHoverProvider(selector, provider)] : [];
  };
  register();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration(`${SECTION}.codeLens.languages`)) register(); }),
    { dispose: () => { for (const r of registrations) r.dispose(); } },
  );
}
