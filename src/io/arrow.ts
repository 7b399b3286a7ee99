/**
 * SAELens activation caches (cache_activations_runner.py): a HuggingFace `datasets.save_to_disk` folder
 * with `state.json` (its `_data_files` list the shards), `dataset_info.json` (the features) and Arrow IPC
 * *stream* shards `data-XXXXX-of-YYYYY.arrow`. Features: `{hook_name}` is Array2D(context_size, d_in),
 * which `datasets` stores as list<list<dtype>> (variable-size lists, by design — see its
 * `_ArrayXDExtensionType._generate_dtype`), and `token_ids` is Sequence(int32, length=context_size),
 * stored as fixed_size_list in recent `datasets` and as list in older ones. Both layouts are accepted
 * for both columns; every row is checked to have exactly the declared shape.
 * Each shard is read whole and bounds-checked (./arrowValidate.ts: apache-arrow trusts header lengths, and a
 * corrupt one can abort the process), then decoded record batch by record batch: memory is one shard
 * (datasets writes ≤ 500 MB shards by default) plus one batch as Float32.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readRegularFile } from './regular';
import { join } from 'node:path';
import { RecordBatchReader, Type } from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { InputError } from '../errors';
import { f16ToNumber } from './dtype';
import { validateArrowStream } from './arrowValidate';

export interface ActivationCacheInfo {
  dir: string;
  hookName: string;
  contextSize: number;
  dIn: number;
  /** The stored element type ("float32", "float16", ...). */
  dtype: string;
  /** Absolute paths of the shards, in order. */
  files: string[];
  hasTokenIds: boolean;
}

export interface ActivationBatch {
  /** [nTokens, dIn] row-major Float32. */
  rows: Float32Array;
  nTokens: number;
  /** [nTokens] when the cache has token ids. */
  tokenIds?: Int32Array;
  /** Which shard the batch came from. */
  file: string;
}

