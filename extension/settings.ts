/** The extension's settings (package.json `contributes.configuration`), read in one place with their types. */
import * as vscode from 'vscode';
import { DEFAULT_ARCH, isTrainable } from '../src/sae/arch/registry';
import type { Activation } from '../src/sae/types';
import type { TrainOptions } from '../src/train/api';
import { DEFAULT_PASS_ROWS, parsePassRows } from '../src/views/featurePass';

export const SECTION = 'saeWorkbench';

export interface Settings {
  threads: number;
  engine: NonNullable<TrainOptions['engine']>;
  defaultArchitecture: Activation;
  defaultWidth: number;
  defaultK: number;
  defaultL1: number;
  defaultTokens: number;
  memoryBudgetMB: number;
  codeLensLanguages: string[];
  annotationAuthor: string;
  /** Interpreter for capture when the Python extension has none selected ('' = python3). */
  pythonPath: string;
  /** Row cap of the feature pages' pass (0 = every row); a uniform sample of this many rows above it. */
  featurePagesMaxRows: number | 'auto';
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    threads: c.get<number>('threads', 0),
    engine: c.get<Settings['engine']>('engine', 'auto'),
    defaultArchitecture: trainableOr(c.get<unknown>('defaultArchitecture'), DEFAULT_ARCH),
    defaultWidth: c.get<number>('defaultWidth', 16384),
    defaultK: c.get<number>('defaultK', 32),
    defaultL1: c.get<number>('defaultL1', 5),
    defaultTokens: c.get<number>('defaultTokens', 10_000_000),
    memoryBudgetMB: c.get<number>('memoryBudgetMB', 4096),
    codeLensLanguages: c.get<string[]>('codeLens.languages', ['python']),
    annotationAuthor: c.get<string>('annotations.author', ''),
    pythonPath: c.get<string>('pythonPath', ''),
    featurePagesMaxRows: rowCapOr(c.get<unknown>('featurePages.maxRows'), DEFAULT_PASS_ROWS.maxRows),
  };
}

/** The feature pages' row cap when the setting holds one (a count, 0, "all" or "auto"); the default otherwise. */
function rowCapOr(value: unknown, fallback: number | 'auto'): number | 'auto' {
  if (typeof value !== 'number' && typeof value !== 'string') return fallback;
  try { return parsePassRows(value, `${SECTION}.featurePages.maxRows`); } catch { return fallback; }
}

/** A setting's architecture when the engine trains it; the default otherwise (a value from an older enum). */
function trainableOr(value: unknown, fallback: Activation): Activation {
  return isTrainable(value) ? value : fallback;
}
