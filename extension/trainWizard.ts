/**
 * "Train Sparse Autoencoder…": a multi-step quick input (after the extension samples' MultiStepInput):
 * activation files, architecture, width, k or λ, token budget, output folder. Back buttons step back;
 * defaults come from the last run, then the settings. Returns the options, or undefined when dismissed.
 */
import * as vscode from 'vscode';
import { join, isAbsolute } from 'node:path';
import type { Activation } from '../src/sae/types';
import type { TrainOptions } from '../src/train/api';
import { readSettings } from './settings';
import { archChoices, defaultRunName, formatCount, parseCount, sparsityPrompt, usesK, validateK, validateL1, validateTokens, validateWidth } from './trainInputs';
import { LAST_RUN_KEY } from './training';
import type { WorkspaceIndex } from './workspaceIndex';
import { pickWhereToTrain } from './trainLocation';
import type { WhereToTrain } from './trainLocation';

const BACK = Symbol('back');
type StepResult<T> = T | typeof BACK | undefined;

function pick<T extends vscode.QuickPickItem>(title: string, step: number, total: number, items: T[], opts: { many?: boolean; active?: T[]; placeholder?: string }): Promise<StepResult<readonly T[]>> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<T>();
    Object.assign(qp, { title, step, totalSteps: total, items, canSelectMany: !!opts.many, placeholder: opts.placeholder, ignoreFocusOut: true });
    if (step > 1) qp.buttons = [vscode.QuickInputButtons.Back];
    if (opts.active?.length) {
      if (opts.many) qp.selectedItems = opts.active;
      else qp.activeItems = opts.active;
    }
    let done = false;
    const finish = (v: StepResult<readonly T[]>) => { if (!done) { done = true; resolve(v); qp.dispose(); } };
    qp.onDidTriggerButton((b) => { if (b === vscode.QuickInputButtons.Back) finish(BACK); });
    qp.onDidAccept(() => finish(opts.many ? qp.selectedItems : qp.activeItems));
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
}

function input(title: string, step: number, total: number, value: string, prompt: string, validate: (v: string) => string | undefined): Promise<StepResult<string>> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    Object.assign(box, { title, step, totalSteps: total, value, prompt, ignoreFocusOut: true });
    if (step > 1) box.buttons = [vscode.QuickInputButtons.Back];
    let done = false;
    const finish = (v: StepResult<string>) => { if (!done) { done = true; resolve(v); box.dispose(); } };
    box.onDidChangeValue((v) => { box.validationMessage = validate(v); });
    box.onDidTriggerButton((b) => { if (b === vscode.QuickInputButtons.Back) finish(BACK); });
    box.onDidAccept(() => {
      const problem = validate(box.value);
      if (problem) box.validationMessage = problem;
      else finish(box.value);
    });
    box.onDidHide(() => finish(undefined));
    box.show();
  });
}

interface FileItem extends vscode.QuickPickItem { path?: string; browse?: boolean }

export async function runTrainWizard(context: vscode.ExtensionContext, index: WorkspaceIndex): Promise<(TrainOptions & { where: WhereToTrain }) | undefined> {
  const s = readSettings();
  const last = context.workspaceState.get<Partial<TrainOptions>>(LAST_RUN_KEY) ?? {};
  const title = 'Train Sparse Autoencoder';
  const where = await pickWhereToTrain(context, title);
  if (!where) return undefined;
  const total = 6;
  const state: { activations: string[]; arch: Activation; width: number; k: number; l1: number; tokens: number; outDir?: string } = {
    activations: (last.activations ?? []).filter((p) => index.activations().some((a) => a.path === p)),
    arch: last.arch ?? s.defaultArchitecture,
    width: last.width ?? s.defaultWidth,
    k: last.k ?? s.defaultK,
    l1: last.l1 ?? s.defaultL1,
    tokens: last.tokens ?? s.defaultTokens,
  };
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  let step = 1;
  while (step <= total) {
    let r: StepResult<unknown>;
    switch (step) {
      case 1: {
        const items: FileItem[] = [
          ...index.activations().map((a) => ({ label: a.name, description: vscode.workspace.asRelativePath(a.path), path: a.path })),
          { label: '$(folder-opened) Browse…', description: 'pick activation files anywhere', browse: true, alwaysShow: true },
        ];
        const chosen = await pick(title, step, total, items, { many: true, active: items.filter((i) => i.path && state.activations.includes(i.path)), placeholder: 'Activation files (.npy, .safetensors): one or more' });
        r = chosen;
        if (chosen && chosen !== BACK) {
          const paths = chosen.filter((i) => i.path).map((i) => i.path!);
          if (chosen.some((i) => i.browse)) {
            const uris = await vscode.window.showOpenDialog({ canSelectMany: true, openLabel: 'Train on these', filters: { Activations: ['npy', 'safetensors'] } });
            if (!uris) continue;
            paths.push(...uris.map((u) => u.fsPath));
          }
          if (paths.length === 0) { void vscode.window.showWarningMessage('SAE Workbench: pick at least one activation file.'); continue; }
          state.activations = [...new Set(paths)];
        }
        break;
      }
      case 2: {
        const items = archChoices();
        const chosen = await pick(title, step, total, items, { active: items.filter((i) => i.label === state.arch), placeholder: 'Architecture' });
        r = chosen;
        if (chosen && chosen !== BACK && chosen[0]) state.arch = chosen[0].label;
        break;
      }
      case 3: {
        const v = await input(title, step, total, String(state.width), 'Width: number of latents (e.g. 16384, 16k)', validateWidth);
        r = v;
        if (typeof v === 'string') state.width = parseCount(v)!;
        break;
      }
      case 4: {
        if (usesK(state.arch)) {
          const v = await input(title, step, total, String(Math.min(state.k, state.width - 1)), 'k: active latents per token', (t) => validateK(t, state.width));
          r = v;
          if (typeof v === 'string') state.k = parseCount(v)!;
        } else {
          const v = await input(title, step, total, String(state.l1), sparsityPrompt(state.arch), validateL1);
          r = v;
          if (typeof v === 'string') state.l1 = Number(v);
        }
        break;
      }
      case 5: {
        const v = await input(title, step, total, formatCount(state.tokens).replace(/,/g, ''), 'Token budget (e.g. 10M)', validateTokens);
        r = v;
        if (typeof v === 'string') state.tokens = parseCount(v)!;
        break;
      }
      default: {
        const suggested = join(root ?? '.', 'saes', defaultRunName(state.arch, state.width, new Date()));
        const v = await input(title, step, total, root ? vscode.workspace.asRelativePath(suggested) : suggested, 'Output folder (relative to the workspace, or absolute); the SAE is written there in SAELens format', (t) => (t.trim() ? undefined : 'Give a folder'));
        r = v;
        if (typeof v === 'string') state.outDir = isAbsolute(v) ? v : join(root ?? process.cwd(), v);
      }
    }
    if (r === undefined) return undefined;
    step += r === BACK ? -1 : 1;
    if (step < 1) step = 1;
  }
  return {
    activations: state.activations, outDir: state.outDir!, arch: state.arch, width: state.width, tokens: state.tokens,
    ...(usesK(state.arch) ? { k: state.k } : { l1: state.l1 }), where,
  };
}
