/**
 * "Train Sparse Autoencoder…": a multi-step quick input (after the extension samples' MultiStepInput):
 * activation files (and the tensor of a multi-tensor file), architecture, width, k or λ, token budget,
 * the model and hook the rows come from, output folder. Each step is one entry of WIZARD_STEPS, so a
 * step can be added (e.g. where to train) without touching the others. Back buttons step back; defaults
 * come from the last run, then the settings. Returns the options, or undefined when dismissed.
 */
import * as vscode from 'vscode';
import { join, isAbsolute } from 'node:path';
import { DEFAULT_ARCH, isTrainable } from '../src/sae/arch/registry';
import type { ArchName } from '../src/sae/arch/registry';
import { classifyActivationFile } from '../src/data/activationFiles';
import { pickTensor } from './dataLinks';
import type { TrainOptions } from '../src/train/api';
import { readSettings } from './settings';
import { archChoices, defaultRunName, formatCount, outFolderProblem, parseCount, sparsityPrompt, usesK, validateHookName, validateK, validateL1, validateTokens, validateWidth } from './trainInputs';
import { LAST_RUN_KEY } from './training';
import { pickWhereToTrain } from './trainLocation';
import type { WhereToTrain } from './trainLocation';
import type { WorkspaceIndex } from './workspaceIndex';

const BACK = Symbol('back');
/** Repeat the current step (a problem was shown, or a dialog was dismissed). */
const BACK_TO_SELF = Symbol('again');
type StepResult<T> = T | typeof BACK | typeof BACK_TO_SELF | undefined;

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

/** What the wizard has gathered so far. */
export interface WizardState {
  activations: string[]; tensor?: string; arch: ArchName; width: number; k: number; l1: number; tokens: number;
  hookName: string; modelName: string; outDir?: string;
}

/** One step: shows its input, updates the state; BACK, or undefined when dismissed. */
export type WizardStep = (w: { state: WizardState; title: string; step: number; total: number }) => Promise<StepResult<unknown>>;

const activationsStep = (index: WorkspaceIndex): WizardStep => async ({ state, title, step, total }) => {
  const items: FileItem[] = [
    ...index.activations().map((a) => ({ label: a.name, description: vscode.workspace.asRelativePath(a.path), detail: a.note, path: a.path })),
    { label: '$(folder-opened) Browse…', description: 'pick activation files anywhere', browse: true, alwaysShow: true },
  ];
  const chosen = await pick(title, step, total, items, { many: true, active: items.filter((i) => i.path && state.activations.includes(i.path)), placeholder: 'Activation files (2-D float rows in .npy or .safetensors): one or more' });
  if (!chosen || chosen === BACK || chosen === BACK_TO_SELF) return chosen;
  const paths: string[] = chosen.filter((i) => i.path).map((i) => i.path!);
  if (chosen.some((i) => i.browse)) {
    const uris = await vscode.window.showOpenDialog({ canSelectMany: true, openLabel: 'Train on these', filters: { Activations: ['npy', 'safetensors'] } });
    if (!uris) return BACK_TO_SELF;
    paths.push(...uris.map((u) => u.fsPath));
  }
  if (paths.length === 0) { void vscode.window.showWarningMessage('SAE Workbench: pick at least one activation file.'); return BACK_TO_SELF; }
  const infos = [...new Set(paths)].map(classifyActivationFile);
  const unfit = infos.find((f) => f.role !== 'activations');
  if (unfit) { void vscode.window.showErrorMessage(`SAE Workbench: ${unfit.path}: ${unfit.note}; pick a file of activation rows.`); return BACK_TO_SELF; }
  // a .safetensors file with several row tensors: which one (the same name is read from every file)
  const multi = infos.find((f) => f.tensors.length > 1);
  const tensor = multi ? await pickTensor(multi) : undefined;
  if (tensor === null) return BACK_TO_SELF;
  state.activations = infos.map((f) => f.path);
  state.tensor = tensor;
  return true;
};

const archStep: WizardStep = async ({ state, title, step, total }) => {
  // exactly what the engine trains, from the architecture registry
  const items = archChoices();
  const chosen = await pick(title, step, total, items, { active: items.filter((i) => i.label === state.arch), placeholder: 'Architecture' });
  if (chosen && chosen !== BACK && chosen !== BACK_TO_SELF && chosen[0]) state.arch = chosen[0].label;
  return chosen;
};

const widthStep: WizardStep = async ({ state, title, step, total }) => {
  const v = await input(title, step, total, String(state.width), 'Width: number of latents (e.g. 16384, 16k)', validateWidth);
  if (typeof v === 'string') state.width = parseCount(v)!;
  return v;
};

