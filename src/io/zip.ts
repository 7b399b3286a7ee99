/**
 * Zip archives (torch.save's `.pt`, numpy's `.npz`), read defensively because archives come from
 * outside. The central directory (zip64 included, which torch writes) is parsed here, bounded by the
 * file's size; an entry is extracted on demand, each into its own buffer (so typed-array views of a
 * storage are aligned), and only after its declared size has been checked against what the caller can
 * need: deflate runs through fflate's streaming Inflate into a buffer of exactly the declared size and
 * stops the moment the data would overflow it (a bomb costs at most one chunk), and every entry's CRC-32
 * is verified (a flipped byte is refused, as numpy refuses it). Every failure is an InputError naming
 * the file.
 */
import { Inflate } from 'fflate';
import * as zlib from 'node:zlib';
import { InputError } from '../errors';
import { readRegularFile } from './regular';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the local header. */
  offset: number;
}

/** Input fed to the inflater per step: its output per step is at most ~1032× this. */
const CHUNK = 16 * 1024;
/** The most entries a directory may list (torch writes a few per tensor). */
const MAX_ENTRIES = 1_000_000;

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, o: number): number => u32(b, o) + u32(b, o + 4) * 2 ** 32;

let crcTable: Uint32Array | undefined;
/** CRC-32 (zip's): node's zlib.crc32 where it exists (Node ≥ 20.15), else a table. */
export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; crcTable[n] = c >>> 0; }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private bytes: Uint8Array | undefined;

  constructor(readonly path: string, bytes?: Uint8Array) {
    this.bytes = bytes ?? readRegularFile(path);
    this.listDirectory(this.bytes);
  }

  private fail(problem: string): never {
    throw new InputError(this.path, problem);
  }

  private listDirectory(b: Uint8Array): void {
    let eocd = -1;
    for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
      if (u32(b, i) === 0x06054b50) { eocd = i; break; }
    }
    if (eocd < 0) this.fail('not a zip archive (no end-of-central-directory record)');
    let count = u16(b, eocd + 10);
    let dirSize = u32(b, eocd + 12);
    let dirOffset = u32(b, eocd + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || u32(b, loc) !== 0x07064b50) this.fail('zip64 archive without a zip64 end-of-directory locator');
      const rec = u64(b, loc + 8);
      if (rec + 56 > b.length || u32(b, rec) !== 0x06064b50) this.fail('zip64 end-of-directory record out of place');
      count = u64(b, rec + 32); dirSize = u64(b, rec + 40); dirOffset = u64(b, rec + 48);
    }
    if (count > MAX_ENTRIES || dirOffset + dirSize > b.length || count * 46 > dirSize) this.fail(`zip directory out of bounds (${count} entries, ${dirSize} bytes at ${dirOffset}, file ${b.length} bytes)`);
    let p = dirOffset;
    for (let n = 0; n < count; n++) {
      if (p + 46 > dirOffset + dirSize || u32(b, p) !== 0x02014b50) this.fail(`zip directory entry ${n} is corrupt`);
      const nameLen = u16(b, p + 28), extraLen = u16(b, p + 30), commentLen = u16(b, p + 32);
      if (p + 46 + nameLen + extraLen + commentLen > dirOffset + dirSize) this.fail(`zip directory entry ${n} runs past the directory`);
      const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
      let compressedSize = u32(b, p + 20), size = u32(b, p + 24), offset = u32(b, p + 42);
      // zip64 extra field: the 64-bit values of whichever fields are saturated, in this order.
      for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
        const id = u16(b, e), len = u16(b, e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          const take = (): number => { if (q + 8 > e + 4 + len) this.fail(`zip entry '${name}': short zip64 field`); const v = u64(b, q); q += 8; return v; };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (offset === 0xffffffff) offset = take();
        }
        e += 4 + len;
      }
      if (offset + 30 > b.length || offset + compressedSize > b.length) this.fail(`zip entry '${name}' lies outside the file`);
      this.entries.set(name, { name, method: u16(b, p + 10), compressedSize, size, crc: u32(b, p + 16), offset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /**
   * The uncompressed bytes of one entry, in a buffer of its own. `maxBytes`: the most the caller can
   * need from it (a tensor's bytes, a pickle's cap); a larger declared size is refused before any work.
   */
  read(name: string, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    const entry = this.entries.get(name);
    const b = this.bytes;
    if (!b) throw new Error(`zip ${this.path} is closed`);
    if (!entry) this.fail(`zip archive has no entry '${name}'`);
    if (entry.method !== 0 && entry.method !== 8) this.fail(`zip entry '${name}' uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
    if (entry.size > maxBytes) this.fail(`zip entry '${name}' declares ${entry.size} bytes, more than the ${maxBytes} it can hold here`);
    const h = entry.offset;
    if (u32(b, h) !== 0x04034b50) this.fail(`zip entry '${name}' has no local header`);
    const start = h + 30 + u16(b, h + 26) + u16(b, h + 28);
    if (start + entry.compressedSize > b.length) this.fail(`zip entry '${name}' runs past the end of the file`);
    const packed = b.subarray(start, start + entry.compressedSize);
    let out: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) this.fail(`zip entry '${name}' is stored with ${entry.compressedSize} bytes, the directory says ${entry.size}`);
      out = packed.slice();
    } else {
      out = this.inflate(packed, entry);
    }
    if (crc32(out) !== entry.crc) this.fail(`zip entry '${name}': bad CRC-32 (the data is corrupt)`);
    return out;
  }

  private inflate(packed: Uint8Array, entry: ZipEntry): Uint8Array {
    const out = new Uint8Array(entry.size);
    let n = 0;
    let overflow = false;
    const inflater = new Inflate((chunk) => {
      if (n + chunk.length > out.length) { overflow = true; return; }
      out.set(chunk, n);
      n += chunk.length;
    });
    try {
      for (let off = 0; off < packed.length && !overflow; off += CHUNK) inflater.push(packed.subarray(off, off + CHUNK), off + CHUNK >= packed.length);
      if (packed.length === 0) inflater.push(packed, true);
    } catch (e) {
      this.fail(`zip entry '${entry.name}' is corrupt (${(e as Error).message || 'bad deflate data'})`);
    }
    if (overflow) this.fail(`zip entry '${entry.name}' inflates to more than the ${entry.size} bytes its directory says`);
    if (n !== entry.size) this.fail(`zip entry '${entry.name}' holds ${n} bytes, the directory says ${entry.size}`);
    return out;
  }

  close(): void {
    this.bytes = undefined;
  }
}

/** Opens a zip, runs `fn`, closes it. */
export function withZip<T>(path: string, fn: (zip: ZipReader) => T): T {
  const zip = new ZipReader(path);
  try { return fn(zip); } finally { zip.close(); }
}
