/**
 * A minimal, validating zip reader over a file descriptor: the central directory is parsed (zip64
 * included, which torch writes for big archives), and each entry is read on demand into its own buffer,
 * so a 300 MB `.pt` is never held twice and typed-array views of a storage are always aligned. Stored
 * and deflated entries are supported (torch writes stored; `np.savez_compressed` deflates).
 * Every inconsistency is an InputError naming the file: archives come from outside.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'fflate';
import { InputError } from '../errors';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX_ENTRIES = 1_000_000;

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private fd: number | undefined;
  readonly size: number;

  constructor(readonly path: string) {
    try { this.fd = openSync(path, 'r'); } catch (e) { throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    try {
      this.size = fstatSync(this.fd).size;
      this.readCentralDirectory();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    if (this.fd !== undefined) { closeSync(this.fd); this.fd = undefined; }
  }

  private fail(problem: string): never {
    throw new InputError(this.path, `not a readable zip archive (${problem}); the file may be truncated or corrupt`);
  }

  /** Reads exactly `length` bytes at `position` into a fresh buffer, or fails naming what was wanted. */
  readAt(position: number, length: number, what: string): Uint8Array {
    if (this.fd === undefined) throw new Error('zip reader is closed');
    if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > this.size) {
      this.fail(`${what} at byte ${position} (+${length}) lies outside the ${this.size}-byte file`);
    }
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, position + got);
      if (n === 0) this.fail(`${what} is cut short`);
      got += n;
    }
    return buf;
  }

  private readCentralDirectory(): void {
    if (this.size < 22) this.fail(`${this.size} bytes is too short for a zip`);
    const tailLen = Math.min(this.size, 65535 + 22);
    const tail = this.readAt(this.size - tailLen, tailLen, 'end of archive');
    const dv = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (dv.getUint32(i, true) === EOCD_SIG) { eocd = i; break; }
    if (eocd < 0) this.fail('no end-of-central-directory record');
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locPos = this.size - tailLen + eocd - 20;
      const loc = this.readAt(locPos, 20, 'zip64 locator');
      const ldv = new DataView(loc.buffer);
      if (ldv.getUint32(0, true) !== ZIP64_LOCATOR_SIG) this.fail('zip64 locator missing');
      const recPos = Number(ldv.getBigUint64(8, true));
      const rec = this.readAt(recPos, 56, 'zip64 end record');
      const rdv = new DataView(rec.buffer);
      if (rdv.getUint32(0, true) !== ZIP64_EOCD_SIG) this.fail('zip64 end record has a bad signature');
      count = Number(rdv.getBigUint64(32, true));
      cdSize = Number(rdv.getBigUint64(40, true));
      cdOffset = Number(rdv.getBigUint64(48, true));
    }
    if (count > MAX_ENTRIES) this.fail(`${count} entries is more than the ${MAX_ENTRIES} limit`);
    const cd = this.readAt(cdOffset, cdSize, 'central directory');
    const cdv = new DataView(cd.buffer);
    let p = 0;
    const utf8 = new TextDecoder('utf-8');
    for (let n = 0; n < count; n++) {
      if (p + 46 > cdSize || cdv.getUint32(p, true) !== CENTRAL_SIG) this.fail(`central directory entry ${n} is malformed`);
      const method = cdv.getUint16(p + 10, true);
      let compressedSize = cdv.getUint32(p + 20, true);
      let size = cdv.getUint32(p + 24, true);
      const nameLen = cdv.getUint16(p + 28, true);
      const extraLen = cdv.getUint16(p + 30, true);
      const commentLen = cdv.getUint16(p + 32, true);
      let localHeaderOffset = cdv.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > cdSize) this.fail(`central directory entry ${n} runs past the directory`);
      const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field: the 64-bit values of whichever 32-bit fields are saturated, in this order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cdv.getUint16(e, true), len = cdv.getUint16(e + 2, true);
        if (e + 4 + len > extraEnd) this.fail(`entry '${name}' has a malformed extra field`);
        if (id === 0x0001) {
          let q = e + 4;
          const next = (): number => {
            if (q + 8 > e + 4 + len) this.fail(`entry '${name}' has a short zip64 field`);
            const v = Number(cdv.getBigUint64(q, true));
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        e += 4 + len;
      }
      if (localHeaderOffset + 30 > this.size || localHeaderOffset + compressedSize > this.size) this.fail(`entry '${name}' points past the end of the file`);
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** The uncompressed bytes of one entry, in a buffer of its own. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new InputError(this.path, `archive has no entry '${name}'`);
    const local = this.readAt(entry.localHeaderOffset, 30, `local header of '${name}'`);
    const ldv = new DataView(local.buffer);
    if (ldv.getUint32(0, true) !== LOCAL_SIG) this.fail(`local header of '${name}' has a bad signature`);
    const dataStart = entry.localHeaderOffset + 30 + ldv.getUint16(26, true) + ldv.getUint16(28, true);
    const raw = this.readAt(dataStart, entry.compressedSize, `data of '${name}'`);
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) this.fail(`stored entry '${name}' has different stored and real sizes`);
      return raw;
    }
    if (entry.method === 8) {
      // deflate cannot expand more than ~1032:1; a bigger claim is a corrupt or hostile directory
      if (entry.size > entry.compressedSize * 1032 + 1024) this.fail(`entry '${name}' claims ${entry.size} bytes from ${entry.compressedSize} compressed`);
      let out: Uint8Array;
      try { out = inflateSync(raw, { out: new Uint8Array(entry.size) }); } catch (e) { this.fail(`entry '${name}' does not inflate: ${(e as Error).message}`); }
      if (out.byteLength !== entry.size) this.fail(`entry '${name}' inflates to ${out.byteLength} bytes, the directory says ${entry.size}`);
      return out;
    }
    throw new InputError(this.path, `zip entry '${name}' uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
  }
}

/** Opens a zip, runs `fn`, closes it. */
export function withZip<T>(path: string, fn: (zip: ZipReader) => T): T {
  const zip = new ZipReader(path);
  try { return fn(zip); } finally { zip.close(); }
}
