/**
 * The annotations of one SAE: a JSON file beside its weights, one entry per latent, field names
 * compatible with Neuronpedia's explanation export (`index`, `description`, `typeName`, `modelId`,
 * `layer`, `explanationModelName`) plus ours (`label`, `tags`, `author`, timestamps). Plain JSON so that it
 * diffs and merges in git.
 */
export const ANNOTATIONS_FILE = 'annotations.json';
export const ANNOTATIONS_FORMAT = 'sae-workbench.annotations';
export const ANNOTATIONS_VERSION = 1;

/** The fields a user edits; the three-way merge works per latent and per one of these fields. */
export const TEXT_FIELDS = ['label', 'description', 'typeName', 'author'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

export interface LatentAnnotation {
  /** Latent index (Neuronpedia writes it as a string; we keep it a number and convert on export). */
  index: number;
  /** A short name shown in lists, e.g. "French nouns". */
  label: string;
  /** What the latent does, in sentences (Neuronpedia's `description`). */
  description: string;
  tags: string[];
  /** Who wrote it: a person, or a model for auto-interp (Neuronpedia's `explanationModelName`). */
  author: string;
  /** Where the explanation came from: 'human' for ours; Neuronpedia's types pass through. */
  typeName: string;
  /** ISO-8601 times. */
  createdAt: string;
  updatedAt: string;
  /**
   * Values that lost a concurrent edit (two sides changed the same field differently): kept here rather
   * than dropped, so a merge never loses what someone wrote.
   */
  alternatives?: { field: TextField; value: string; author: string; updatedAt: string }[];
}

export interface AnnotationsFile {
  format: typeof ANNOTATIONS_FORMAT;
  version: typeof ANNOTATIONS_VERSION;
  /** Which SAE these belong to (informational; the file sits beside the SAE). */
  sae: { modelId?: string; hookName?: string; dSae?: number };
  /** Sorted by index, at most one entry per latent. */
  annotations: LatentAnnotation[];
  /**
   * Tombstones: latents whose annotation was deleted, and when. A latent merely missing from a file is
   * never taken as deleted (it may be a stale copy written by a tool that had not seen it yet); a
   * deletion is only this explicit record. An annotation edited after `deletedAt` outlives it.
   */
  deleted?: Tombstone[];
}

export interface Tombstone { index: number; deletedAt: string; author: string }

export function emptyAnnotations(sae: AnnotationsFile['sae'] = {}): AnnotationsFile {
  return { format: ANNOTATIONS_FORMAT, version: ANNOTATIONS_VERSION, sae, annotations: [] };
}
