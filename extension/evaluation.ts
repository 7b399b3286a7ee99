/**
 * Keeps the explorer's figures evaluated: each SAE with data (linked, recorded or beside it) whose
 * eval.json is missing or stale is evaluated in the panels' worker, one at a time, on the same row sample
 * as every panel; the index then rereads the facts. Nothing runs on the extension host thread.
 */
import * as vscode from 'vscode';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine } from '../src/errors';
import { WEIGHTS_FILE } from '../src/formats/saelens';
import { panelData } from './panels/data';
import type { DataLinks } from './dataLinks';
import type { WorkspaceIndex } from './workspaceIndex';

/** Why an SAE could not be evaluated on its data (the explorer says so instead of "evaluating…"). */
export const evaluationProblems = new Map<string, string>();

export function keepEvaluated(context: vscode.ExtensionContext, index: WorkspaceIndex, links: DataLinks, log: vscode.OutputChannel): void {
  /** SAE + data + weights version already tried (succeeded or failed): never asked twice. */
  const tried = new Set<string>();
  let running = false;
  const next = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      for (;;) {
        const todo = index.healthySaes().map((s) => {
          const data = s.measuredOn ? undefined : links.resolve(s.dir);
          let stamp = '';
          try { stamp = String(statSync(join(s.dir, WEIGHTS_FILE)).mtimeMs); } catch { /* gone */ }
          return data && { dir: s.dir, activations: data.source, key: `${s.dir}\0${data.source}\0${stamp}` };
        }).find((t) => t && !tried.has(t.key));
        if (!todo) return;
        tried.add(todo.key);
        const problemBefore = evaluationProblems.get(todo.dir);
        try {
          await panelData(context).evaluate(todo.dir, todo.activations);
          evaluationProblems.delete(todo.dir);
        } catch (e) {
          evaluationProblems.set(todo.dir, oneLine(e));
          log.appendLine(`evaluating ${todo.dir} on ${todo.activations}: ${oneLine(e)}`);
        }
        // eval.json changes the SAE's facts (the index sees it); a problem is shown beside them
        await index.refresh();
        if (evaluationProblems.get(todo.dir) !== problemBefore) index.announce();
      }
    } finally {
      running = false;
    }
  };
  context.subscriptions.push(index.onDidChange(() => { void next(); }), links.onDidChange(() => { void next(); }));
}
