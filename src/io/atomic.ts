import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, renameSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError, isInputError } from '../errors';

/**
 * A failed write (a full disk, no permission, a read-only or missing folder) as a one-line InputError
 * naming the file: the environment, not a bug. Errors without a code pass through.
 */
export function writeError(path: string, e: unknown, consequence = 'not saved'): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (!code || isInputError(e)) return e as Error;
  const why = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EROFS' ? 'read-only file system' : code === 'EISDIR' ? 'is a folder' : code === 'ENOTDIR' || code === 'ENOENT' ? 'the folder does not exist' : code === 'EEXIST' ? 'already exists' : code;
  return new InputError(path, `${consequence}: ${why} (${code})`);
}

/**
 * Refuses to replace anything but a regular file: renaming over /dev/null (as root) would replace the
 * device, and over a folder fails with a raw EISDIR.
 */
function refuseNonRegular(path: string): void {
  let st;
  try { st = statSync(path); } catch { return; }
  if (!st.isFile()) throw new InputError(path, `is ${st.isDirectory() ? 'a folder' : 'not a regular file'}; refusing to write over it`);
}

/**
 * Creates a folder to write into (with its parents), or an InputError: a path that exists as a file
 * (or /dev/null) is not a folder.
 */
export function ensureFolder(path: string): void {
  let st;
  try { st = statSync(path); } catch { st = undefined; }
  if (st && !st.isDirectory()) throw new InputError(path, `is ${st.isFile() ? 'a file' : 'a device or other special file'}, not a folder; name a folder to write into`);
  try { mkdirSync(path, { recursive: true }); } catch (e) { throw writeError(path, e); }
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn file: write a temp
 * file in the same folder, fsync it, rename it over the target. If anything fails (a full disk, say) the
 * temp file is removed and the previous file is untouched.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string | readonly Uint8Array[]): void {
  try { mkdirSync(dirname(path), { recursive: true }); } catch (e) { throw writeError(path, e); }
  refuseNonRegular(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const chunks: readonly (Uint8Array | string)[] = Array.isArray(data) ? (data as readonly Uint8Array[]) : [data as Uint8Array | string];
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (const c of chunks) {
      const bytes = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* nothing to clean */ }
    throw writeError(path, e);
  }
}

/**
 * Appends one line to a log so that the log never ends in a torn line: if the write fails part-way (a
 * full disk), the file is cut back to where it was and false is returned (the line is dropped).
 */
export function appendLineWhole(path: string, line: string): boolean {
  let fd: number | undefined;
  let size = 0;
  try {
    fd = openSync(path, 'a');
    size = fstatSync(fd).size;
    const bytes = Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8');
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (fd !== undefined) try { ftruncateSync(fd, size); } catch { /* nothing more to do */ }
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return false;
    throw e;
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* closed */ }
  }
}
