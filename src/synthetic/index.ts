/**
 * Synthetic data with known ground truth (docs/theory.md §G): `generate(kind, opts)`, and the files the CLI
 * writes — activations.npy and ground_truth.safetensors (feature directions, offset, codes when small,
 * the dense direction, and the hierarchy and generator facts as JSON in __metadata__).
 */
import { existsSync, statSync } from 'node:fs';
import { ensureFolder } from '../io/atomic';
import { join } from 'node:path';
import { InputError } from '../errors';
import { writeNpy } from '../io/npy';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { toFloat32 } from '../io/tensor';
import type { Tensor } from '../io/tensor';
import { generateG1, generateG2, generateG3, generateG4, generateG5, generateG6, generateG7 } from './generators';
import type { GenerateOptions, HierarchyGroup, SyntheticDataset, SyntheticKind } from './types';

export type { SyntheticDataset, SyntheticKind, HierarchyGroup, GenerateOptions } from './types';
export { Rng } from './random';

export const SYNTHETIC_KINDS: readonly SyntheticKind[] = ['g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7'];

/** Names the CLI accepts besides g1..g7. */
export const KIND_NAMES: Record<string, SyntheticKind> = {
  independent: 'g1', sparse: 'g1', lrb: 'g1',
  hierarchy: 'g2', hierarchical: 'g2',
  dense: 'g3', 'dense-direction': 'g3',
  antipodal: 'g4', digons: 'g4', digon: 'g4',
  cui: 'g5', superposition: 'g5', polygons: 'g5',
  'co-occurrence': 'g6', cooccurrence: 'g6',
  'non-identifiable': 'g7', nonidentifiable: 'g7', 'zero-loss': 'g7',
};

export function parseKind(name: string): SyntheticKind {
  const k = name.toLowerCase();
  if ((SYNTHETIC_KINDS as readonly string[]).includes(k)) return k as SyntheticKind;
  const alias = KIND_NAMES[k];
  if (!alias) throw new InputError('synth', `unknown generator '${name}' (expected ${SYNTHETIC_KINDS.join(', ')} or one of ${Object.keys(KIND_NAMES).join(', ')})`);
  return alias;
}

export function generate(kind: SyntheticKind, opts: GenerateOptions = {}): SyntheticDataset {
  switch (kind) {
    case 'g1': return generateG1(opts);
    case 'g2': return generateG2(opts);
    case 'g3': return generateG3(opts);
    case 'g4': return generateG4(opts);
    case 'g5': return generateG5(opts);
    case 'g6': return generateG6(opts);
    case 'g7': return generateG7(opts);
  }
}

export const ACTIVATIONS_FILE = 'activations.npy';
export const GROUND_TRUTH_FILE = 'ground_truth.safetensors';

/** Ground truth as read back from ground_truth.safetensors. */
export interface GroundTruth {
  kind: SyntheticKind;
  features: Float32Array;
  nFeatures: number;
  d: number;
  bias: Float32Array;
  codes?: Float32Array;
  /** Rows of `codes` (the activations' row count when codes were written). */
  n?: number;
  hierarchy?: HierarchyGroup[];
  denseDirection?: Float32Array;
  meta: Record<string, unknown>;
}

/** Writes activations.npy and ground_truth.safetensors into outDir (created if missing); returns the paths. */
export function writeSynthetic(ds: SyntheticDataset, outDir: string): { activations: string; groundTruth: string } {
  ensureFolder(outDir);
  const activations = join(outDir, ACTIVATIONS_FILE);
  const groundTruth = join(outDir, GROUND_TRUTH_FILE);
  writeNpy(activations, { dtype: 'F32', shape: [ds.n, ds.d], data: ds.x });
  const tensors: [string, Tensor][] = [
    ['features', { dtype: 'F32', shape: [ds.nFeatures, ds.d], data: ds.features }],
    ['bias', { dtype: 'F32', shape: [ds.d], data: ds.bias }],
  ];
  if (ds.codes) tensors.push(['codes', { dtype: 'F32', shape: [ds.n, ds.nFeatures], data: ds.codes }]);
  if (ds.denseDirection) tensors.push(['dense_direction', { dtype: 'F32', shape: [ds.d], data: ds.denseDirection }]);
  const { denseValues, ...meta } = ds.meta;
  if (denseValues instanceof Float32Array) tensors.push(['dense_values', { dtype: 'F32', shape: [ds.n], data: denseValues }]);
  const metadata: Record<string, string> = { format: 'sae-workbench-ground-truth', version: '1', kind: ds.kind, meta: JSON.stringify(meta) };
  if (ds.hierarchy) metadata.hierarchy = JSON.stringify(ds.hierarchy);
  writeSafetensors(groundTruth, tensors, metadata);
  return { activations, groundTruth };
}

function tensorShape(t: Tensor | undefined, source: string, name: string, shape: (number | undefined)[]): Float32Array | undefined {
  if (!t) return undefined;
  const ok = t.shape.length === shape.length && shape.every((s, i) => s === undefined || s === t.shape[i]);
  if (!ok) throw new InputError(source, `tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.map((s) => s ?? '?').join(', ')}]`);
  return toFloat32(t);
}

/** Reads ground_truth.safetensors (or the folder holding it). */
export function readGroundTruth(path: string): GroundTruth {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, GROUND_TRUTH_FILE) : path;
  if (!existsSync(file)) throw new InputError(file, 'no such ground-truth file');
  const { tensors, metadata } = readSafetensors(file);
  const ft = tensors.get('features');
  if (!ft || ft.shape.length !== 2) throw new InputError(file, "not a ground-truth file: no 2-D tensor 'features' [F, d]");
  const [f, d] = ft.shape as [number, number];
  const features = toFloat32(ft);
  const bias = tensorShape(tensors.get('bias'), file, 'bias', [d]) ?? new Float32Array(d);
  const codesT = tensors.get('codes');
  const codes = tensorShape(codesT, file, 'codes', [undefined, f]);
  const kindRaw = metadata.kind ?? 'g1';
  if (!(SYNTHETIC_KINDS as readonly string[]).includes(kindRaw)) throw new InputError(file, `unknown generator kind '${kindRaw}' in metadata`);
  let hierarchy: HierarchyGroup[] | undefined;
  let meta: Record<string, unknown> = {};
  try {
    if (metadata.hierarchy) hierarchy = JSON.parse(metadata.hierarchy) as HierarchyGroup[];
    if (metadata.meta) meta = JSON.parse(metadata.meta) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(file, `metadata is not valid JSON: ${(e as Error).message}`);
  }
  if (hierarchy && !(Array.isArray(hierarchy) && hierarchy.every((g) => Number.isInteger(g.parent) && g.parent >= 0 && g.parent < f && Array.isArray(g.children) && g.children.every((c) => Number.isInteger(c) && c >= 0 && c < f)))) {
    throw new InputError(file, `hierarchy metadata must be a list of {parent, children} with feature indices below ${f}`);
  }
  return {
    kind: kindRaw as SyntheticKind, features, nFeatures: f, d, bias, codes, n: codesT?.shape[0], hierarchy,
    denseDirection: tensorShape(tensors.get('dense_direction'), file, 'dense_direction', [d]), meta,
  };
}
