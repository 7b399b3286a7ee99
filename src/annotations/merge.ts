/**
 * Three-way merge of annotation files: `base` is what we last read from disk, `ours` is what this window
 * holds, `theirs` is what is on disk now (after a git pull, or an edit in another window). Per latent and
 * per field: a side that did not change the field takes the other side's value; when both changed it
 * differently, the later `updatedAt` wins and the other value is kept in `alternatives`, so nothing
 * anybody wrote is lost. Tags merge as sets (an addition on either side stays; a removal on one side is
 * honoured unless the other side added the tag back). A latent deleted on one side and edited on the
 * other stays, with the edit.
 */
import { TEXT_FIELDS } from './types';
import type { AnnotationsFile, LatentAnnotation, TextField } from './types';

export interface MergeConflict { index: number; field: TextField; kept: string; alternative: string }
export interface MergeResult { merged: AnnotationsFile; conflicts: MergeConflict[] }

function byIndex(doc: AnnotationsFile | undefined): Map<number, LatentAnnotation> {
  return new Map((doc?.annotations ?? []).map((a) => [a.index, a]));
}

function sameEntry(a: LatentAnnotation, b: LatentAnnotation): boolean {
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
    const b = base?.[field], o = ours[field], t = theirs[field];
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

export function mergeAnnotations(base: AnnotationsFile | undefined, ours: AnnotationsFile, theirs: AnnotationsFile): MergeResult {
  const b = byIndex(base), o = byIndex(ours), t = byIndex(theirs);
  const conflicts: MergeConflict[] = [];
  const indices = [...new Set([...o.keys(), ...t.keys()])].sort((x, y) => x - y);
  const annotations: LatentAnnotation[] = [];
  for (const i of indices) {
    const be = b.get(i), oe = o.get(i), te = t.get(i);
    if (oe && te) annotations.push(mergeEntry(be, oe, te, conflicts));
    else if (oe) {
      // Missing on disk: deleted there if it existed at base and we did not touch it since.
      if (!(be && sameEntry(be, oe))) annotations.push(oe);
    } else if (te) {
      if (!(be && sameEntry(be, te))) annotations.push(te);
    }
  }
  return { merged: { ...theirs, sae: { ...ours.sae, ...theirs.sae }, annotations }, conflicts };
}
