import * as vscode from 'vscode';
import { Annotations, registerAnnotationCommands } from './annotations';
import { registerCaptureCommand } from './capture';
import { registerCommands } from './commands';
import { registerDemoCommands } from './demo';
import { SaeExplorer, VIEW_ID } from './explorer';
import { registerHookLens } from './hookLens';
import { registerPanels, setAnnotationSink } from './panels';
import { readSaeFacts } from './saeFacts';
import { InputError } from '../src/errors';
import { TensorEditorProvider } from './tensorEditor';
import { TrainingRuns } from './training';
import { WorkspaceIndex } from './workspaceIndex';
import { DataLinks } from './dataLinks';
import { registerCompareDocuments } from './compareDocument';
import { keepEvaluated } from './evaluation';

/** Entry point of the extension host side: builds the shared services and registers every contribution. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('SAE Workbench');
  const index = new WorkspaceIndex(context, output);
  const annotations = new Annotations(output);
  const runs = new TrainingRuns(context, output, () => index.scheduleRefresh(100));
  context.subscriptions.push(output, index, annotations, runs);

  registerPanels(context);
  // The feature page's annotation editor saves through the same store as the Annotate command.
  setAnnotationSink(async ({ saeDir, latent, label, note }) => {
    const facts = readSaeFacts(saeDir);
    if (!facts || !facts.ok) throw new InputError(saeDir, facts ? facts.reason : 'not an SAE folder');
    if (!vscode.workspace.isTrusted) throw new InputError(saeDir, 'saving annotations needs a trusted workspace');
    if (!annotations.annotate(facts, latent, { label, description: note })) throw new InputError(saeDir, 'annotations could not be saved (see the SAE Workbench output)');
    return { savedAt: new Date().toISOString() };
  });
  const links = new DataLinks(context, index);
  registerCommands({ context, index, runs, annotations, links });
  registerCaptureCommand(context, output);
  registerAnnotationCommands(context, index, annotations);
  registerDemoCommands(context, output, () => index.scheduleRefresh(100));
  registerHookLens(context, index);
  registerCompareDocuments(context);
  keepEvaluated(context, index, links, output);
  context.subscriptions.push(
    vscode.window.createTreeView(VIEW_ID, { treeDataProvider: new SaeExplorer(index, links), showCollapseAll: true }),
    TensorEditorProvider.register(context),
  );
  void index.refresh();
  output.appendLine('SAE Workbench activated');
}

export function deactivate(): void {
  // everything is in context.subscriptions (running trainings are cancelled by TrainingRuns.dispose)
}
