// Shared harness for the end-to-end theory tests: generate a docs/theory.md §G dataset, train an SAE on it with
// the real trainer (in-process, seeded, small), and run the diagnostics the CLI runs on the written files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, readGroundTruth, writeSynthetic } from '../../../src/synthetic';
import type { GenerateOptions, GroundTruth, SyntheticKind } from '../../../src/synthetic';
import { runTraining } from '../../../src/train/trainer';
import type { TrainOptions } from '../../../src/train/api';
import { loadSae } from '../../../src/formats/index';
import type { Sae } from '../../../src/sae/types';
import { diagnoseFiles } from '../../../src/diagnostics/files';
import type { DiagnosticReport } from '../../../src/diagnostics';

export const workDir = mkdtempSync(join(tmpdir(), 'e2e-theory-'));
export function cleanup(): void { rmSync(workDir, { recursive: true, force: true }); }

const noHooks = { emit: (): void => undefined, cancelled: (): boolean => false };

export interface Trained { dir: string; sae: Sae; gt: GroundTruth; activations: string; groundTruth: string }

/** Generates `kind` into its own folder and trains one SAE per option set on it. */
export async function trainOn(name: string, kind: SyntheticKind, gen: GenerateOptions, train: Omit<TrainOptions, 'activations' | 'outDir'>): Promise<Trained> {
  const dir = join(workDir, name);
  const { activations, groundTruth } = writeSynthetic(generate(kind, gen), join(dir, 'data'));
  const out = join(dir, 'sae');
  await runTraining({ ...train, activations: [activations], outDir: out }, noHooks);
  return { dir, sae: loadSae(out), gt: readGroundTruth(groundTruth), activations, groundTruth };
}

/** diagnose on the files, as `sae-workbench diagnose` runs it; the convex reference (D2) has its own tests. */
export function diagnose(t: Trained, saeDir = join(t.dir, 'sae')): DiagnosticReport {
  return diagnoseFiles({ saePath: saeDir, activationsPath: t.activations, sampleRows: 4096, exactRows: 512, skip: ['convexReference'] });
}

export function cos(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0, na = 0, nb = 0;
  for (let j = 0; j < d; j++) { s += a[ai + j]! * b[bi + j]!; na += a[ai + j]! ** 2; nb += b[bi + j]! ** 2; }
  return s / Math.sqrt(na * nb);
}

export { run } from '../../helpers/cli';
