/** The extension's settings (package.json `contributes.configuration`), read in one place with their types. */
import * as vscode from 'vscode';
import type { Activation } from '../src/sae/types';
import type { TrainOptions } from '../src/train/api';

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
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    threads: c.get<number>('threads', 0),
    engine: c.get<Settings['engine']>('engine', 'auto'),
    defaultArchitecture: c.get<Activation>('defaultArchitecture', 'topk'),
    defaultWidth: c.get<number>('defaultWidth', 16384),
    defaultK: c.get<number>('defaultK', 32),
    defaultL1: c.get<number>('defaultL1', 5),
    defaultTokens: c.get<number>('defaultTokens', 10_000_000),
    memoryBudgetMB: c.get<number>('memoryBudgetMB', 4096),
    codeLensLanguages: c.get<string[]>('codeLens.languages', ['python']),
    annotationAuthor: c.get<string>('annotations.author', ''),
    pythonPath: c.get<string>('pythonPath', ''),
  };
}
