/**
 * NumPy .npy (format versions 1–3) read and write, and .npz (a zip of .npy files) read.
 * Supported element types: little-endian <f4 <f2 <f8 <i4 <i8 <i2, |u1 |i1 |b1, C order only.
 * Big-endian or Fortran-order arrays are refused with a message saying how to convert them.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { openRegular, readRegularFile } from './regular';
import { ZipReader } from './zip';
import { InputError, isInputError } from '../errors';
import { DTYPE_BYTES } from './dtype';
import type { DType } from './dtype';
import { numel, tensorBytes, viewAs } from './tensor';
import type { Tensor } from './tensor';
import { writeFileAtomic } from './atomic';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f4': 'F32', '<f2': 'F16', '<f8': 'F64', '<i4': 'I32', '<i8': 'I64', '<i2': 'I16',
  '|u1': 'U8', '<u1': 'U8', '|i1': 'I8', '<i1': 'I8', '|b1': 'BOOL', '<b1': 'BOOL',
};
const DTYPE_TO_DESCR: Partial<Record<DType, string>> = {
  F32: '<f4', F16: '<f2', F64: '<f8', I32: '<i4', I64: '<i8', I16: '<i2', U8: '|u1', I8: '|i1', BOOL: '|b1',
};

export interface NpyHeader {
  dtype: DType;
  shape: number[];
  /** Byte offset of the data from the start of the file. */
  dataStart: number;
}

/** Parses the header from the first bytes of a .npy file (at least the magic, lengths and header dict). */
export function parseNpyHeader(head: Uint8Array, fileSize: number, source: string): NpyHeader {
  if (head.byteLength < 10 || !MAGIC.every((b, i) => head[i] === b)) throw new InputError(source, 'not a .npy file (bad magic bytes)');
  const major = head[6]!;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let hlen: number, hstart: number;
  if (major === 1) { hlen = dv.getUint16(8, true); hstart = 10; }
  else if (major === 2 || major === 3) {
    if (head.byteLength < 12) throw new InputError(source, 'truncated .npy header');
    hlen = dv.getUint32(8, true); hstart = 12;
  } else throw new InputError(source, `unsupported .npy format version ${major}`);
  if (hstart + hlen > fileSize) throw new InputError(source, `.npy header length ${hlen} runs past the end of the file (${fileSize} bytes)`);
  if (hstart + hlen > head.byteLength) throw new InputError(source, 'truncated .npy header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(head.subarray(hstart, hstart + hlen));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new InputError(source, `.npy header is not a valid header dict: ${JSON.stringify(text.trim().slice(0, 120))}`);
  if (descr.startsWith('>')) throw new InputError(source, `big-endian .npy arrays (${descr}) are not supported; save with arr.astype(arr.dtype.newbyteorder('<'))`);
  const dtype = DESCR_TO_DTYPE[descr];
  if (!dtype) throw new InputError(source, `unsupported .npy dtype '${descr}' (supported: <f4 <f2 <f8 <i4 <i8 <i2 |u1 |i1 |b1)`);
  if (fortran === 'True') throw new InputError(source, 'Fortran-order .npy arrays are not supported; save with np.ascontiguousarray(arr)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const v = Number(s.replace(/L$/, ''));
    if (!Number.isSafeInteger(v) || v < 0) throw new InputError(source, `.npy shape (${shapeText}) is not a tuple of non-negative integers`);
    return v;
  });
  const dataStart = hstart + hlen;
  const need = numel(shape) * DTYPE_BYTES[dtype];
  if (fileSize - dataStart < need) throw new InputError(source, `truncated .npy data: ${dtype}[${shape.join(', ')}] needs ${need} bytes, the file has ${fileSize - dataStart}`);
  if (fileSize - dataStart > need) throw new InputError(source, `.npy data is ${fileSize - dataStart} bytes but ${dtype}[${shape.join(', ')}] needs ${need}`);
  return { dtype, shape, dataStart };
}

/** Reads only the header of a .npy file (cheap for files of any size). */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openRegular(path);
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 65536 + 12));
    readSync(fd, head, 0, head.byteLength, 0);
    return parseNpyHeader(head, size, path);
  } finally {
    closeSync(fd);
  }
}

export function decodeNpy(bytes: Uint8Array, source: string): Tensor {
  const h = parseNpyHeader(bytes, bytes.byteLength, source);
  return { dtype: h.dtype, shape: h.shape, data: viewAs(h.dtype, bytes.subarray(h.dataStart)) };
}

export function readNpy(path: string): Tensor {
  return decodeNpy(readRegularFile(path), path);
}

/** The header bytes (format 1.0, or 2.0 when the dict is long) for a C-order array; data is 64-byte aligned. */
export function npyHeaderBytes(dtype: DType, shape: readonly number[]): Uint8Array {
  const descr = DTYPE_TO_DESCR[dtype];
  if (!descr) throw new RangeError(`dtype ${dtype} cannot be written to .npy`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const v1 = dict.length + 11 < 65536;
  const pre = v1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (v1) dv.setUint16(8, dict.length, true); else dv.setUint32(8, dict.length, true);
  out.set(Buffer.from(dict, 'latin1'), pre);
  return out;
}

export function encodeNpy(t: Tensor): Uint8Array[] {
  return [npyHeaderBytes(t.dtype, t.shape), tensorBytes(t)];
}

export function writeNpy(path: string, t: Tensor): void {
  writeFileAtomic(path, encodeNpy(t));
}

/** Reads every array of an .npz (stored or deflated), keyed by name without the `.npy` suffix. */
export function decodeNpz(bytes: Uint8Array, source: string): Map<string, Tensor> {
  let zip: ZipReader;
  try { zip = new ZipReader(source, bytes); } catch (e) {
    throw isInputError(e) ? new InputError(source, `not a readable .npz (zip) archive: ${e.problem}`) : e;
  }
  const out = new Map<string, Tensor>();
  for (const name of zip.entries.keys()) {
    if (!name.endsWith('.npy')) continue;
    out.set(name.slice(0, -4), decodeNpy(zip.read(name), `${source}:${name}`));
  }
  if (out.size === 0) throw new InputError(source, '.npz archive holds no .npy arrays');
  return out;
}

export function readNpz(path: string): Map<string, Tensor> {
  return decodeNpz(readRegularFile(path), path);
}
