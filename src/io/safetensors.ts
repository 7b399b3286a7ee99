/**
 * safetensors: an 8-byte little-endian u64 header length N, an N-byte JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`, then the data.
 * Offsets are relative to the end of the header. Every field is validated: a corrupt or hostile file
 * gets an InputError naming the file and the problem.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { openRegular, readRegularFile } from './regular';
import { InputError } from '../errors';
import { DTYPE_BYTES, isDType } from './dtype';
import type { DType } from './dtype';
import { numel, tensorBytes, viewAs } from './tensor';
import type { Tensor } from './tensor';
import { writeFileAtomic } from './atomic';

export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Absolute file offset where the data section starts (8 + N). */
  dataStart: number;
}

/**
 * The safetensors crate allows 100 MB; a header that size is over a million entries and costs seconds
 * and gigabytes to parse. SAE and activation files hold a handful of tensors: 16 MiB (~150k entries) is
 * far beyond any of them and refused in milliseconds.
 */
const MAX_HEADER = 16 * 1024 * 1024;
/** A valid header nests 3 deep (object → entry → shape); JSON.parse recursion is never reached. */
const MAX_HEADER_DEPTH = 8;

/** The deepest nesting of [ and { outside strings, stopping as soon as it passes `limit`. */
export function jsonDepth(bytes: Uint8Array, limit: number): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) { max = depth; if (max > limit) return max; } }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses and validates the header. `head` holds at least the first 8 + N bytes; `fileSize` is the whole file's. */
export function parseSafetensorsHeader(head: Uint8Array, fileSize: number, source: string): SafetensorsHeader {
  if (fileSize < 8 || head.byteLength < 8) throw new InputError(source, `truncated safetensors file: ${fileSize} bytes, the 8-byte header length is missing`);
  const n64 = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(fileSize - 8)) throw new InputError(source, `safetensors header length ${n64} runs past the end of the file (${fileSize} bytes)`);
  const n = Number(n64);
  if (n > MAX_HEADER) throw new InputError(source, `safetensors header of ${n} bytes is larger than the ${MAX_HEADER / 2 ** 20} MiB limit`);
  if (n < 2) throw new InputError(source, `safetensors header length ${n} is too small to hold a JSON object`);
  if (head.byteLength < 8 + n) throw new InputError(source, 'truncated safetensors header');
  if (jsonDepth(head.subarray(8, 8 + n), MAX_HEADER_DEPTH) > MAX_HEADER_DEPTH) throw new InputError(source, `safetensors header nests deeper than ${MAX_HEADER_DEPTH} levels; a valid one nests 3`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + n)));
  } catch (e) {
    throw new InputError(source, `safetensors header is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError(source, 'safetensors header is not a JSON object');
  const dataLen = fileSize - 8 - n;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(source, '__metadata__ is not an object of strings');
      metadata = {};
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new InputError(source, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null) throw new InputError(source, `tensor '${name}': header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !isDType(dtype)) throw new InputError(source, `tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) throw new InputError(source, `tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) throw new InputError(source, `tensor '${name}': data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) throw new InputError(source, `tensor '${name}': data_offsets [${begin}, ${end}] out of range (data section is ${dataLen} bytes${end > dataLen ? '; the file may be truncated' : ''})`);
    const expected = numel(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) throw new InputError(source, `tensor '${name}': ${end - begin} bytes for ${dtype}[${shape.join(', ')}], which needs ${expected}`);
    entries.set(name, { dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1]!;
    const [name, cur] = sorted[i]!;
    if (cur.begin < prev.end && cur.end > cur.begin) throw new InputError(source, `tensors '${prevName}' and '${name}' overlap in the data section`);
  }
  return { entries, metadata, dataStart: 8 + n };
}

/** Reads only the header of a safetensors file (cheap for files of any size). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openRegular(path);
  try {
    const size = fstatSync(fd).size;
    const lenBuf = new Uint8Array(8);
    const got = readSync(fd, lenBuf, 0, 8, 0);
    if (got < 8) throw new InputError(path, `truncated safetensors file: ${size} bytes, the 8-byte header length is missing`);
    const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (n > BigInt(size - 8)) throw new InputError(path, `safetensors header length ${n} runs past the end of the file (${size} bytes)`);
    if (n > BigInt(MAX_HEADER)) throw new InputError(path, `safetensors header of ${n} bytes is larger than the ${MAX_HEADER / 2 ** 20} MiB limit`);
    const head = new Uint8Array(8 + Number(n));
    head.set(lenBuf);
    readSync(fd, head, 8, Number(n), 8);
    return parseSafetensorsHeader(head, size, path);
  } finally {
    closeSync(fd);
  }
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Decodes a whole safetensors file held in memory; tensors are zero-copy views where alignment allows. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const header = parseSafetensorsHeader(bytes, bytes.byteLength, source);
  const tensors = new Map<string, Tensor>();
  for (const [name, e] of header.entries) {
    const slice = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: viewAs(e.dtype, slice) });
  }
  return { tensors, metadata: header.metadata };
}

export function readSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readRegularFile(path), path);
}

/**
 * Encodes tensors as safetensors, in the given order, with the header padded with spaces to a multiple
 * of 8 bytes so that every tensor of 8-byte or smaller elements is aligned (what the Rust crate does).
 * Returns the parts to write, so that large tensors are not copied.
 */
export function encodeSafetensors(tensors: Iterable<[string, Tensor]> | Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array[] {
  const list: [string, Tensor][] = Symbol.iterator in Object(tensors) ? [...(tensors as Iterable<[string, Tensor]>)] : Object.entries(tensors as Record<string, Tensor>);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of list) {
    const expected = numel(t.shape) * DTYPE_BYTES[t.dtype];
    const bytes = tensorBytes(t);
    if (bytes.byteLength !== expected) throw new RangeError(`tensor '${name}': ${bytes.byteLength} bytes for ${t.dtype}[${t.shape}], which needs ${expected}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
    parts.push(bytes);
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8;
  json += ' '.repeat(pad);
  const jsonBytes = Buffer.from(json, 'utf8');
  const lenBytes = new Uint8Array(8);
  new DataView(lenBytes.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  return [lenBytes, new Uint8Array(jsonBytes.buffer, jsonBytes.byteOffset, jsonBytes.byteLength), ...parts];
}

/** Writes a safetensors file atomically. */
export function writeSafetensors(path: string, tensors: Iterable<[string, Tensor]> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
