import * as vscode from 'vscode';

/** Entry point of the extension host side. Commands, views and panels are registered by their modules. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('SAE Workbench');
  context.subscriptions.push(output);
  output.appendLine('SAE Workbench activated');
}

export function deactivate(): void {
  // nothing to release beyond context.subscriptions
}
