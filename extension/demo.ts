/**
 * The demo, from inside the editor (the Getting Started walkthrough's first two steps): "Run Demo" runs the
 * bundled command line's `demo` (synthetic data with known features, three SAEs, a split tree, diagnostics,
 * one self-contained report.html) into <workspace>/sae-workbench-demo, in a child process with progress
 * and Cancel; "Open Demo Report" opens that report in the browser.
 */
import * as vscode from 'vscode';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireTrust } from './trust';

export const DEMO_FOLDER = 'sae-workbench-demo';

function demoDir(): string | undefined {
  const ws = vscode.workspace.workspaceFolders?.[0];
  return ws && ws.uri.scheme === 'file' ? join(ws.uri.fsPath, DEMO_FOLDER) : undefined;
}

async function openReport(): Promise<boolean> {
  const dir = demoDir();
  const report = dir && join(dir, 'report.html');
  if (!report || !existsSync(report)) {
    const pick = await vscode.window.showInformationMessage('SAE Workbench: there is no demo report in this workspace yet.', 'Run Demo');
    if (pick) await vscode.commands.executeCommand('saeWorkbench.runDemo');
    return false;
  }
  return vscode.env.openExternal(vscode.Uri.file(report));
}

/** Runs `sae-workbench demo --out <dir>` on the extension host's Node (Electron's, as plain Node). */
function runDemo(context: vscode.ExtensionContext, output: vscode.OutputChannel, dir: string): Thenable<'done' | 'cancelled' | string> {
  const cli = join(context.extensionPath, 'dist', 'cli', 'cli.js');
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'SAE Workbench demo', cancellable: true }, (progress, token) =>
    new Promise<'done' | 'cancelled' | string>((resolve) => {
      output.appendLine(`demo: ${cli} demo --out ${dir}`);
      const child = spawn(process.execPath, [cli, 'demo', '--out', dir], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let lastErr = '';
      const onLine = (chunk: Buffer, err: boolean) => {
        for (const line of String(chunk).split('\n').map((l) => l.trim()).filter(Boolean)) {
          output.appendLine(`demo: ${line}`);
          if (err) lastErr = line; else progress.report({ message: line.slice(0, 120) });
        }
      };
      child.stdout.on('data', (c: Buffer) => onLine(c, false));
      child.stderr.on('data', (c: Buffer) => onLine(c, true));
      token.onCancellationRequested(() => child.kill());
      child.on('error', (e) => resolve(e.message));
      child.on('close', (code) => resolve(token.isCancellationRequested ? 'cancelled' : code === 0 ? 'done' : lastErr || `the demo exited with code ${code}`));
    }));
}

export function registerDemoCommands(context: vscode.ExtensionContext, output: vscode.OutputChannel, refresh: () => void): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('saeWorkbench.runDemo', async () => {
      if (!requireTrust('The demo')) return undefined;
      const dir = demoDir();
      if (!dir) {
        void vscode.window.showWarningMessage('SAE Workbench: open a folder first; the demo writes into it.', 'Open Folder')
          .then((pick) => { if (pick) void vscode.commands.executeCommand('vscode.openFolder'); });
        return undefined;
      }
      const result = await runDemo(context, output, dir);
      refresh();
      if (result === 'done') {
        const pick = await vscode.window.showInformationMessage(`SAE Workbench: the demo wrote three SAEs and a report into ${DEMO_FOLDER}/.`, 'Open Report');
        if (pick) await openReport();
      } else if (result !== 'cancelled') void vscode.window.showErrorMessage(`SAE Workbench: the demo failed: ${result}`);
      return result;
    }),
    vscode.commands.registerCommand('saeWorkbench.openDemoReport', openReport),
  );
}
