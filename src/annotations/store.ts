/**
 * The annotation store of one SAE. Pure Node (no vscode): the extension feeds it file-change
 * notifications, the CLI and tests use it directly. Every write holds a lock file, folds in whatever
 * changed on disk since we last read it (three-way merge) and replaces the file so that no version on
 * disk is replaced unread (see write()); a malformed file on disk is reported and never written over.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, isInputError } from '../errors';
import { withFileLock } from '../io/lock';
import { mergeAnnotations } from './merge';
import { EntryHistory, moveAside, placeNew, readIfExists, restore, strayAsides, unlinkQuiet } from './disk';
import type { MergeConflict } from './merge';
import { emptyAnnotations, ANNOTATIONS_FILE } from './types';
import type { AnnotationsFile, LatentAnnotation } from './types';
import { parseAnnotations, serializeAnnotations } from './validate';

export type AnnotationPatch = Partial<Pick<LatentAnnotation, 'label' | 'description' | 'tags' | 'author' | 'typeName'>>;

export interface SyncResult {
  /** The in-memory annotations changed. */
  changed: boolean;
  conflicts: MergeConflict[];
}

export class AnnotationStore {
  readonly path: string;
  /** What we last read from (or wrote to) disk: the merge base. undefined: no file yet. */
  private base: AnnotationsFile | undefined;
  private baseText: string | undefined;
  private current: AnnotationsFile;
  /** Set while the file on disk is malformed: we keep what we had and refuse to write. */
  private diskError: InputError | undefined;
  /** Versions of entries seen this session: the merge base for a stale copy saved by an external editor. */
  private readonly history = new EntryHistory();

  constructor(
    readonly saeDir: string,
    private readonly sae: AnnotationsFile['sae'] = {},
    private readonly now: () => string = () => new Date().toISOString(),
  ) {
    this.path = join(saeDir, ANNOTATIONS_FILE);
    this.current = emptyAnnotations(sae);
  }

  /** The problem with the file on disk, if it is malformed. */
  get error(): InputError | undefined { return this.diskError; }

  list(): readonly LatentAnnotation[] { return this.current.annotations; }
  get(index: number): LatentAnnotation | undefined { return this.current.annotations.find((a) => a.index === index); }
  document(): AnnotationsFile { return this.current; }

  /** Case-insensitive search over label, description and tags. */
  search(query: string): LatentAnnotation[] {
    const q = query.trim().toLowerCase();
    if (!q) return [...this.current.annotations];
    return this.current.annotations.filter((a) => a.label.toLowerCase().includes(q) || a.description.toLowerCase().includes(q) || a.tags.some((t) => t.toLowerCase().includes(q)));
  }

  /**
   * Reads the file on disk (the first time, or after an external edit) and merges it with what we hold;
   * if what we hold has something the file lacks (an external save from a stale copy), writes it back.
   */
  sync(): SyncResult {
    const text = readIfExists(this.path);
    if (text === this.baseText && !this.diskError) return { changed: false, conflicts: [] };
    // Missing: deleted, or another writer has it moved aside for a moment. Keep what we hold (the next
    // write recreates the file); nothing is lost.
    if (text === undefined) {
      this.diskError = undefined;
      return { changed: false, conflicts: [] };
    }
    const before = serializeAnnotations(this.current);
    const conflicts = this.fold(text);
    const changed = serializeAnnotations(this.current) !== before;
    if (serializeAnnotations(this.current) !== text) this.write();
    return { changed, conflicts };
  }

  /** Merges the text of a file into what we hold; that text becomes the merge base. */
  private fold(text: string): MergeConflict[] {
    let theirs: AnnotationsFile;
    try {
      theirs = parseAnnotations(text, this.path, this.sae.dSae);
    } catch (e) {
      this.diskError = e as InputError;
      throw e;
    }
    this.diskError = undefined;
    const { merged, conflicts } = mergeAnnotations(this.base, this.current, theirs, (te) => this.history.ancestorOf(te, this.base));
    this.history.remember(theirs);
    this.history.remember(merged);
    this.current = merged;
    this.base = theirs;
    this.baseText = text;
    return conflicts;
  }

