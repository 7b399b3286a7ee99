/**
 * PyTorch `.pt` files (torch.save's zip format, torch ≥ 1.6): `<prefix>/data.pkl` (a pickle, parsed by
 * the restricted parser in ./pickle.ts — never executed) plus `<prefix>/data/<key>` storages. Tensors
 * are strided views of storages; non-contiguous ones (a saved `W.T`) are gathered into row-major order.
 * The pickle can be read without touching the storages, so detecting a format stays cheap.
 */
import { InputError } from '../errors';
import { DTYPE_BYTES } from './dtype';
import { PyDict, PyTuple, StorageRef, TensorRef, describe, unpickle } from './pickle';
import type { PyKey, PyValue } from './pickle';
import { numel, viewAs } from './tensor';
import type { Tensor } from './tensor';
import { ZipReader } from './zip';

/** A pickled value with tensors resolved (or still as TensorRef when only the structure was read). */
export type TorchValue =
  | null | boolean | number | bigint | string | Uint8Array
  | TorchValue[] | Map<PyKey, TorchValue> | Tensor | TensorRef;

export interface TorchFile {
  /** The root object, usually a Map (a state_dict). */
  root: TorchValue;
}

function findPickle(zip: ZipReader): string {
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkls.length === 0) {
    throw new InputError(zip.path, 'not a torch.save archive: it has no <name>/data.pkl entry');
  }
  if (pkls.length > 1) throw new InputError(zip.path, `torch archive has ${pkls.length} data.pkl entries`);
  return pkls[0]!;
}

function checkNotLegacy(path: string, zip: () => ZipReader): ZipReader {
  try {
    return zip();
  } catch (e) {
    // torch < 1.6 wrote a bare pickle stream (protocol 2 starts with 0x80 0x02), not a zip.
    if (e instanceof InputError && /no end-of-central-directory/.test(e.problem)) {
      throw new InputError(path, 'not a zip-format torch file (legacy torch < 1.6 serialization, or not a .pt at all); re-save it with a current torch.save');
    }
    throw e;
  }
}

const MAX_DEPTH = 200;
/** A state_dict's pickle is kilobytes; anything near this is not one (and would be a decompression bomb). */
const MAX_PICKLE_BYTES = 64 * 2 ** 20;

/**
 * The pickled value with tensors resolved. Shared sub-objects are converted once (a pickle of nested
 * shared lists would otherwise expand exponentially), and nesting is bounded (a list that contains itself
 * would otherwise recurse forever).
 */
function convert(root: PyValue, resolve: ((t: TensorRef) => Tensor) | undefined, source: string): TorchValue {
  const done = new Map<object, TorchValue>();
  const go = (v: PyValue, depth: number): TorchValue => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    if (depth > MAX_DEPTH) throw new InputError(source, `pickled containers nested deeper than ${MAX_DEPTH} levels (or containing themselves)`);
    let out: TorchValue;
    if (v instanceof TensorRef) out = resolve ? resolve(v) : v;
    else if (v instanceof PyDict) {
      const m = new Map<PyKey, TorchValue>();
      for (const [k, x] of v.map) m.set(k, go(x, depth + 1));
      out = m;
    } else if (v instanceof PyTuple) out = v.items.map((x) => go(x, depth + 1));
    else if (Array.isArray(v)) out = v.map((x) => go(x, depth + 1));
    else if (v instanceof StorageRef) throw new InputError(source, `a bare storage ('${v.key}') outside a tensor is not supported`);
    else throw new InputError(source, `unsupported pickled value ${describe(v)}`);
    done.set(v, out);
    return out;
  };
  return go(root, 0);
}

/** Reads the pickle only: the structure with tensors as TensorRef (shape/dtype without data). */
export function readTorchStructure(path: string): TorchFile {
  const zip = checkNotLegacy(path, () => new ZipReader(path));
  try {
    const name = findPickle(zip);
    const { value } = unpickle(zip.read(name, MAX_PICKLE_BYTES), `${path}:${name}`);
    return { root: convert(value, undefined, path) };
  } finally {
    zip.close();
  }
}

