/**
 * Workspace trust: reading and viewing work everywhere; anything that trains or writes files needs a
 * trusted workspace. Commands check here (the palette hides them too, by `when: isWorkspaceTrusted`, but a
 * keybinding or another extension can still call them).
 */
import * as vscode from 'vscode';

export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`SAE Workbench: ${action} needs a trusted workspace (it writes files). Reading and viewing SAEs works without trust.`, 'Manage Workspace Trust')
    .then((pick) => { if (pick) void vscode.commands.executeCommand('workbench.trust.manage'); });
  return false;
}