const sparsityStep: WizardStep = async ({ state, title, step, total }) => {
  if (usesK(state.arch)) {
    const v = await input(title, step, total, String(Math.min(state.k, state.width - 1)), 'k: active latents per token', (t) => validateK(t, state.width));
    if (typeof v === 'string') state.k = parseCount(v)!;
    return v;
  }
  const v = await input(title, step, total, String(state.l1), sparsityPrompt(state.arch), validateL1);
  if (typeof v === 'string') state.l1 = Number(v);
  return v;
};

const tokensStep: WizardStep = async ({ state, title, step, total }) => {
  const v = await input(title, step, total, formatCount(state.tokens).replace(/,/g, ''), 'Token budget (e.g. 10M)', validateTokens);
  if (typeof v === 'string') state.tokens = parseCount(v)!;
  return v;
};

const modelStep: WizardStep = async ({ state, title, step, total }) => {
  const v = await input(title, step, total, state.modelName, 'Model the activations come from (e.g. gpt2, EleutherAI/pythia-70m); recorded with the SAE. Leave empty if none', () => undefined);
  if (typeof v === 'string') state.modelName = v.trim();
  return v;
};

const hookStep = (index: WorkspaceIndex): WizardStep => async ({ state, title, step, total }) => {
  const known = [...index.hookNames()].slice(0, 3).join(', ');
  const v = await input(title, step, total, state.hookName, `Hook the activations were captured at (e.g. blocks.8.hook_resid_pre${known ? `; in this workspace: ${known}` : ''}); CodeLens shows the SAE beside this name in your code. Leave empty if none`, validateHookName);
  if (typeof v === 'string') state.hookName = v.trim();
  return v;
};

const outStep = (root: string | undefined): WizardStep => async ({ state, title, step, total }) => {
  const suggested = join(root ?? '.', 'saes', defaultRunName(state.arch, state.width, new Date()));
  const v = await input(title, step, total, root ? vscode.workspace.asRelativePath(suggested) : suggested, 'Output folder (relative to the workspace, or absolute); the SAE is written there in SAELens format', (t) => outFolderProblem(t.trim() ? (isAbsolute(t) ? t : join(root ?? process.cwd(), t)) : ''));
  if (typeof v === 'string') state.outDir = isAbsolute(v) ? v : join(root ?? process.cwd(), v);
  return v;
};

export async function runTrainWizard(context: vscode.ExtensionContext, index: WorkspaceIndex): Promise<(TrainOptions & { where: WhereToTrain }) | undefined> {
  const s = readSettings();
  const last = context.workspaceState.get<Partial<TrainOptions>>(LAST_RUN_KEY) ?? {};
  const title = 'Train Sparse Autoencoder';
  // first: this machine, PyTorch (GPU if present), or a torchrun job elsewhere (./trainLocation.ts)
  const where = await pickWhereToTrain(context, title);
  if (!where) return undefined;
  await index.scanned();
  const state: WizardState = {
    activations: (last.activations ?? []).filter((p) => index.activations().some((a) => a.path === p)),
    tensor: last.tensorName,
    arch: isTrainable(last.arch) ? last.arch : isTrainable(s.defaultArchitecture) ? s.defaultArchitecture : DEFAULT_ARCH,
    width: last.width ?? s.defaultWidth,
    k: last.k ?? s.defaultK,
    l1: last.l1 ?? s.defaultL1,
    tokens: last.tokens ?? s.defaultTokens,
    hookName: last.hookName ?? '',
    modelName: last.modelName ?? '',
  };
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const steps: WizardStep[] = [activationsStep(index), archStep, widthStep, sparsityStep, tokensStep, modelStep, hookStep(index), outStep(root)];
  let i = 0;
  while (i < steps.length) {
    const r = await steps[i]!({ state, title, step: i + 1, total: steps.length });
    if (r === undefined) return undefined;
    if (r === BACK_TO_SELF) continue;
    i = r === BACK ? Math.max(0, i - 1) : i + 1;
  }
  return {
    where, activations: state.activations, outDir: state.outDir!, arch: state.arch, width: state.width, tokens: state.tokens,
    ...(state.tensor ? { tensorName: state.tensor } : {}),
    ...(usesK(state.arch) ? { k: state.k } : { l1: state.l1 }),
    ...(state.hookName ? { hookName: state.hookName } : {}),
    ...(state.modelName ? { modelName: state.modelName } : {}),
  };
}
