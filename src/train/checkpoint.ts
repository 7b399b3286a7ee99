/**
 * Checkpoints of a training run: every parameter, Adam moment and per-latent statistic of the arena plus
 * the loop's position (step, reader position, RNG state) in one safetensors file, written atomically (a
 * failed write — a full disk — leaves the previous checkpoint as it was).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { Tensor } from '../io/tensor';
import type { RowReaderState } from '../io/rowReader';
import type { ArenaViews } from './layout';

export const CHECKPOINT_DIR = 'checkpoints';
export const CHECKPOINT_FILE = 'latest.safetensors';

/** The arena regions a checkpoint carries. */
export const STATE_REGIONS = ['wEncT', 'wDec', 'bEnc', 'bDec', 'logTheta', 'bMag', 'rMag', 'wSkip'].flatMap((n) => [n, `m_${n}`, `v_${n}`]);
const F64_REGIONS = ['tokensSinceFired', 'windowFires'];

export interface CheckpointMeta {
  version: 1;
  /** The resolved options of the run (so that --resume needs none but the folder). */
  options: Record<string, unknown>;
  dIn: number;
  /** Transcoders: the target width (absent when it is d_in). */
  dOut?: number;
  step: number;
  totalSteps: number;
  tokens: number;
  adamT: number;
  reader: RowReaderState;
  /** Row-aligned family streams (transcoder input and target, crosscoder sources): every reader's position. */
  readers?: RowReaderState[];
  rng: number;
  activationScale: number;
  bTopkThreshold: number;
  windowTokens: number;
  engine: string;
}

export function checkpointPath(outDir: string): string {
  return join(outDir, CHECKPOINT_DIR, CHECKPOINT_FILE);
}

export function saveCheckpoint(outDir: string, views: ArenaViews, meta: CheckpointMeta): string {
  const tensors: [string, Tensor][] = [];
  for (const name of STATE_REGIONS) {
    const a = views.f32[name];
    if (a && a.length) tensors.push([name, { dtype: 'F32', shape: [a.length], data: a }]);
  }
  for (const name of F64_REGIONS) {
    const a = views.f64[name]!;
    tensors.push([name, { dtype: 'F64', shape: [a.length], data: a }]);
  }
  const path = checkpointPath(outDir);
  writeSafetensors(path, tensors, { sae_workbench_checkpoint: JSON.stringify(meta) });
  return path;
}

export function readCheckpointMeta(outDir: string): { meta: CheckpointMeta; path: string } | undefined {
  const path = checkpointPath(outDir);
  if (!existsSync(path)) return undefined;
  const { metadata } = readSafetensors(path);
  const raw = metadata.sae_workbench_checkpoint;
  if (!raw) throw new InputError(path, 'not a SAE Workbench checkpoint (no sae_workbench_checkpoint metadata)');
  let meta: CheckpointMeta;
  try { meta = JSON.parse(raw) as CheckpointMeta; } catch { throw new InputError(path, 'checkpoint metadata is not valid JSON'); }
  if (meta.version !== 1) throw new InputError(path, `checkpoint version ${String(meta.version)} is not supported`);
  return { meta, path };
}

/** Copies the checkpoint's arrays into the arena, checking every shape. */
export function restoreCheckpoint(path: string, views: ArenaViews): void {
  const { tensors } = readSafetensors(path);
  for (const name of [...STATE_REGIONS, ...F64_REGIONS]) {
    const dst = views.f32[name] ?? views.f64[name];
    if (!dst || dst.length === 0) continue;
    const t = tensors.get(name);
    if (!t) throw new InputError(path, `checkpoint has no '${name}'`);
    if (t.data.length !== dst.length) throw new InputError(path, `checkpoint '${name}' has ${t.data.length} values, this run needs ${dst.length}`);
    (dst as Float32Array | Float64Array).set(t.data as Float32Array | Float64Array);
  }
}
