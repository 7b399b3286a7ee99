/**
 * The file operations of the annotation write protocol (store.ts write()) and the memory of entry
 * versions that lets a merge find what a stale external save started from.
 */
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeError } from '../io/atomic';
import { TEXT_FIELDS } from './types';
import type { AnnotationsFile, LatentAnnotation } from './types';

export function readIfExists(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw writeError(path, e);
  }
}

export function unlinkQuiet(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}

function sidePath(path: string, what: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.${what}`);
}

/** Moves the file out of the way (one rename: whatever version is there at that instant) and reads it. */
export function moveAside(path: string): { path: string; text: string } | undefined {
  const aside = sidePath(path, 'aside');
  try { renameSync(path, aside); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw writeError(path, e);
  }
  try {
    return { path: aside, text: readFileSync(aside, 'utf8') };
  } catch (e) {
    restore(aside, path);
    throw writeError(path, e);
  }
}

/**
 * Files a writer moved aside and never replaced (it was killed in between). Called under the lock, so
 * none of them belongs to a live writer; their content must be merged, or it would be lost.
 */
export function strayAsides(path: string): { path: string; text: string }[] {
  const prefix = `.${basename(path)}.`;
  return readdirSync(dirname(path)).filter((f) => f.startsWith(prefix) && f.endsWith('.aside')).flatMap((f) => {
    const p = join(dirname(path), f);
    try { return [{ path: p, text: readFileSync(p, 'utf8') }]; } catch { return []; }
  });
}

/** Puts a moved-aside file back, unless a newer file has taken its place (then the aside copy stays, named). */
export function restore(aside: string, path: string): void {
  try { linkSync(aside, path); } catch { return; }
  unlinkQuiet(aside);
}

/**
 * Creates `path` with `text` (written and synced under a temporary name first), only if `path` does not
 * exist: false when another writer created it first.
 */
export function placeNew(path: string, text: string): boolean {
  const tmp = sidePath(path, 'tmp');
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = Buffer.from(text, 'utf8');
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
      fsyncSync(fd);
    } finally { closeSync(fd); }
    try {
      linkSync(tmp, path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // File systems without hard links: a plain rename (the lock still keeps our own writers apart).
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
      renameSync(tmp, path);
    }
    return true;
  } catch (e) {
    throw writeError(path, e);
  } finally {
    unlinkQuiet(tmp);
  }
}

/** How many versions of one latent's entry we remember. */
const VERSIONS_KEPT = 16;

function differingFields(a: LatentAnnotation, b: LatentAnnotation): number {
  let n = TEXT_FIELDS.filter((f) => a[f] !== b[f]).length;
  if ([...a.tags].sort().join('\u0000') !== [...b.tags].sort().join('\u0000')) n++;
  return n;
}

/**
 * Entry versions seen (read or written) this session, by latent. An external editor that saved a copy it
 * loaded a while ago brings entries as they were then; the version with the same `updatedAt` is what it
 * started from, so only the fields it really changed count as its edits.
 */
export class EntryHistory {
  private readonly versions = new Map<number, LatentAnnotation[]>();

  remember(doc: AnnotationsFile): void {
    for (const e of doc.annotations) {
      const list = this.versions.get(e.index) ?? [];
      if (list.some((v) => v.updatedAt === e.updatedAt && differingFields(v, e) === 0)) continue;
      list.push(e);
      if (list.length > VERSIONS_KEPT) list.shift();
      this.versions.set(e.index, list);
    }
  }

  /**
   * The merge base for `theirs`: the closest remembered version with its `updatedAt`; failing that, the
   * file-level base when `theirs` descends from it (created at the same time and not older). Otherwise we
   * do not know what `theirs` started from — a stale copy we never saw, or an entry another writer created
   * without having seen ours (an editor's stale save can hide a version from it) — and the base is what
   * loses nothing: for a stale copy its own text fields (its differences are staleness, not edits — a
   * revert would lose updates), for an independent entry empty ones (its empty fields are fields it never
   * had, not fields it cleared); no tags, so a tag on either side is kept.
   */
  ancestorOf(theirs: LatentAnnotation, base: AnnotationsFile | undefined): LatentAnnotation | undefined {
    const same = (this.versions.get(theirs.index) ?? []).filter((v) => v.updatedAt === theirs.updatedAt);
    if (same.length) return same.reduce((best, v) => (differingFields(v, theirs) < differingFields(best, theirs) ? v : best));
    const be = base?.annotations.find((a) => a.index === theirs.index);
    if (!be) return undefined;
    const stale = theirs.updatedAt < be.updatedAt;
    if (!stale && theirs.createdAt === be.createdAt) return be;
    const unknown: LatentAnnotation = { ...theirs, tags: [] };
    if (!stale) for (const f of TEXT_FIELDS) unknown[f] = '';
    return unknown;
  }
}
