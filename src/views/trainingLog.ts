/**
 * training_log.jsonl → TrainingModel. One JSON object per line, as the trainer writes them; each line
 * is read leniently as a TrainingProgress (step, tokens, loss{...}, explainedVariance, l0, deadFraction,
 * tokensPerSecond) — snake_case names are accepted too. Lines that are not objects with a numeric step
 * are skipped and counted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InputError } from '../errors';
import type { TrainingProgress } from '../protocol/training';
import type { TrainingModel } from '../protocol/viewModels';

/** The trainer's log beside an SAE (src/train/trainer.ts writes it as TRAINING_LOG). */
export const TRAINING_LOG_FILE = 'training_log.jsonl';

type Row = Record<string, unknown>;

function num(o: Row, ...keys: string[]): number {
  for (const k of keys) if (typeof o[k] === 'number') return o[k] as number;
  return NaN;
}

/** Columns from progress-like records (also used for live TrainingProgress events). */
export function trainingModelFrom(records: (Row | TrainingProgress)[]): TrainingModel {
  const rows = records as Row[];
  const names = new Set<string>();
  for (const r of rows) {
    const loss = r.loss;
    if (typeof loss === 'number') names.add('total');
    else if (loss && typeof loss === 'object') {
      for (const [k, v] of Object.entries(loss)) if (typeof v === 'number') names.add(k);
    }
  }
  const col = (f: (r: Row) => number): Float32Array => Float32Array.from(rows, f);
  const last = rows[rows.length - 1] ?? {};
  return {
    runId: typeof last.runId === 'string' ? last.runId : undefined,
    step: Float64Array.from(rows, (r) => num(r, 'step')),
    tokens: Float64Array.from(rows, (r) => num(r, 'tokens')),
    loss: [...names].map((name) => ({ name, values: col((r) => (typeof r.loss === 'number' ? (name === 'total' ? r.loss : NaN) : num((r.loss ?? {}) as Row, name))) })),
    explainedVariance: col((r) => num(r, 'explainedVariance', 'explained_variance', 'ev')),
    l0: col((r) => num(r, 'l0', 'L0')),
    deadFraction: col((r) => num(r, 'deadFraction', 'dead_fraction')),
    tokensPerSecond: col((r) => num(r, 'tokensPerSecond', 'tokens_per_second')),
    totalSteps: Number.isFinite(num(last, 'totalSteps')) ? num(last, 'totalSteps') : undefined,
    totalTokens: Number.isFinite(num(last, 'totalTokens')) ? num(last, 'totalTokens') : undefined,
    etaSeconds: Number.isFinite(num(last, 'etaSeconds')) ? num(last, 'etaSeconds') : undefined,
    engine: typeof last.engine === 'string' ? last.engine : undefined,
  };
}

/** Reads a training log; undefined when the file does not exist. */
export function readTrainingLog(path: string): { model: TrainingModel; skipped: number } | undefined {
  if (!existsSync(path)) return undefined;
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  const rows: Row[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o) && typeof (o as Row).step === 'number') rows.push(o as Row);
      else skipped++;
    } catch { skipped++; }
  }
  return { model: trainingModelFrom(rows), skipped };
}

/**
 * The activation files a training run read, from the trainer's `start` record (`options.activations`) in
 * training_log.jsonl; [] when the log is missing or names none.
 */
export function trainingActivations(path: string): string[] {
  if (!existsSync(path)) return [];
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  for (const line of text.split('\n')) {
    if (!line.includes('"start"')) continue;
    let o: unknown;
    try { o = JSON.parse(line); } catch { continue; }
    const opts = (o as Row | null)?.type === 'start' ? (o as Row).options : undefined;
    const acts = opts && typeof opts === 'object' ? (opts as Row).activations : undefined;
    if (Array.isArray(acts)) return acts.filter((a): a is string => typeof a === 'string' && a.length > 0);
  }
  return [];
}
