/**
 * The panels' public face for the rest of the extension: commands call these, activate() calls
 * registerPanels. Each panel has a controller in this folder and a typed protocol in src/protocol.
 * (Placeholder bodies until the panels land; signatures are the contract.)
 */
import * as vscode from 'vscode';
import type { TrainingProgress } from '../../src/protocol/training';

/** Registers the webview serializers (restore after reload) and anything panels need at start. */
export function registerPanels(_context: vscode.ExtensionContext): void {
  // filled in by the panels
}

function notYet(what: string): void {
  void vscode.window.showInformationMessage(`SAE Workbench: the ${what} panel is not built yet.`);
}

export function showDictionary(_context: vscode.ExtensionContext, _saeDir: string): void { notYet('dictionary'); }
export function showFeature(_context: vscode.ExtensionContext, _saeDir: string, _latent: number): void { notYet('feature'); }
export function showSplitTree(_context: vscode.ExtensionContext, _saeDirs: string[], _activations?: string): void { notYet('feature-split tree'); }
export function showDiagnostics(_context: vscode.ExtensionContext, _saeDir: string, _activations?: string): void { notYet('diagnostics'); }
export function showTrainingMonitor(_context: vscode.ExtensionContext, _runId: string, _progress: vscode.Event<TrainingProgress>): void { notYet('training monitor'); }
