/**
 * What a tensor file in the workspace holds, read from its header only (never the data): activation rows
 * an SAE can train on or be evaluated with (a 2-D float array [rows, d]), or something else that merely
 * shares the extension — a synthetic data set's ground truth, codes, token ids, an SAE's weights, an
 * array of another shape — or a broken file (bad header, shorter than its header says). Only
 * `activations` files are offered for training and as an SAE's data; the rest are listed with a mark.
 */
import { basename } from 'node:path';
import { oneLine } from '../errors';
import { isFloatDType } from '../io/dtype';
import type { DType } from '../io/dtype';
import { readNpyHeader } from '../io/npy';
import { readSafetensorsHeader } from '../io/safetensors';
import { openRowSource } from '../io/rowReader';
import { isCapture } from '../io/shards';

export type FileRole = 'activations' | 'groundTruth' | 'codes' | 'tokenIds' | 'saeWeights' | 'other' | 'broken';

export interface RowTensor {
  /** The tensor's name in a .safetensors file; undefined for a .npy array. */
  name?: string;
  dtype: DType;
  rows: number;
  d: number;
}

export interface ActivationFileInfo {
  path: string;
  role: FileRole;
  /** One line saying what the file is (shown beside it), or why it is broken. */
  note: string;
  /** For `activations`: the 2-D float tensors it holds (one for .npy; any number for .safetensors). */
  tensors: RowTensor[];
}

/** The ground-truth file the synthetic generator writes (src/synthetic writeSynthetic). */
const GROUND_TRUTH_FORMAT = 'sae-workbench-ground-truth';
const CODES_NAME = /(^|[_.-])codes?$/i;
const TOKENS_NAME = /(^|[_.-])(tokens?|token_ids|input_ids)$/i;

const shapeText = (shape: number[]): string => `[${shape.join(', ')}]`;
const count = (n: number): string => n.toLocaleString('en-US');
const stem = (path: string): string => basename(path).replace(/\.(npy|npz|safetensors)$/i, '');

function rowTensor(dtype: DType, shape: number[], name?: string): RowTensor | undefined {
  if (!isFloatDType(dtype) || shape.length !== 2 || shape[0]! === 0 || shape[1]! === 0) return undefined;
  return { name, dtype, rows: shape[0]!, d: shape[1]! };
}

function rowsNote(t: RowTensor): string {
  return `${count(t.rows)} rows × d ${t.d} (${t.dtype})`;
}

/** readNpyHeader refuses a file shorter than its header says (the catch below marks it broken). */
function classifyNpy(path: string): ActivationFileInfo {
  const h = readNpyHeader(path);
  const integer = !isFloatDType(h.dtype) && h.dtype !== 'BOOL';
  if (integer && h.shape.length <= 2) return { path, role: 'tokenIds', note: `token ids ${shapeText(h.shape)} (${h.dtype}), not activations`, tensors: [] };
  const t = rowTensor(h.dtype, h.shape);
  if (!t) return { path, role: 'other', note: `${h.shape.length}-D ${h.dtype} array ${shapeText(h.shape)}, not 2-D float rows`, tensors: [] };
  if (CODES_NAME.test(stem(path))) return { path, role: 'codes', note: `codes ${shapeText(h.shape)}, not activations`, tensors: [] };
  if (TOKENS_NAME.test(stem(path))) return { path, role: 'tokenIds', note: `token data ${shapeText(h.shape)}, not activations`, tensors: [] };
  return { path, role: 'activations', note: rowsNote(t), tensors: [t] };
}

/** readSafetensorsHeader refuses offsets past the end of the file (a truncated file: marked broken). */
function classifySafetensors(path: string): ActivationFileInfo {
  const h = readSafetensorsHeader(path);
  if (h.metadata?.format === GROUND_TRUTH_FORMAT) return { path, role: 'groundTruth', note: 'ground truth of a synthetic data set (features, codes), not activations', tensors: [] };
  if (h.entries.has('W_dec') || h.entries.has('W_enc')) return { path, role: 'saeWeights', note: 'SAE weights, not activations', tensors: [] };
  const tensors: RowTensor[] = [];
  for (const [name, e] of h.entries) {
    if (CODES_NAME.test(name) || TOKENS_NAME.test(name)) continue;
    const t = rowTensor(e.dtype, e.shape, name);
    if (t) tensors.push(t);
  }
  if (tensors.length === 0) {
    const names = [...h.entries.keys()];
    const role: FileRole = names.length > 0 && names.every((n) => CODES_NAME.test(n)) ? 'codes' : names.some((n) => TOKENS_NAME.test(n)) ? 'tokenIds' : 'other';
    return { path, role, note: `no 2-D float tensor (${names.join(', ') || 'empty'})`, tensors: [] };
  }
  const note = tensors.length === 1 ? rowsNote(tensors[0]!) : `${tensors.length} row tensors: ${tensors.map((t) => `${t.name} ${shapeText([t.rows, t.d])}`).join(', ')}`;
  return { path, role: 'activations', note, tensors };
}

/** Reads the header of a .npy/.safetensors/.npz file and says what it holds; never throws. */
export function classifyActivationFile(path: string): ActivationFileInfo {
  try {
    const lower = path.toLowerCase();
    if (isCapture(path)) {
      // a capture folder (or one of its sites, `<folder>#<site>`): sharded rows with token ids (src/io/shards.ts)
      const src = openRowSource(path);
      return { path, role: 'activations', note: `capture: ${count(src.rows)} rows × d ${src.dIn} (${src.dtype})`, tensors: [{ dtype: src.dtype, rows: src.rows, d: src.dIn }] };
    }
    if (lower.endsWith('.npy')) return classifyNpy(path);
    if (lower.endsWith('.safetensors')) return classifySafetensors(path);
    return { path, role: 'other', note: 'an .npz archive: open it to see its arrays (train on a .npy or .safetensors file)', tensors: [] };
  } catch (e) {
    return { path, role: 'broken', note: oneLine(e).replace(`${path}: `, ''), tensors: [] };
  }
}

/** The tensor to read from a classified file: the named one, or the only one. */
export function rowTensorOf(info: ActivationFileInfo, name?: string): RowTensor | undefined {
  if (name !== undefined) return info.tensors.find((t) => t.name === name);
  return info.tensors.length === 1 ? info.tensors[0] : undefined;
}
