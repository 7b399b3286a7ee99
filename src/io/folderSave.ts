/**
 * Saving the files of one SAE folder (cfg.json, weights, sparsity) so that the folder is always entirely
 * the old SAE or entirely the new one, whenever the process dies, with a redo journal:
 *   1. every new file is written and fsynced under a temporary name beside its final one;
 *   2. the journal (`.sae-save.json`: which temporary becomes which file, which old files go) is written
 *      atomically — from this instant the save has happened;
 *   3. the temporaries are renamed into place and old files removed, one by one;
 *   4. the journal is removed.
 * A kill before 2 leaves only stray temporaries (the folder is the old SAE); a kill after 2 leaves a
 * journal, and readers resolve each file through it (savedPath) to its new version, whether renamed yet
 * or not. The next save (or recoverFolder) finishes the journal's renames and removes stray temporaries.
 * Other files in the folder (checkpoints, logs, annotations) are left alone.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors';
import { ensureFolder, writeError, writeFileAtomic } from './atomic';

export const SAVE_JOURNAL = '.sae-save.json';

export interface FolderFile { name: string; data: Uint8Array | string | readonly Uint8Array[] }

interface Journal { files: Record<string, string>; remove: string[] }

const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]+\.(saving|tmp)$/;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code !== 'ESRCH'; }
}

function readJournal(dir: string): Journal | undefined {
  const path = join(dir, SAVE_JOURNAL);
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return undefined; }
  let j: unknown;
  try { j = JSON.parse(text); } catch { throw new InputError(path, 'the save journal is not valid JSON (remove it to keep the files as they are)'); }
  const ok = typeof j === 'object' && j !== null && typeof (j as Journal).files === 'object' && (j as Journal).files !== null && Array.isArray((j as Journal).remove)
    && Object.entries((j as Journal).files).every(([k, v]) => typeof v === 'string' && !k.includes('/') && !v.includes('/'))
    && (j as Journal).remove.every((r) => typeof r === 'string' && !r.includes('/'));
  if (!ok) throw new InputError(path, 'the save journal is malformed (remove it to keep the files as they are)');
  return j as Journal;
}

/**
 * Where to read `name` in `dir`: its new version when a save was interrupted after its journal was
 * written (the temporary, if not renamed yet), else the file itself. A file the journal removes resolves
 * to a path that does not exist.
 */
export function savedPath(dir: string, name: string): string {
  const j = readJournal(dir);
  if (!j) return join(dir, name);
  const temp = j.files[name];
  if (temp !== undefined && existsSync(join(dir, temp))) return join(dir, temp);
  if (temp === undefined && j.remove.includes(name)) return join(dir, `.${name}.removed-by-save`);
  return join(dir, name);
}

/** A config object as the text of its JSON file; a value JSON cannot hold is an InputError naming the file. */
export function configText(value: unknown, path: string): string {
  try {
    return JSON.stringify(value, null, 2) + '\n';
  } catch (e) {
    throw new InputError(path, `cannot be written: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Finishes an interrupted save (its journal) and removes temporaries left by dead processes, in `dir`
 * and in its `subfolders` (a run's checkpoints).
 */
export function recoverFolder(dir: string, subfolders: readonly string[] = []): void {
  if (!existsSync(dir)) return;
  for (const sub of subfolders) removeDeadTemporaries(join(dir, sub));
  const j = readJournal(dir);
  if (j) {
    for (const [name, temp] of Object.entries(j.files)) if (existsSync(join(dir, temp))) renameSync(join(dir, temp), join(dir, name));
    for (const name of j.remove) try { unlinkSync(join(dir, name)); } catch { /* already gone */ }
    unlinkSync(join(dir, SAVE_JOURNAL));
  }
  removeDeadTemporaries(dir);
}

function removeDeadTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const m = TEMP.exec(entry);
    if (m && !pidAlive(Number(m[2]))) try { unlinkSync(join(dir, entry)); } catch { /* raced with another cleaner */ }
  }
}

function writeSynced(path: string, data: FolderFile['data']): void {
  const chunks: readonly (Uint8Array | string)[] = Array.isArray(data) ? (data as readonly Uint8Array[]) : [data as Uint8Array | string];
  const fd = openSync(path, 'wx');
  try {
    for (const c of chunks) {
      const bytes = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    }
    fsyncSync(fd);
  } finally { closeSync(fd); }
}

/**
 * Replaces the SAE files of `dir` with `files` as one change; `managed` names the files that belong to
 * the SAE (any of them not in `files` is removed, e.g. an old sparsity file the new SAE does not have).
 */
export function saveFolder(dir: string, files: readonly FolderFile[], managed: readonly string[]): void {
  ensureFolder(dir);
  try { recoverFolder(dir); } catch (e) { throw writeError(dir, e, 'cannot save here; the folder is left as it was'); }
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const journal: Journal = { files: {}, remove: managed.filter((m) => !files.some((f) => f.name === m) && existsSync(join(dir, m))) };
  try {
    for (const f of files) {
      const temp = `.${f.name}.${tag}.saving`;
      journal.files[f.name] = temp;
      writeSynced(join(dir, temp), f.data);
    }
    writeFileAtomic(join(dir, SAVE_JOURNAL), JSON.stringify(journal) + '\n');
  } catch (e) {
    for (const temp of Object.values(journal.files)) try { unlinkSync(join(dir, temp)); } catch { /* not written */ }
    throw writeError(dir, e, 'cannot save here; the folder is left as it was');
  }
  // The save has happened; what follows only moves names, and recoverFolder repeats it if we die.
  recoverFolder(dir);
}
