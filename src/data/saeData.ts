/**
 * One notion of an SAE's data: which activation file(s) it was trained on (or belongs to), which tensor
 * of a multi-tensor file, the token ids and vocabulary beside them, and the model and hook the rows come
 * from. Training, the demo, `convert` and the editor's wizard write it into cfg.json; every reader (CLI,
 * extension, panels) resolves it here.
 *
 * In cfg.json, SAELens's own fields carry what SAELens knows: `metadata.dataset_path` (the first
 * activation file, relative to the SAE folder when it lies under the same root), `metadata.hook_name`,
 * `metadata.model_name`. Our `sae_workbench.data` block carries the rest: every activation file, the
 * tensor name, token ids and vocabulary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { tensorPath } from '../io/rowReader';
import type { ActivationFileInfo } from './activationFiles';
import { tokenFilesBeside } from '../tokens/rows';

export interface SaeDataRecord {
  /** Absolute paths of the activation file(s). */
  activations: string[];
  /** The tensor of a multi-tensor .safetensors file. */
  tensor?: string;
  tokenIds?: string;
  vocabulary?: string;
  hookName?: string;
  modelName?: string;
}

/** Where an SAE's data came from, for the one line a panel shows. */
export type DataOrigin = 'linked' | 'recorded' | 'beside';

export interface ResolvedSaeData {
  activations: string;
  tensor?: string;
  /** What every reader and the panels' worker take: the file, or `<file>#<tensor>` when a tensor is named. */
  source: string;
  origin: DataOrigin;
}

/** A workspace's link of an SAE to data (the editor keeps one per SAE folder). */
export interface DataLink { activations: string; tensor?: string }

type Json = Record<string, unknown>;
const CFG = 'cfg.json';

/** The path as cfg.json stores it: relative to the SAE folder when both sit under one root, else absolute. */
function storedPath(saeDir: string, path: string): string {
  const rel = relative(resolve(saeDir), resolve(path));
  return rel && !isAbsolute(rel) && rel.split(sep).filter((p) => p === '..').length <= 3 ? rel.split(sep).join('/') : resolve(path);
}

const absolute = (saeDir: string, stored: string): string => (isAbsolute(stored) ? stored : resolve(saeDir, stored));
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

function readCfg(saeDir: string): Json {
  const path = join(saeDir, CFG);
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(path, `cannot read the SAE's config (${(e as Error).message.split('\n')[0]})`); }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(path, 'cfg.json is not a JSON object');
  return raw as Json;
}

/**
 * Writes the data record into an SAE folder's cfg.json (atomically; other fields are kept). Fields left
 * undefined keep what the file had, so a later call may add the hook without repeating the files.
 */
export function recordSaeData(saeDir: string, rec: Partial<SaeDataRecord>): void {
  const cfg = readCfg(saeDir);
  const meta: Json = typeof cfg.metadata === 'object' && cfg.metadata !== null ? { ...(cfg.metadata as Json) } : {};
  const ours: Json = typeof cfg.sae_workbench === 'object' && cfg.sae_workbench !== null ? { ...(cfg.sae_workbench as Json) } : {};
  const data: Json = typeof ours.data === 'object' && ours.data !== null ? { ...(ours.data as Json) } : {};
  if (rec.activations?.length) {
    const stored = rec.activations.map((p) => storedPath(saeDir, p));
    data.activations = stored;
    meta.dataset_path = stored[0];
  }
  if (rec.tensor !== undefined) data.tensor = rec.tensor;
  if (rec.tokenIds !== undefined) data.token_ids = storedPath(saeDir, rec.tokenIds);
  if (rec.vocabulary !== undefined) data.vocabulary = storedPath(saeDir, rec.vocabulary);
  if (rec.hookName !== undefined) meta.hook_name = rec.hookName;
  if (rec.modelName !== undefined) meta.model_name = rec.modelName;
  ours.data = data;
  writeFileAtomic(join(saeDir, CFG), `${JSON.stringify({ ...cfg, metadata: meta, sae_workbench: ours }, null, 2)}\n`);
}

