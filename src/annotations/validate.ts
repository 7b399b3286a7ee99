/**
 * Parsing and validation of an annotations file. Anything malformed is an InputError naming the file and
 * the first problem; the store then refuses to write over it (a hand edit or a conflicted git merge must
 * never be overwritten by us).
 */
import { InputError } from '../errors';
import { ANNOTATIONS_FORMAT, ANNOTATIONS_VERSION, TEXT_FIELDS } from './types';
import type { AnnotationsFile, LatentAnnotation, Tombstone } from './types';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(source: string, where: string, v: unknown, fallback = ''): string {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new InputError(source, `${where} must be a string, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

/** Labels made from an explanation are cut here (the explanation itself stays whole in the description). */
const LABEL_CHARS = 80;

/**
 * A raw Neuronpedia explanation export (an array of {modelId, layer, index, description,
 * explanationModelName, typeName, …}) as our file's shape: the first explanation of a latent is its
 * description (and, cut short, its label); later ones are kept as alternatives.
 */
function fromNeuronpedia(list: unknown[], source: string): Json {
  const byIndex = new Map<string, Json>();
  let modelId: unknown, layer: unknown;
  list.forEach((e, i) => {
    if (!isObject(e)) throw new InputError(source, `explanation [${i}] is not an object`);
    modelId ??= e.modelId; layer ??= e.layer;
    const key = String(e.index);
    const description = str(source, `explanation [${i}].description`, e.description);
    const author = str(source, `explanation [${i}].explanationModelName`, e.explanationModelName ?? e.author);
    const at = typeof e.createdAt === 'string' ? e.createdAt : '';
    const known = byIndex.get(key);
    if (known) {
      (known.alternatives as unknown[]).push({ field: 'description', value: description, author, updatedAt: at });
      return;
    }
    const label = typeof e.label === 'string' && e.label ? e.label : description.length > LABEL_CHARS ? `${description.slice(0, LABEL_CHARS - 1).trimEnd()}…` : description;
    byIndex.set(key, { index: e.index, label, description, tags: [], author, typeName: e.typeName ?? 'neuronpedia', createdAt: at, updatedAt: at, alternatives: [] });
  });
  const annotations = [...byIndex.values()].map((a) => ((a.alternatives as unknown[]).length ? a : { ...a, alternatives: undefined }));
  return { format: ANNOTATIONS_FORMAT, version: ANNOTATIONS_VERSION, sae: { modelId, hookName: layer }, annotations };
}

/** Parses and checks the text of an annotations file. `dSae`, when known, bounds the latent indices. */
export function parseAnnotations(text: string, source: string, dSae?: number): AnnotationsFile {
  if (text.includes('<<<<<<<') && text.includes('>>>>>>>')) throw new InputError(source, 'has unresolved merge-conflict markers');
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new InputError(source, `invalid JSON (${(e as Error).message.split('\n')[0]})`); }
  if (Array.isArray(raw) || (isObject(raw) && raw.format === undefined && Array.isArray(raw.explanations))) raw = fromNeuronpedia(Array.isArray(raw) ? raw : raw.explanations as unknown[], source);
  if (!isObject(raw)) throw new InputError(source, 'is not a JSON object');
  if (raw.format !== ANNOTATIONS_FORMAT) throw new InputError(source, `"format" must be "${ANNOTATIONS_FORMAT}", got ${JSON.stringify(raw.format)}`);
  if (raw.version !== ANNOTATIONS_VERSION) throw new InputError(source, `unsupported version ${JSON.stringify(raw.version)} (this build reads version ${ANNOTATIONS_VERSION})`);
  if (!Array.isArray(raw.annotations)) throw new InputError(source, '"annotations" must be an array');
  const sae = isObject(raw.sae) ? raw.sae : {};
  const seen = new Set<number>();
  const annotations: LatentAnnotation[] = raw.annotations.map((e: unknown, i: number) => {
    const where = `annotations[${i}]`;
    if (!isObject(e)) throw new InputError(source, `${where} is not an object`);
    // Neuronpedia exports the index as a string.
    const index = typeof e.index === 'string' && /^\d+$/.test(e.index) ? Number(e.index) : e.index;
    if (!Number.isSafeInteger(index) || (index as number) < 0) throw new InputError(source, `${where}.index must be a non-negative integer, got ${JSON.stringify(e.index)}`);
    const idx = index as number;
    if (dSae !== undefined && idx >= dSae) throw new InputError(source, `${where}.index ${idx} is out of range (the SAE has ${dSae} latents)`);
    if (seen.has(idx)) throw new InputError(source, `latent ${idx} appears twice`);
    seen.add(idx);
    const tags = e.tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new InputError(source, `${where}.tags must be an array of strings`);
    const entry: LatentAnnotation = {
      index: idx,
      label: str(source, `${where}.label`, e.label),
      description: str(source, `${where}.description`, e.description),
      tags: [...new Set(tags as string[])],
      author: str(source, `${where}.author`, e.author ?? e.explanationModelName),
      typeName: str(source, `${where}.typeName`, e.typeName, 'human'),
      createdAt: str(source, `${where}.createdAt`, e.createdAt),
      updatedAt: str(source, `${where}.updatedAt`, e.updatedAt),
    };
    if (e.alternatives !== undefined) {
      if (!Array.isArray(e.alternatives)) throw new InputError(source, `${where}.alternatives must be an array`);
      entry.alternatives = e.alternatives.map((a: unknown, j: number) => {
        const w = `${where}.alternatives[${j}]`;
        if (!isObject(a) || !(TEXT_FIELDS as readonly unknown[]).includes(a.field)) throw new InputError(source, `${w} must name one of ${TEXT_FIELDS.join(', ')}`);
        return { field: a.field as (typeof TEXT_FIELDS)[number], value: str(source, `${w}.value`, a.value), author: str(source, `${w}.author`, a.author), updatedAt: str(source, `${w}.updatedAt`, a.updatedAt) };
      });
    }
    return entry;
  });
  annotations.sort((a, b) => a.index - b.index);
  const deleted = parseTombstones(source, raw.deleted, dSae);
  return {
    format: ANNOTATIONS_FORMAT,
    version: ANNOTATIONS_VERSION,
    sae: Object.fromEntries(Object.entries({
      modelId: typeof sae.modelId === 'string' ? sae.modelId : undefined,
      hookName: typeof sae.hookName === 'string' ? sae.hookName : undefined,
      dSae: Number.isSafeInteger(sae.dSae) ? (sae.dSae as number) : undefined,
    }).filter(([, v]) => v !== undefined)),
    annotations,
    ...(deleted.length ? { deleted } : {}),
  };
}

function parseTombstones(source: string, raw: unknown, dSae: number | undefined): Tombstone[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new InputError(source, '"deleted" must be an array');
  const seen = new Set<number>();
  return raw.map((t: unknown, i: number) => {
    const where = `deleted[${i}]`;
    if (!isObject(t) || !Number.isSafeInteger(t.index) || (t.index as number) < 0) throw new InputError(source, `${where}.index must be a non-negative integer`);
    const index = t.index as number;
    if (dSae !== undefined && index >= dSae) throw new InputError(source, `${where}.index ${index} is out of range (the SAE has ${dSae} latents)`);
    if (seen.has(index)) throw new InputError(source, `latent ${index} appears twice in "deleted"`);
    seen.add(index);
    return { index, deletedAt: str(source, `${where}.deletedAt`, t.deletedAt), author: str(source, `${where}.author`, t.author) };
  }).sort((a, b) => a.index - b.index);
}

/** The file's text: stable key order, one latent per object, sorted by index, so git diffs stay small. */
export function serializeAnnotations(doc: AnnotationsFile): string {
  const annotations = [...doc.annotations].sort((a, b) => a.index - b.index).map((a) => {
    const o: LatentAnnotation = { index: a.index, label: a.label, description: a.description, tags: a.tags, author: a.author, typeName: a.typeName, createdAt: a.createdAt, updatedAt: a.updatedAt };
    if (a.alternatives?.length) o.alternatives = a.alternatives;
    return o;
  });
  const sae: AnnotationsFile['sae'] = {};
  if (doc.sae.modelId !== undefined) sae.modelId = doc.sae.modelId;
  if (doc.sae.hookName !== undefined) sae.hookName = doc.sae.hookName;
  if (doc.sae.dSae !== undefined) sae.dSae = doc.sae.dSae;
  const deleted = [...(doc.deleted ?? [])].sort((a, b) => a.index - b.index).map((t) => ({ index: t.index, deletedAt: t.deletedAt, author: t.author }));
  return JSON.stringify({ format: doc.format, version: doc.version, sae, annotations, ...(deleted.length ? { deleted } : {}) }, null, 2) + '\n';
}