/** Materialises a strided view of a storage as a row-major tensor. */
function materialize(ref: TensorRef, storageBytes: Uint8Array, source: string): Tensor {
  const { storage, shape, stride, offset } = ref;
  const dtype = storage.dtype;
  const size = DTYPE_BYTES[dtype];
  const n = numel(shape);
  const all = viewAs(dtype, storageBytes);
  if (n === 0) return { dtype, shape, data: all.subarray(0, 0) };
  // only an expanded (stride-0) view can have more elements than its storage; state_dicts hold none
  if (n > all.length) throw new InputError(source, `tensor [${shape.join(', ')}] has more elements than storage '${storage.key}' (${all.length}); expanded views are not supported`);
  let maxIndex = offset;
  for (let d = 0; d < shape.length; d++) maxIndex += (shape[d]! - 1) * stride[d]!;
  if (maxIndex >= all.length) throw new InputError(source, `tensor [${shape.join(', ')}] at offset ${offset} reads past the end of storage '${storage.key}' (${all.length} elements)`);
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d]! !== 1 && stride[d]! !== expect) { contiguous = false; break; }
    expect *= shape[d]!;
  }
  if (contiguous) {
    // a copy when the storage is shared or only partly used, so the caller owns compact data
    const view = all.subarray(offset, offset + n);
    return { dtype, shape, data: view.length === all.length ? view : view.slice() };
  }
  const out = viewAs(dtype, new Uint8Array(n * size));
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = offset;
    for (let d = 0; d < shape.length; d++) src += idx[d]! * stride[d]!;
    (out as Float32Array)[i] = (all as Float32Array)[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { dtype, shape, data: out };
}

/** Reads a whole `.pt` state_dict: the pickled structure with every tensor materialised. */
export function readTorchFile(path: string): TorchFile {
  const zip = checkNotLegacy(path, () => new ZipReader(path));
  try {
    const name = findPickle(zip);
    const prefix = name.slice(0, -'data.pkl'.length);
    const byteorderName = `${prefix}byteorder`;
    if (zip.entries.has(byteorderName)) {
      const order = new TextDecoder().decode(zip.read(byteorderName, 64)).trim();
      if (order !== 'little') throw new InputError(path, `torch archive byte order is '${order.slice(0, 20)}'; only little-endian is supported`);
    }
    const { value } = unpickle(zip.read(name, MAX_PICKLE_BYTES), `${path}:${name}`);
    const cache = new Map<string, Uint8Array>();
    const storageBytes = (s: StorageRef): Uint8Array => {
      let b = cache.get(s.key);
      if (!b) {
        const entry = `${prefix}data/${s.key}`;
        if (!zip.entries.has(entry)) throw new InputError(path, `storage '${s.key}' is missing from the archive (no ${entry})`);
        const want = s.numel * DTYPE_BYTES[s.dtype];
        // Refused before inflating if its directory declares more than its elements need.
        b = zip.read(entry, want);
        if (b.byteLength < want) throw new InputError(path, `storage '${s.key}' has ${b.byteLength} bytes, its ${s.numel} ${s.dtype} elements need ${want}`);
        b = b.subarray(0, want);
        cache.set(s.key, b);
      }
      return b;
    };
    return { root: convert(value, (t) => materialize(t, storageBytes(t.storage), path), path) };
  } finally {
    zip.close();
  }
}

export function isTensor(v: TorchValue | undefined): v is Tensor {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof TensorRef) && 'dtype' in v;
}

/** The root as a state_dict: a map from string keys to values, or an InputError. */
export function stateDict(file: TorchFile, source: string): Map<string, TorchValue> {
  const root = file.root;
  if (!(root instanceof Map)) throw new InputError(source, 'the .pt file does not hold a dict (state_dict)');
  const out = new Map<string, TorchValue>();
  for (const [k, v] of root) if (typeof k === 'string') out.set(k, v);
  return out;
}

/** The tensors of a state_dict, keyed by name (non-tensor entries skipped). */
export function stateDictTensors(sd: Map<string, TorchValue>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of sd) if (isTensor(v)) out.set(k, v);
  return out;
}

/** Names and shapes of the tensors in a structure-only read. */
export function structureShapes(sd: Map<string, TorchValue>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [k, v] of sd) if (v instanceof TensorRef) out.set(k, v.shape);
  return out;
}
