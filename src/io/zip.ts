/**
 * Zip archives (torch.save's `.pt`, numpy's `.npz`) through fflate, a maintained zip library: we read the
 * file, list the central directory once (zip64 included, which torch writes), and extract entries on
 * demand — each into its own buffer, so typed-array views of a storage are aligned. Every failure of
 * the library on a corrupt archive becomes an InputError naming the file: archives come from outside.
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import type { UnzipFileInfo } from 'fflate';
import { InputError } from '../errors';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private bytes: Uint8Array | undefined;

  constructor(readonly path: string) {
    let buf: Buffer;
    try { buf = readFileSync(path); } catch (e) { throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    this.bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    if (!hasEndRecord(this.bytes)) throw new InputError(path, 'not a zip archive (no end-of-central-directory record)');
    // A filter that accepts nothing lists the directory without decompressing any entry.
    this.unzip((info) => {
      this.entries.set(info.name, { name: info.name, method: info.compression, compressedSize: info.size, size: info.originalSize });
      return false;
    });
  }

  private unzip(filter: (info: UnzipFileInfo) => boolean): Record<string, Uint8Array> {
    if (!this.bytes) throw new Error(`zip ${this.path} is closed`);
    try {
      return unzipSync(this.bytes, { filter });
    } catch (e) {
      throw new InputError(this.path, `not a readable zip archive (${(e as Error).message || 'corrupt'})`);
    }
  }

  /** The uncompressed bytes of one entry, in a buffer of its own. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new InputError(this.path, `zip archive has no entry '${name}'`);
    if (entry.method !== 0 && entry.method !== 8) throw new InputError(this.path, `zip entry '${name}' uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
    const out = this.unzip((info) => info.name === name)[name];
    if (!out) throw new InputError(this.path, `zip entry '${name}' could not be extracted`);
    if (out.byteLength !== entry.size) throw new InputError(this.path, `zip entry '${name}' holds ${out.byteLength} bytes, the directory says ${entry.size}`);
    // fflate returns stored entries as views of the archive; copy so each entry owns an aligned buffer.
    return out.buffer === this.bytes!.buffer ? out.slice() : out;
  }

  close(): void {
    this.bytes = undefined;
  }
}

/** Whether the last 64 KiB + 22 bytes hold an end-of-central-directory signature (PK\x05\x06). */
function hasEndRecord(b: Uint8Array): boolean {
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 0x05 && b[i + 3] === 0x06) return true;
  }
  return false;
}

/** Opens a zip, runs `fn`, closes it. */
export function withZip<T>(path: string, fn: (zip: ZipReader) => T): T {
  const zip = new ZipReader(path);
  try { return fn(zip); } finally { zip.close(); }
}
