/**
 * The evaluated metrics of an SAE on its data, cached beside it (`eval.json`), keyed by content: the
 * SHA-256 of the weights file plus the activation file's identity (path, size, mtime) and the row sample
 * (src/io/rowSample.ts). The panels' worker writes it whenever it analyses an SAE; the explorer and the
 * CodeLens read it (eval.json's metrics only count while the weights file is the one it was written for).
 */
import type { EvalRecord } from '../protocol/viewModels';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { splitTensorPath } from '../io/rowReader';
import { WEIGHTS_FILE } from '../formats/saelens';
import type { ReconstructionMetrics } from '../protocol/viewModels';

export const EVAL_FILE = 'eval.json';
const FORMAT: EvalRecord['format'] = 'sae-workbench.eval';

function weightsStat(saeDir: string): { size: number; mtimeMs: number } | undefined {
  try { const s = statSync(join(saeDir, WEIGHTS_FILE)); return { size: s.size, mtimeMs: s.mtimeMs }; } catch { return undefined; }
}

/** The cache key: weights content + activation file identity + the sample's description. */
export function evalKey(saeDir: string, activations: string, sample: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(saeDir, WEIGHTS_FILE)));
  const a = statSync(splitTensorPath(activations).path);
  h.update(`\0${resolve(activations)}\0${a.size}\0${a.mtimeMs}\0${sample}`);
  return h.digest('hex');
}

/** The record beside the SAE, when its weights file is still the one evaluated (undefined otherwise). */
export function readEvalRecord(saeDir: string): EvalRecord | undefined {
  const path = join(saeDir, EVAL_FILE);
  if (!existsSync(path)) return undefined;
  let r: Partial<EvalRecord>;
  try { r = JSON.parse(readFileSync(path, 'utf8')) as Partial<EvalRecord>; } catch { return undefined; }
  const w = weightsStat(saeDir);
  if (r.format !== FORMAT || !w || r.weights?.size !== w.size || r.weights.mtimeMs !== w.mtimeMs) return undefined;
  return r as EvalRecord;
}

/** Writes the record (atomically) unless the same key is already there. */
export function writeEvalRecord(saeDir: string, activations: string, sample: string, m: ReconstructionMetrics): EvalRecord | undefined {
  const w = weightsStat(saeDir);
  if (!w || !Number.isFinite(m.explainedVariance)) return undefined;
  const key = evalKey(saeDir, activations, sample);
  const have = readEvalRecord(saeDir);
  if (have?.key === key) return have;
  const rec: EvalRecord = {
    format: FORMAT, key, weights: w, activations: resolve(activations), sample, tokens: m.tokens,
    explained_variance: m.explainedVariance, l0: m.l0, dead_fraction: m.deadFraction, dense_fraction: m.denseFraction, mse_per_element: m.msePerElement,
  };
  writeFileAtomic(join(saeDir, EVAL_FILE), `${JSON.stringify(rec, null, 2)}\n`);
  return rec;
}
