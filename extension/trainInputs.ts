/**
 * Parsing and checking of what the user types in the training wizard (and passes to the `saeWorkbench.train`
 * command API). Plain TypeScript, unit-tested; every problem is one line naming the field.
 */
import { ENGINE_PREFERENCES } from '../src/compute/engine';
import type { EnginePreference } from '../src/compute/engine';
import { InputError } from '../src/errors';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { archSpec, isTrainable, TRAINABLE_ARCHS, trainFacts } from '../src/sae/arch/registry';
import type { TrainSetting } from '../src/train/outcome';
import type { Activation } from '../src/sae/types';
import type { TrainOptions } from '../src/train/api';

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, b: 1e9, g: 1e9 };

/** "10M", "2.5k", "1_000_000", "16384" -> a positive integer; undefined with a reason otherwise. */
export function parseCount(text: string): number | undefined {
  const m = /^\s*(\d+(?:[._]\d+)*)\s*([kmbg]?)\s*$/i.exec(text);
  if (!m) return undefined;
  const digits = m[1]!.replace(/_/g, '');
  const v = Math.round(Number(digits) * SUFFIX[m[2]!.toLowerCase()]!);
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** Human form of a count: 10000000 -> "10M", 16384 -> "16,384". */
export function formatCount(n: number): string {
  if (n >= 1e9 && n % 1e8 === 0) return `${n / 1e9}B`;
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  return n.toLocaleString('en-US');
}

export function validateWidth(text: string): string | undefined {
  const v = parseCount(text);
  if (v === undefined) return 'Width must be a positive whole number, e.g. 16384 or 16k';
  if (v < 2 || v > 1 << 24) return 'Width must be between 2 and 16,777,216 latents';
  return undefined;
}

export function validateK(text: string, width?: number): string | undefined {
  const v = parseCount(text);
  if (v === undefined) return 'k must be a positive whole number';
  if (width !== undefined && v >= width) return `k must be smaller than the width (${width})`;
  return undefined;
}

export function validateL1(text: string): string | undefined {
  const v = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(v) && v > 0 ? undefined : 'The sparsity coefficient must be a positive number, e.g. 5 or 0.001';
}

export function validateTokens(text: string): string | undefined {
  return parseCount(text) === undefined ? 'Token budget must be a positive whole number, e.g. 10M or 2.5e6 written as 2500000' : undefined;
}

/** A hook name is optional; when given it is one token of code (no spaces or quotes), as TransformerLens names them. */
export function validateHookName(text: string): string | undefined {
  const t = text.trim();
  return t === '' || /^[A-Za-z0-9_.\-[\]:/]+$/.test(t) ? undefined : 'A hook name has no spaces or quotes, e.g. blocks.8.hook_resid_pre';
}

/** Why a folder cannot take a new run (it holds another one), or undefined. */
export function outFolderProblem(dir: string): string | undefined {
  if (!dir) return 'Give a folder';
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return 'This is a file, not a folder';
  return readdirSync(dir).length > 0 ? 'This folder is not empty (another run?): choose a new one' : undefined;
}

/** The wizard's name for each setting the end-of-run warnings name (src/train/outcome.ts). */
export const SETTING_LABEL: Record<TrainSetting, string> = {
  l1: 'the sparsity coefficient λ', k: 'k', resampleEvery: 'dead-latent resampling (saeWorkbench.train option resampleEvery)', tokens: 'the token budget',
};

/** The wizard's field for each trainer option an error may name as a CLI flag. */
const FIELD_OF_FLAG: Record<string, string> = {
  '--arch': 'architecture', '--width': 'width', '--k': 'k', '--l1': 'sparsity coefficient λ', '--tokens': 'token budget', '--activations': 'activation files',
  '--tensor': 'tensor', '--out': 'output folder', '--resume': 'resume', '--batch': 'batch size', '--lr': 'learning rate', '--threads': 'threads (setting saeWorkbench.threads)',
  '--engine': 'engine (setting saeWorkbench.engine)', '--memory-budget': 'memory budget (setting saeWorkbench.memoryBudgetMB)',
};

/**
 * A trainer error as the editor says it: "--arch: 'x' cannot be trained" becomes "architecture: 'x'
 * cannot be trained"; "name one" (a file with several tensors) points at the wizard's tensor choice.
 */
export function editorMessage(message: string): string {
  return message
    .replace(/(^|\s|\()(--[a-z][a-z-]*)\b/g, (m, pre: string, flag: string) => (FIELD_OF_FLAG[flag] ? `${pre}${FIELD_OF_FLAG[flag]}` : m))
    .replace(/; name one$/, '; choose the tensor in the wizard (Train Sparse Autoencoder…)');
}

export function usesK(arch: Activation): boolean {
  return archSpec(arch).usesK;
}

/** The wizard's architecture list: every trainable architecture of the registry, with its one-line summary. */
export function archChoices(): { label: Activation; description: string }[] {
  return TRAINABLE_ARCHS.map((a) => ({ label: a, description: archSpec(a).summary }));
}

/** The prompt for the sparsity coefficient of an architecture without k. */
export function sparsityPrompt(arch: Activation): string {
  return `λ: ${(trainFacts(arch).penaltyLabel ?? 'sparsity').toUpperCase()} sparsity coefficient`;
}

/** A folder name for a new run, e.g. "topk-16k-20260122-0315". */
export function defaultRunName(arch: Activation, width: number, now: Date): string {
  const w = width % 1024 === 0 ? `${width / 1024}k` : String(width);
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  return `${arch}-${w}-${t}`;
}

/**
 * Checks options coming through the command API (another extension, a test, a keybinding's args): the
 * shape must be right before anything starts. Returns the options typed, or throws an InputError.
 */
export function checkTrainOptions(raw: unknown): TrainOptions {
  const src = 'saeWorkbench.train';
  if (typeof raw !== 'object' || raw === null) throw new InputError(src, 'expects an options object { activations, outDir, arch, width, ... }');
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.activations) || o.activations.length === 0 || o.activations.some((a) => typeof a !== 'string')) throw new InputError(src, 'activations must be a non-empty array of file paths');
  if (typeof o.outDir !== 'string' || !o.outDir) throw new InputError(src, 'outDir must be a folder path');
  if (!isTrainable(o.arch)) throw new InputError(src, `arch must be one of ${TRAINABLE_ARCHS.join(', ')} (the architectures the engine trains)`);
  const intFields = ['width', 'k', 'tokens', 'batch', 'seed', 'threads', 'checkpointEvery', 'memoryBudget'] as const;
  for (const f of intFields) {
    if (o[f] !== undefined && (!Number.isSafeInteger(o[f]) || (o[f] as number) < 0)) throw new InputError(src, `${f} must be a non-negative integer, got ${JSON.stringify(o[f])}`);
  }
  if (!Number.isSafeInteger(o.width) || (o.width as number) < 2) throw new InputError(src, 'width must be an integer ≥ 2');
  for (const f of ['l1', 'lr'] as const) {
    if (o[f] !== undefined && (typeof o[f] !== 'number' || !Number.isFinite(o[f]) || (o[f] as number) <= 0)) throw new InputError(src, `${f} must be a positive number`);
  }
  if (usesK(o.arch as Activation) && o.k !== undefined && (o.k as number) >= (o.width as number)) throw new InputError(src, 'k must be smaller than width');
  if (o.engine !== undefined && !ENGINE_PREFERENCES.includes(o.engine as EnginePreference)) throw new InputError(src, `engine must be one of ${ENGINE_PREFERENCES.join(', ')}`);
  return o as unknown as TrainOptions;
}