  /** Creates or edits one latent's annotation and saves. Returns merge conflicts met on the way. */
  update(index: number, patch: AnnotationPatch): MergeConflict[] {
    if (!Number.isSafeInteger(index) || index < 0) throw new InputError(this.path, `latent index must be a non-negative integer, got ${index}`);
    if (this.sae.dSae !== undefined && index >= this.sae.dSae) throw new InputError(this.path, `latent ${index} is out of range (the SAE has ${this.sae.dSae} latents)`);
    return this.write((now) => {
      const old = this.get(index);
      const entry: LatentAnnotation = {
        index,
        label: old?.label ?? '', description: old?.description ?? '', tags: old?.tags ?? [], author: old?.author ?? '', typeName: old?.typeName ?? 'human',
        createdAt: old?.createdAt ?? now,
        ...stripUndefined(patch),
        updatedAt: now,
      };
      if (old?.alternatives) entry.alternatives = old.alternatives;
      entry.tags = [...new Set(entry.tags.map((t) => t.trim()).filter(Boolean))];
      const deleted = (this.current.deleted ?? []).filter((t) => t.index !== index);
      this.current = { ...this.current, annotations: [...this.current.annotations.filter((a) => a.index !== index), entry].sort((a, b) => a.index - b.index), deleted };
    });
  }

  /** Deletes one latent's annotation: a tombstone, so that merges elsewhere delete it too. */
  remove(index: number): MergeConflict[] {
    return this.write((now) => {
      const old = this.get(index);
      if (!old) return;
      const deleted = [...(this.current.deleted ?? []).filter((t) => t.index !== index), { index, deletedAt: now, author: old.author }];
      this.current = { ...this.current, annotations: this.current.annotations.filter((a) => a.index !== index), deleted };
    });
  }

  /**
   * Adds the annotations of another file — ours, or a raw Neuronpedia explanation export — in one write:
   * latents we have not annotated are added; on ones we have, only our empty fields are filled. Returns
   * how many latents changed.
   */
  importFile(path: string): number {
    let text: string;
    try { text = readFileSync(path, 'utf8'); } catch (e) { throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    const incoming = parseAnnotations(text, path, this.sae.dSae);
    let changed = 0;
    // applied under the store's lock, on what is on disk then (write's edit), like every other edit
    this.write(() => {
      const byIndex = new Map(this.current.annotations.map((a) => [a.index, a]));
      for (const a of incoming.annotations) {
        const ours = byIndex.get(a.index);
        const next = ours ? { ...ours, label: ours.label || a.label, description: ours.description || a.description, author: ours.author || a.author } : a;
        if (ours && next.label === ours.label && next.description === ours.description && next.author === ours.author) continue;
        byIndex.set(a.index, next);
        changed++;
      }
      if (changed) this.current = { ...this.current, annotations: [...byIndex.values()].sort((x, y) => x.index - y.index) };
    });
    return changed;
  }

  /** Neuronpedia's explanation-export shape, for upload or sharing. */
  toNeuronpedia(): { modelId: string; layer: string; index: string; description: string; typeName: string; explanationModelName: string; label: string; tags: string[] }[] {
    const sae = { ...this.current.sae, ...stripUndefined(this.sae) };
    return this.current.annotations.map((a) => ({
      modelId: sae.modelId ?? '', layer: sae.hookName ?? '', index: String(a.index),
      description: a.description || a.label, typeName: a.typeName, explanationModelName: a.author, label: a.label, tags: a.tags,
    }));
  }

  /**
   * The write protocol, under the lock file (so two of our writers never interleave): move the file aside
   * (atomically taking whatever version is there, even one an external editor saved a moment ago), merge
   * it into what we hold, apply `edit`, and link the result into place — link refuses if anyone created
   * the file meanwhile, and then we merge that too and try again. No version that reached the disk is
   * ever replaced unread.
   */
  private write(edit?: (now: string) => void): MergeConflict[] {
    return withFileLock(this.path, () => {
      const conflicts: MergeConflict[] = [];
      let edited = false;
      for (const stray of strayAsides(this.path)) {
        conflicts.push(...this.fold(stray.text));
        unlinkQuiet(stray.path);
      }
      for (;;) {
        const aside = moveAside(this.path);
        let text: string;
        let placed: boolean;
        try {
          if (aside) conflicts.push(...this.fold(aside.text));
          else this.diskError = undefined;
          if (!edited) { edit?.(this.now()); edited = true; }
          text = serializeAnnotations({ ...this.current, sae: { ...this.current.sae, ...stripUndefined(this.sae) } });
          placed = placeNew(this.path, text);
        } catch (e) {
          if (aside) restore(aside.path, this.path);
          if (isInputError(e) && e.source === this.path && this.diskError === e) throw new InputError(this.path, `not saved: the file on disk is malformed (${e.problem}); fix or remove it first`);
          throw e;
        }
        if (aside) unlinkQuiet(aside.path);
        if (placed) {
          this.base = parseAnnotations(text, this.path);
          this.baseText = text;
          this.history.remember(this.base);
          return conflicts;
        }
      }
    });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