/** The record in an SAE folder's cfg.json, paths made absolute; empty when nothing was recorded. */
export function readSaeData(saeDir: string): SaeDataRecord {
  let cfg: Json;
  try { cfg = readCfg(saeDir); } catch { return { activations: [] }; }
  const meta = (typeof cfg.metadata === 'object' && cfg.metadata !== null ? cfg.metadata : cfg) as Json;
  const data = ((cfg.sae_workbench as Json | undefined)?.data ?? {}) as Json;
  const listed = Array.isArray(data.activations) ? data.activations.filter((p): p is string => typeof p === 'string') : [];
  // A SAELens dataset_path is usually a Hugging Face dataset id: a file only when it names one.
  const datasetPath = str(meta.dataset_path);
  const files = listed.length ? listed : datasetPath && /\.(npy|safetensors)$/i.test(datasetPath) ? [datasetPath] : [];
  const tokenIds = str(data.token_ids), vocabulary = str(data.vocabulary);
  return {
    activations: files.map((p) => absolute(saeDir, p)),
    tensor: str(data.tensor),
    tokenIds: tokenIds && absolute(saeDir, tokenIds),
    vocabulary: vocabulary && absolute(saeDir, vocabulary),
    hookName: str(meta.hook_name),
    modelName: str(meta.model_name),
  };
}

/** activations.npy in the SAE folder or its parent: how SAEs were found before anything was recorded. */
function besideSae(saeDir: string): string | undefined {
  for (const dir of [saeDir, dirname(saeDir)]) {
    const p = join(dir, 'activations.npy');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * The data an SAE is read with: the workspace's link (the user's own choice) when its file exists, then
 * the file recorded in cfg.json, then an activations.npy beside the SAE. Undefined when none of these is
 * there: the caller offers `rankCandidates` and remembers the answer.
 */
export function resolveSaeData(saeDir: string, link?: DataLink): ResolvedSaeData | undefined {
  const resolved = (activations: string, origin: DataOrigin, tensor?: string): ResolvedSaeData => ({ activations, tensor, source: tensorPath(activations, tensor), origin });
  if (link && existsSync(link.activations)) return resolved(link.activations, 'linked', link.tensor);
  const rec = readSaeData(saeDir);
  const first = rec.activations[0];
  if (first && existsSync(first)) return resolved(first, 'recorded', rec.tensor);
  const beside = besideSae(saeDir);
  return beside ? resolved(beside, 'beside') : undefined;
}

/** Why resolveSaeData found nothing, in one line (names the recorded file when it has gone). */
export function missingDataReason(saeDir: string): string {
  const rec = readSaeData(saeDir);
  return rec.activations[0] ? `its recorded activation file ${rec.activations[0]} is not there` : 'no activation file is recorded for it or linked to it';
}

/** Path segments two paths share from the root (how near a data file is to an SAE folder). */
function sharedDepth(a: string, b: string): number {
  const pa = resolve(a).split(sep), pb = resolve(b).split(sep);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return i;
}

/**
 * Activation files an SAE could be read with, best first: only 2-D float rows of the SAE's width; the
 * recorded file first, then files nearest the SAE folder, then by name.
 */
export function rankCandidates(saeDir: string, dIn: number, files: readonly ActivationFileInfo[]): ActivationFileInfo[] {
  const recorded = new Set(readSaeData(saeDir).activations.map((p) => resolve(p)));
  const fits = files.filter((f) => f.role === 'activations' && f.tensors.some((t) => t.d === dIn));
  const score = (f: ActivationFileInfo): number => (recorded.has(resolve(f.path)) ? 1000 : 0) + sharedDepth(saeDir, f.path);
  return fits.sort((a, b) => score(b) - score(a) || a.path.localeCompare(b.path));
}

/**
 * After a training run: the files it read, the tensor, the token ids and vocabulary beside the first file,
 * and the hook and model when given. A transcoder's rows are its input (`activations`).
 */
export function recordTrainingData(o: { outDir: string; activations: string[]; tensorName?: string; hookName?: string; modelName?: string }): void {
  if (!existsSync(join(o.outDir, CFG))) return;
  const tokens = o.activations[0] ? tokenFilesBeside(o.activations[0]) : {};
  recordSaeData(o.outDir, { activations: o.activations.map((p) => resolve(p)), tensor: o.tensorName, ...tokens, hookName: o.hookName, modelName: o.modelName });
}
