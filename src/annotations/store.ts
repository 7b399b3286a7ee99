/**
 * The annotation store of one SAE. Pure Node (no vscode): the extension feeds it file-change
 * notifications, the CLI and tests use it directly. Every write first folds in whatever changed on disk
 * since we last read it (three-way merge), then replaces the file atomically; a malformed file on disk is
 * reported and never written over.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { mergeAnnotations } from './merge';
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

  /** Reads the file on disk (the first time, or after an external edit) and merges it with what we hold. */
  sync(): SyncResult {
    const text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : undefined;
    if (text === this.baseText && !this.diskError) return { changed: false, conflicts: [] };
    if (text === undefined) {
      // Deleted on disk: keep what we hold (it is not lost; the next write recreates the file).
      this.diskError = undefined;
      this.base = undefined;
      this.baseText = undefined;
      return { changed: false, conflicts: [] };
    }
    let theirs: AnnotationsFile;
    try {
      theirs = parseAnnotations(text, this.path, this.sae.dSae);
    } catch (e) {
      this.diskError = e as InputError;
      throw e;
    }
    this.diskError = undefined;
    const before = serializeAnnotations(this.current);
    const { merged, conflicts } = mergeAnnotations(this.base, this.current, theirs);
    this.current = merged;
    this.base = theirs;
    this.baseText = text;
    const changed = serializeAnnotations(merged) !== before;
    // Our unsaved side survived the merge: put it on disk too, so the other window sees it.
    if (serializeAnnotations(merged) !== serializeAnnotations(theirs)) this.write();
    return { changed, conflicts };
  }

  /** Creates or edits one latent's annotation and saves. Returns merge conflicts met on the way. */
  update(index: number, patch: AnnotationPatch): MergeConflict[] {
    if (!Number.isSafeInteger(index) || index < 0) throw new InputError(this.path, `latent index must be a non-negative integer, got ${index}`);
    if (this.sae.dSae !== undefined && index >= this.sae.dSae) throw new InputError(this.path, `latent ${index} is out of range (the SAE has ${this.sae.dSae} latents)`);
    const { conflicts } = this.sync();
    const now = this.now();
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
    this.current = { ...this.current, annotations: [...this.current.annotations.filter((a) => a.index !== index), entry].sort((a, b) => a.index - b.index) };
    this.write();
    return conflicts;
  }

  remove(index: number): void {
    this.sync();
    this.current = { ...this.current, annotations: this.current.annotations.filter((a) => a.index !== index) };
    this.write();
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
    this.sync();
    const byIndex = new Map(this.current.annotations.map((a) => [a.index, a]));
    let changed = 0;
    for (const a of incoming.annotations) {
      const ours = byIndex.get(a.index);
      const next = ours ? { ...ours, label: ours.label || a.label, description: ours.description || a.description, author: ours.author || a.author } : a;
      if (ours && next.label === ours.label && next.description === ours.description && next.author === ours.author) continue;
      byIndex.set(a.index, next);
      changed++;
    }
    if (changed) {
      this.current = { ...this.current, annotations: [...byIndex.values()].sort((x, y) => x.index - y.index) };
      this.write();
    }
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

  private write(): void {
    if (this.diskError) throw new InputError(this.path, `not saved: the file on disk is malformed (${this.diskError.problem}); fix or remove it first`);
    const text = serializeAnnotations({ ...this.current, sae: { ...this.current.sae, ...stripUndefined(this.sae) } });
    writeFileAtomic(this.path, text);
    this.base = parseAnnotations(text, this.path);
    this.baseText = text;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
