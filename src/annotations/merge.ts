/**
 * Three-way merge of annotation files: `base` is what we last read from disk, `ours` is what this window
 * holds, `theirs` is what is on disk now (after a git pull, or an edit in another window). Per latent and
 * per field: a side that did not change the field takes the other side's value; when both changed it
 * differently, the later `updatedAt` wins and the other value is kept in `alternatives`, so nothing
 * anybody wrote is lost. Tags merge as sets (an addition on either side stays; a removal on one side is
 * honoured unless the other side added the tag back). Deletions are explicit tombstones (below).
 */
import { TEXT_FIELDS } from './types';
import type { AnnotationsFile, LatentAnnotation, TextField, Tombstone } from './types';

export interface MergeConflict { index: number; field: TextField; kept: string; alternative: string }
export interface MergeResult { merged: AnnotationsFile; conflicts: MergeConflict[] }

function byIndex(doc: AnnotationsFile | undefined): Map<number, LatentAnnotation> {
  return new Map((doc?.annotations ?? []).map((a) => [a.index, a]));
}

export function sameEntry(a: LatentAnnotation, b: LatentAnnotation): boolean {
  return JSON.stringify(normalised(a)) === JSON.stringify(normalised(b));
}

function normalised(a: LatentAnnotation): LatentAnnotation {
  return { ...a, tags: [...a.tags].sort(), alternatives: a.alternatives?.length ? a.alternatives : undefined };
}

function mergeTags(base: string[], ours: string[], theirs: string[]): string[] {
  const b = new Set(base), o = new Set(ours), t = new Set(theirs);
  const out: string[] = [];
  for (const tag of [...ours, ...theirs.filter((x) => !o.has(x))]) {
    const removedByOne = b.has(tag) && (!o.has(tag) || !t.has(tag));
    if (!removedByOne) out.push(tag);
  }
  return out;
}

function mergeEntry(base: LatentAnnotation | undefined, ours: LatentAnnotation, theirs: LatentAnnotation, conflicts: MergeConflict[]): LatentAnnotation {
  const oursNewer = ours.updatedAt >= theirs.updatedAt;
  const out: LatentAnnotation = { ...(oursNewer ? ours : theirs) };
  const alternatives = [...(ours.alternatives ?? [])];
  for (const alt of theirs.alternatives ?? []) if (!alternatives.some((a) => JSON.stringify(a) === JSON.stringify(alt))) alternatives.push(alt);
  for (const field of TEXT_FIELDS) {
    // No base: neither side descends from the other, and an empty field is one the side never set.
    const b = base?.[field] ?? '', o = ours[field], t = theirs[field];
    if (o === t) out[field] = o;
    else if (o === b) out[field] = t;
    else if (t === b) out[field] = o;
    else {
      const [win, lose, loser] = oursNewer ? [o, t, theirs] : [t, o, ours];
      out[field] = win;
      // The author field is metadata of the edit itself; only content fields keep a losing value.
      if (field !== 'author' && lose !== '') {
        alternatives.push({ field, value: lose, author: loser.author, updatedAt: loser.updatedAt });
        conflicts.push({ index: ours.index, field, kept: win, alternative: lose });
      }
    }
  }
  out.tags = mergeTags(base?.tags ?? [], ours.tags, theirs.tags);
  out.createdAt = [ours.createdAt, theirs.createdAt].filter(Boolean).sort()[0] ?? ours.createdAt;
  out.updatedAt = oursNewer ? ours.updatedAt : theirs.updatedAt;
  if (alternatives.length) out.alternatives = alternatives;
  else delete out.alternatives;
  return out;
}

/**
 * Finds the version of a latent's entry that `theirs` was copied from (a tool that saved a stale copy
 * started from an older version than our base): the merge base for that entry. The store keeps the
 * versions it has seen; without one, the file-level base is used.
 */
export type AncestorOf = (theirs: LatentAnnotation) => LatentAnnotation | undefined;

function mergeTombstones(ours: Tombstone[] | undefined, theirs: Tombstone[] | undefined): Map<number, Tombstone> {
  const out = new Map<number, Tombstone>();
  for (const t of [...(ours ?? []), ...(theirs ?? [])]) {
    const known = out.get(t.index);
    if (!known || t.deletedAt > known.deletedAt) out.set(t.index, t);
  }
  return out;
}

/**
 * Merges per latent. A latent missing on one side is kept from the other (absence is not deletion: the
 * side may simply not have seen it yet); only a tombstone deletes, and an entry edited after the
 * tombstone — or carrying a change the deleting side had not seen — outlives it.
 */
export function mergeAnnotations(base: AnnotationsFile | undefined, ours: AnnotationsFile, theirs: AnnotationsFile, ancestorOf?: AncestorOf): MergeResult {
  const b = byIndex(base), o = byIndex(ours), t = byIndex(theirs);
  const oursDeleted = new Set((ours.deleted ?? []).map((d) => d.index));
  const tombs = mergeTombstones(ours.deleted, theirs.deleted);
  const conflicts: MergeConflict[] = [];
  const indices = [...new Set([...o.keys(), ...t.keys()])].sort((x, y) => x - y);
  const annotations: LatentAnnotation[] = [];
  for (const i of indices) {
    const oe = o.get(i), te = t.get(i);
    const anc = te ? (ancestorOf?.(te) ?? b.get(i)) : b.get(i);
    const entry = oe && te ? mergeEntry(anc, oe, te, conflicts) : (oe ?? te)!;
    const tomb = tombs.get(i);
    if (tomb && tomb.deletedAt >= entry.updatedAt) {
      // Deleted by us, but their copy holds an edit we had not seen when we deleted it: the edit stays.
      const unseenEdit = !oe && te && oursDeleted.has(i) && !(anc && sameEntry(anc, te));
      if (!unseenEdit) continue;
    }
    tombs.delete(i);
    annotations.push(entry);
  }
  const deleted = [...tombs.values()].sort((x, y) => x.index - y.index);
  const merged: AnnotationsFile = { ...theirs, sae: { ...ours.sae, ...theirs.sae }, annotations };
  if (deleted.length) merged.deleted = deleted;
  else delete merged.deleted;
  return { merged, conflicts };
}