function readJson(path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(path, (e as NodeJS.ErrnoException).code ? `cannot read: ${(e as NodeJS.ErrnoException).code}` : `invalid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(path, 'is not a JSON object');
  return v as Record<string, unknown>;
}

export function isActivationCache(dir: string): boolean {
  return existsSync(join(dir, 'state.json')) && existsSync(join(dir, 'dataset_info.json'));
}

/** Reads the cache's description; `hookName` picks the activation column when there are several. */
export function openActivationCache(dir: string, hookName?: string): ActivationCacheInfo {
  const statePath = join(dir, 'state.json'), infoPath = join(dir, 'dataset_info.json');
  if (!existsSync(statePath)) throw new InputError(dir, 'not a datasets save_to_disk folder: state.json is missing');
  const state = readJson(statePath);
  const info = readJson(infoPath);
  const files = state._data_files;
  if (!Array.isArray(files) || files.length === 0) throw new InputError(statePath, '_data_files is missing or empty');
  const paths = files.map((f, i) => {
    const name = (f as { filename?: unknown })?.filename;
    if (typeof name !== 'string' || name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new InputError(statePath, `_data_files[${i}].filename is not a plain file name`);
    const p = join(dir, name);
    if (!existsSync(p)) throw new InputError(statePath, `shard ${name} is listed but missing`);
    return p;
  });
  const features = info.features as Record<string, Record<string, unknown>> | undefined;
  if (typeof features !== 'object' || features === null) throw new InputError(infoPath, 'has no features');
  const arrays = Object.entries(features).filter(([, f]) => f && f._type === 'Array2D');
  const chosen = hookName !== undefined ? arrays.find(([n]) => n === hookName) : arrays.length === 1 ? arrays[0] : undefined;
  if (!chosen) {
    const names = arrays.map(([n]) => n).join(', ') || 'none';
    throw new InputError(infoPath, hookName !== undefined ? `no Array2D feature '${hookName}' (there are: ${names})` : `expected one Array2D activation feature, found: ${names}`);
  }
  const [name, feat] = chosen;
  const shape = feat.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((s) => Number.isSafeInteger(s) && s > 0)) throw new InputError(infoPath, `feature '${name}' has shape ${JSON.stringify(shape)}, expected [context_size, d_in]`);
  const dtype = String(feat.dtype ?? 'float32');
  if (!['float32', 'float16', 'float64'].includes(dtype)) throw new InputError(infoPath, `feature '${name}' has dtype ${dtype}; supported: float32, float16, float64`);
  return { dir, hookName: name, contextSize: shape[0] as number, dIn: shape[1] as number, dtype, files: paths, hasTokenIds: 'token_ids' in features };
}

/**
 * The leaf element range covered by rows [from, to) of a (fixed-size) list column with the given
 * per-level lengths, checking every list has exactly its declared length.
 */
function leafRange(data: Data<DataType>, from: number, to: number, dims: number[], source: string, column: string): { leaf: Data<DataType>; start: number; end: number } {
  if (data.nullCount > 0) throw new InputError(source, `column '${column}' has null entries`);
  if (dims.length === 0) return { leaf: data, start: data.offset + from, end: data.offset + to };
  const want = dims[0]!;
  const child = data.children[0];
  if (!child) throw new InputError(source, `column '${column}' is not a nested list of the declared shape`);
  let cFrom: number, cTo: number;
  const typeId = data.type.typeId;
  if (typeId === Type.FixedSizeList) {
    const size = (data.type as unknown as { listSize: number }).listSize;
    if (size !== want) throw new InputError(source, `column '${column}' holds lists of ${size}, expected ${want}`);
    cFrom = (data.offset + from) * size;
    cTo = (data.offset + to) * size;
  } else if (typeId === Type.List) {
    const offs = data.valueOffsets as Int32Array;
    for (let r = from; r < to; r++) {
      const len = offs[data.offset + r + 1]! - offs[data.offset + r]!;
      if (len !== want) throw new InputError(source, `column '${column}' row ${r} has a list of ${len}, expected ${want}`);
    }
    cFrom = offs[data.offset + from]!;
    cTo = offs[data.offset + to]!;
  } else {
    throw new InputError(source, `column '${column}' has Arrow type ${String(data.type)}, expected nested lists`);
  }
  if (cFrom < child.offset || cTo - child.offset > child.length) throw new InputError(source, `column '${column}' offsets run past its values`);
  return leafRange(child, cFrom - child.offset, cTo - child.offset, dims.slice(1), source, column);
}

function toF32(leaf: Data<DataType>, start: number, end: number, source: string, column: string): Float32Array {
  const values = leaf.values as unknown;
  if (leaf.type.typeId !== Type.Float || !ArrayBuffer.isView(values)) throw new InputError(source, `column '${column}' holds ${String(leaf.type)}, expected floats`);
  const precision = (leaf.type as unknown as { precision: number }).precision; // 0 half, 1 single, 2 double
  if (end > (values as Float32Array).length) throw new InputError(source, `column '${column}' is shorter than its offsets say`);
  if (precision === 1) return (values as Float32Array).slice(start, end);
  if (precision === 2) return Float32Array.from((values as Float64Array).subarray(start, end));
  const h = (values as Uint16Array).subarray(start, end);
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = f16ToNumber(h[i]!);
  return out;
}

/** Streams the cache's activations (and token ids) batch by batch, shard by shard. */
export async function* readActivationCache(info: ActivationCacheInfo): AsyncGenerator<ActivationBatch> {
  const { contextSize: ctx, dIn } = info;
  for (const file of info.files) {
    const bytes = readRegularFile(file);
    validateArrowStream(bytes, file);
    try {
      const reader = RecordBatchReader.from(bytes);
      for (const batch of reader) {
        const col = batch.getChild(info.hookName);
        if (!col) throw new InputError(file, `record batch has no column '${info.hookName}'`);
        const n = batch.numRows;
        const rows = new Float32Array(n * ctx * dIn);
        let at = 0;
        for (const data of col.data) {
          const { leaf, start, end } = leafRange(data as Data<DataType>, 0, data.length, [ctx, dIn], file, info.hookName);
          const part = toF32(leaf, start, end, file, info.hookName);
          rows.set(part, at);
          at += part.length;
        }
        if (at !== rows.length) throw new InputError(file, `column '${info.hookName}' has ${at} values for ${n} rows of [${ctx}, ${dIn}]`);
        let tokenIds: Int32Array | undefined;
        const tok = info.hasTokenIds ? batch.getChild('token_ids') : null;
        if (tok) {
          tokenIds = new Int32Array(n * ctx);
          let t = 0;
          for (const data of tok.data) {
            const { leaf, start, end } = leafRange(data as Data<DataType>, 0, data.length, [ctx], file, 'token_ids');
            const vals = leaf.values as unknown;
            if (leaf.type.typeId !== Type.Int || !ArrayBuffer.isView(vals) || end > (vals as Int32Array).length) throw new InputError(file, `column 'token_ids' holds ${String(leaf.type)}, expected integers`);
            const src = (vals as Int32Array).subarray(start, end);
            for (let i = 0; i < src.length; i++) tokenIds[t++] = Number(src[i]!);
          }
          if (t !== tokenIds.length) throw new InputError(file, `column 'token_ids' has ${t} values for ${n} rows of ${ctx}`);
        }
        yield { rows, nTokens: n * ctx, tokenIds, file };
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(file, `corrupt Arrow stream (${(e as Error).message.split('\n')[0]})`);
    }
  }
}
