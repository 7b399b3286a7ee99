/**
 * `sae-workbench demo`: the built-in main job. Generates a synthetic dataset with known hierarchy and
 * dense directions, trains an SAE family of three widths on it, diagnoses the family (split tree across
 * widths, per-SAE diagnostics), and writes the HTML report, printing where it is.
 *
 * Each step is a function in DemoSteps so the chain is testable and the lead can wire the modules that
 * live on other branches: the steps marked TODO(lead) below throw until then; the report step works now.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { writeReport } from '../../report/html';
import type { DiagnosticsModel, SplitTreeModel } from '../../report/model';
import { buildReport } from '../../report/report';
import { action, emit, globals, intOption } from '../common';

export interface DemoOptions { outDir: string; seed: number; widths: number[]; tokens: number; onProgress?: (what: string) => void }

export interface DemoSteps {
  /** Writes activations (and their ground truth) under dir; returns the activation .npy path. */
  synthesize(dir: string, o: DemoOptions): Promise<string>;
  /** Trains one SAE per width on the activations; returns the SAE folders, narrowest first. */
  trainFamily(activations: string, dir: string, o: DemoOptions): Promise<string[]>;
  /** Diagnostics of the widest SAE and the split tree across the family, mapped to the panel model. */
  diagnose(saeDirs: string[], activations: string, o: DemoOptions): Promise<{ diagnostics?: DiagnosticsModel; splitTree?: SplitTreeModel }>;
}

const notOnThisBranch = (what: string): never => {
  throw new InputError('demo', `${what} is not wired into the demo yet (it lands with its module)`);
};

/** The default chain. TODO(lead, at merge): replace each throw with the module's function. */
export const DEFAULT_DEMO_STEPS: DemoSteps = {
  // TODO(lead): src/synthetic — G2 hierarchy + G3 dense direction (THEORY.md §6), written as activations.npy.
  synthesize: async () => notOnThisBranch('the synthetic generator (src/synthetic)'),
  // TODO(lead): src/train/api.ts startTraining() per width (await handle.done), outDir = join(dir, `width-${w}`).
  trainFamily: async () => notOnThisBranch('the trainer (src/train)'),
  // TODO(lead): src/diagnostics → DiagnosticsModel (widest SAE) and split trees → SplitTreeModel (docs/panels.md "Mapping").
  diagnose: async () => ({}),
};

export interface DemoResult { report: string; saeDirs: string[]; activations: string; bytes: number }

export async function runDemo(o: DemoOptions, steps: DemoSteps = DEFAULT_DEMO_STEPS): Promise<DemoResult> {
  const say = o.onProgress ?? (() => undefined);
  mkdirSync(o.outDir, { recursive: true });
  say('generating a synthetic dataset with known hierarchy and dense directions');
  const activations = await steps.synthesize(join(o.outDir, 'data'), o);
  say(`training SAEs of widths ${o.widths.join(', ')}`);
  const saeDirs = await steps.trainFamily(activations, join(o.outDir, 'saes'), o);
  if (saeDirs.length === 0) throw new InputError('demo', 'training produced no SAE');
  say('diagnosing');
  const { diagnostics, splitTree } = await steps.diagnose(saeDirs, activations, o);
  say('writing the report');
  const widest = saeDirs[saeDirs.length - 1]!;
  const model = buildReport({ saeDir: widest, activations, diagnostics, splitTree, maxTokens: o.tokens, title: 'SAE Workbench demo', onProgress: say });
  const report = join(o.outDir, 'report.html');
  const bytes = writeReport(report, model);
  return { report: resolve(report), saeDirs, activations, bytes };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate synthetic data with known structure, train an SAE family of three widths, diagnose it and write the HTML report')
    .option('--out <dir>', 'output folder', 'sae-workbench-demo')
    .option('--seed <n>', 'random seed', intOption('seed', 0), 0)
    .option('--tokens <n>', 'evaluation tokens for the report', intOption('tokens', 64, 1 << 20), 4096)
    .action(action(async (opts: { out: string; seed: number; tokens: number }, cmd: Command) => {
      const g = globals(cmd);
      const r = await runDemo({ outDir: opts.out, seed: opts.seed, widths: [256, 1024, 4096], tokens: opts.tokens, onProgress: g.json ? undefined : (w) => process.stderr.write(`${w}…\n`) });
      emit(g, r, () => `report: ${r.report}\nopen it in any browser (it is one self-contained file)`);
    }));
}
