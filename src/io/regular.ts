/**
 * Opening input files. Only regular files are read: a FIFO would block forever, a device (`/dev/zero`
 * named `.npz`) would be read without end, so they are refused up front with one line. The file is
 * opened non-blocking and checked on the open descriptor, so nothing can swap it in between.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors';

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  return st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
}

/** A read-only descriptor of a regular file, or an InputError naming the file. The caller closes it. */
export function openRegular(path: string): number {
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, `cannot read: ${code ?? (e as Error).message}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new InputError(path, `is ${kindOf(st)}, not a regular file; refusing to read it`);
  }
  return fd;
}

/** The whole content of a regular file. */
export function readRegularFile(path: string): Uint8Array {
  const fd = openRegular(path);
  try {
    const size = fstatSync(fd).size;
    const out = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, out, off, size - off, off);
      if (n === 0) throw new InputError(path, `the file shrank while it was read (${off} of ${size} bytes)`);
      off += n;
    }
    return out;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code}`);
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** The content of a regular file as UTF-8 text. */
export function readRegularText(path: string): string {
  return Buffer.from(readRegularFile(path)).toString('utf8');
}
