/**
 * Capture folders written by `python -m sae_workbench_capture` (docs/capture.md): a `manifest.json`
 * (format "sae-workbench-activations") and shards `shard_NNNNN.safetensors`, each holding one [rows, d]
 * tensor per site plus `token_ids` (I32), `doc` (I64) and `pos` (I32) for the same rows, and beside them
 * the tokenizer and W_U.
 *
 * To the rest of src/ a capture is one RowSource whose `parts` are the shards' tensors for one site, so
 * the trainer, eval, diagnose, tree, report and panels read it wherever they read a .npy or .safetensors.
 * A site is chosen with the tensor name (`--tensor`) or in the path as `<folder>#<site>`; a capture of
 * one site needs neither.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors';
import { DTYPE_BYTES } from './dtype';
import type { DType } from './dtype';
import { readSafetensorsHeader } from './safetensors';
import type { RowSource } from './rowReader';

export const CAPTURE_FORMAT = 'sae-workbench-activations';
const MANIFEST = 'manifest.json';

export interface CaptureSite { name: string; d: number }

export interface CaptureShard {
  path: string;
  rows: number;
  /** Index of the shard's first row in the whole capture. */
  firstRow: number;
}

export interface Capture {
  folder: string;
  manifestPath: string;
  /** The manifest as written (model, corpus, bos, ... facts for display). */
  manifest: Record<string, unknown>;
  sites: CaptureSite[];
  shards: CaptureShard[];
  rows: number;
  dtype: string;
  contextLength?: number;
  complete: boolean;
  modelName?: string;
  /** tokenizer.json (Hugging Face) or vocab.json beside the shards, when saved. */
  tokenizerPath?: string;
  /** W_U.safetensors ([d_model, d_vocab], tensor "W_U"), when the model has an unembedding. */
  wUPath?: string;
}

/** Token id, document and position in the document of each row of a range (pos -1: a BOS row). */
export interface RowTokens { tokenIds: Int32Array; doc: Int32Array; pos: Int32Array }

/** `<folder>#<site>` → folder and site; any other path → itself. */
export function splitSitePath(path: string): { path: string; site?: string } {
  const hash = path.lastIndexOf('#');
  if (hash > 0 && isCapture(path.slice(0, hash))) return { path: path.slice(0, hash), site: path.slice(hash + 1) };
  return { path };
}

function manifestPathOf(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return existsSync(join(path, MANIFEST)) ? join(path, MANIFEST) : undefined;
  } catch { return undefined; }
  return basename(path) === MANIFEST ? path : undefined;
}

/** True for a capture folder (or its manifest.json, or `<folder>#<site>`). Reads only the manifest's format field. */
export function isCapture(path: string): boolean {
  const hash = path.lastIndexOf('#');
  const m = manifestPathOf(path) ?? (hash > 0 ? manifestPathOf(path.slice(0, hash)) : undefined);
  if (!m) return false;
  try { return (JSON.parse(readFileSync(m, 'utf8')) as { format?: unknown }).format === CAPTURE_FORMAT; } catch { return false; }
}

const nonNegInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Reads and checks a capture's manifest and every listed shard's header. */
export function openCapture(path: string): Capture {
  const manifestPath = manifestPathOf(splitSitePath(path).path);
  if (!manifestPath) throw new InputError(path, `not a capture folder (no ${MANIFEST})`);
  const folder = dirname(resolve(manifestPath));
  let m: Record<string, unknown>;
  try { m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>; } catch (e) {
    throw new InputError(manifestPath, `not readable JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (m?.format !== CAPTURE_FORMAT) throw new InputError(manifestPath, `not a capture manifest (format ${JSON.stringify(m?.format)}, expected "${CAPTURE_FORMAT}")`);
  if (m.version !== 1) throw new InputError(manifestPath, `capture manifest version ${JSON.stringify(m.version)} is not supported (this version reads 1)`);
  const sites = m.sites as CaptureSite[];
  if (!Array.isArray(sites) || sites.length === 0 || !sites.every((s) => typeof s?.name === 'string' && nonNegInt(s.d) && s.d > 0)) {
    throw new InputError(manifestPath, '"sites" must be a non-empty list of {name, d}');
  }
  const listed = m.shards as { file?: unknown; rows?: unknown }[];
  if (!Array.isArray(listed)) throw new InputError(manifestPath, '"shards" must be a list');
  const shards: CaptureShard[] = [];
  let rows = 0;
  for (const s of listed) {
    if (typeof s?.file !== 'string' || s.file.includes('/') || s.file.includes('\\') || !nonNegInt(s.rows)) {
      throw new InputError(manifestPath, `shard entry ${JSON.stringify(s)} must be {file: a name in the folder, rows: a count}`);
    }
    shards.push({ path: join(folder, s.file), rows: s.rows, firstRow: rows });
    rows += s.rows;
  }
  if (rows === 0) throw new InputError(manifestPath, `the capture has no complete shards yet${m.complete ? '' : ' (it is still running or was stopped before the first shard)'}`);
  const beside = (v: unknown): string | undefined => {
    if (typeof v !== 'string' || v.includes('/') || v.includes('\\')) return undefined;
    return existsSync(join(folder, v)) ? join(folder, v) : undefined;
  };
  const model = m.model as { name?: unknown } | undefined;
  return {
    folder, manifestPath, manifest: m, sites, shards, rows, dtype: String(m.dtype ?? ''),
    contextLength: nonNegInt(m.context_length) ? m.context_length : undefined,
    complete: m.complete === true,
    modelName: typeof model?.name === 'string' ? model.name : undefined,
    tokenizerPath: beside(m.tokenizer), wUPath: beside(m.W_U),
  };
}

/** The site a path and tensor name ask for: `#site`, else the tensor name, else the only site. */
export function chooseSite(cap: Capture, path: string, tensorName?: string): CaptureSite {
  const name = splitSitePath(path).site ?? tensorName;
  const names = cap.sites.map((s) => s.name).join(', ');
  if (name === undefined) {
    if (cap.sites.length === 1) return cap.sites[0]!;
    throw new InputError(path, `the capture holds ${cap.sites.length} sites (${names}); name one as <folder>#<site> or with the tensor option`);
  }
  const site = cap.sites.find((s) => s.name === name);
  if (!site) throw new InputError(path, `the capture has no site '${name}' (has: ${names})`);
  return site;
}

/** One shard's tensor as a row source, checked against the manifest. */
function shardPart(shard: CaptureShard, site: CaptureSite, manifestPath: string): RowSource {
  if (!existsSync(shard.path)) throw new InputError(shard.path, `shard listed in ${manifestPath} is missing`);
  const h = readSafetensorsHeader(shard.path);
  const e = h.entries.get(site.name);
  if (!e) throw new InputError(shard.path, `no tensor for site '${site.name}' (has: ${[...h.entries.keys()].join(', ')})`);
  if (e.shape.length !== 2 || e.shape[0] !== shard.rows || e.shape[1] !== site.d) {
    throw new InputError(shard.path, `site '${site.name}' has shape [${e.shape.join(', ')}], the manifest says [${shard.rows}, ${site.d}]`);
  }
  if (e.dtype !== 'F32' && e.dtype !== 'F16' && e.dtype !== 'BF16' && e.dtype !== 'F64') throw new InputError(shard.path, `site '${site.name}' is ${e.dtype}, not float`);
  return { path: shard.path, dtype: e.dtype, rows: shard.rows, dIn: site.d, dataStart: h.dataStart + e.begin };
}

/** The capture's rows at one site, as one source whose parts are the shards (in row order). */
export function captureRowSource(path: string, tensorName?: string): RowSource {
  const cap = openCapture(path);
  const site = chooseSite(cap, path, tensorName);
  const parts = cap.shards.filter((s) => s.rows > 0).map((s) => shardPart(s, site, cap.manifestPath));
  return { path: splitSitePath(path).path, dtype: parts[0]!.dtype, rows: cap.rows, dIn: site.d, dataStart: parts[0]!.dataStart, parts };
}

// Shard headers, parsed once per shard file while its size and mtime stay the same.
const headers = new Map<string, { key: string; header: ReturnType<typeof readSafetensorsHeader> }>();
function shardHeader(path: string): ReturnType<typeof readSafetensorsHeader> {
  const st = statSync(path);
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = headers.get(path);
  if (hit?.key === key) return hit.header;
  const header = readSafetensorsHeader(path);
  if (headers.size > 4096) headers.clear();
  headers.set(path, { key, header });
  return header;
}

function readIntTensor(path: string, name: string, first: number, count: number, fd: number): Int32Array {
  const h = shardHeader(path);
  const e = h.entries.get(name);
  if (!e) throw new InputError(path, `no '${name}' tensor (token ids, documents and positions are needed for text contexts)`);
  const dtype: DType = e.dtype;
  if (dtype !== 'I32' && dtype !== 'I64') throw new InputError(path, `'${name}' is ${dtype}, expected I32 or I64`);
  const size = DTYPE_BYTES[dtype];
  if (e.shape.length !== 1 || first + count > e.shape[0]!) throw new InputError(path, `'${name}' has shape [${e.shape.join(', ')}], too short for rows ${first}..${first + count - 1}`);
  const buf = new Uint8Array(count * size);
  let got = 0;
  const at = h.dataStart + e.begin + first * size;
  while (got < buf.length) {
    const r = readSync(fd, buf, got, buf.length - got, at + got);
    if (r === 0) throw new InputError(path, `ends inside '${name}' (truncated?)`);
    got += r;
  }
  if (dtype === 'I32') return new Int32Array(buf.buffer, 0, count);
  const wide = new BigInt64Array(buf.buffer, 0, count);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = wide[i]!;
    if (v > 2147483647n || v < -2147483648n) throw new InputError(path, `'${name}' value ${v} at row ${first + i} is out of range`);
    out[i] = Number(v);
  }
  return out;
}

/** Token id, document and position of rows [first, first + count) of the whole capture. */
export function readRowTokens(cap: Capture, first: number, count: number): RowTokens {
  if (!nonNegInt(first) || !nonNegInt(count) || first + count > cap.rows) throw new RangeError(`rows ${first}..${first + count - 1} are outside the capture's ${cap.rows} rows`);
  const out: RowTokens = { tokenIds: new Int32Array(count), doc: new Int32Array(count), pos: new Int32Array(count) };
  for (const shard of cap.shards) {
    const lo = Math.max(first, shard.firstRow), hi = Math.min(first + count, shard.firstRow + shard.rows);
    if (lo >= hi) continue;
    const fd = openSync(shard.path, 'r');
    try {
      out.tokenIds.set(readIntTensor(shard.path, 'token_ids', lo - shard.firstRow, hi - lo, fd), lo - first);
      out.doc.set(readIntTensor(shard.path, 'doc', lo - shard.firstRow, hi - lo, fd), lo - first);
      out.pos.set(readIntTensor(shard.path, 'pos', lo - shard.firstRow, hi - lo, fd), lo - first);
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/**
 * Token id, document and position of the given rows (sorted ascending, as a row sample's indices are):
 * per shard, one read per tensor over the span the indices cover.
 */
export function readRowTokensAt(cap: Capture, indices: Int32Array): RowTokens {
  const out: RowTokens = { tokenIds: new Int32Array(indices.length), doc: new Int32Array(indices.length), pos: new Int32Array(indices.length) };
  let i = 0;
  for (const shard of cap.shards) {
    let j = i;
    while (j < indices.length && indices[j]! < shard.firstRow + shard.rows) j++;
    if (j === i) continue;
    if (indices[i]! < shard.firstRow) throw new RangeError(`row indices must be sorted ascending and non-negative (got ${indices[i]})`);
    const lo = indices[i]!, span = readRowTokens(cap, lo, indices[j - 1]! - lo + 1);
    for (let k = i; k < j; k++) {
      out.tokenIds[k] = span.tokenIds[indices[k]! - lo]!;
      out.doc[k] = span.doc[indices[k]! - lo]!;
      out.pos[k] = span.pos[indices[k]! - lo]!;
    }
    i = j;
  }
  if (i < indices.length) throw new RangeError(`row ${indices[i]} is outside the capture's ${cap.rows} rows`);
  return out;
}

/**
 * What an SAE trained on capture rows records about them (SAELens cfg.metadata): model and hook from the
 * manifest, the capture folder as dataset_path. A transcoder's target site is its hook_name_out.
 */
export function captureProvenance(input: string, tensorName?: string, target?: string): {
  modelName?: string; hookName?: string; hookNameOut?: string; metadata: Record<string, unknown>;
} | undefined {
  if (!isCapture(input)) return undefined;
  const cap = openCapture(input);
  const site = chooseSite(cap, input, tensorName);
  const out = isCapture(target ?? '') ? chooseSite(openCapture(target!), target!, tensorName) : undefined;
  const bos = cap.manifest.bos as { id?: unknown } | undefined;
  return {
    modelName: cap.modelName, hookName: site.name, ...(out && out.name !== site.name ? { hookNameOut: out.name } : {}),
    metadata: {
      dataset_path: cap.folder,
      ...(cap.contextLength !== undefined ? { context_size: cap.contextLength } : {}),
      ...(bos && typeof bos === 'object' ? { prepend_bos: typeof bos.id === 'number' } : {}),
      ...(typeof (cap.manifest.model as { class?: unknown })?.class === 'string' ? { model_class_name: (cap.manifest.model as { class: string }).class } : {}),
    },
  };
}

/**
 * The SAE cfg fields (camelCase, as src/sae/types names them) that record a capture as the training
 * data: {} when `input` is not a capture. `metadata` is the cfg's metadata, returned with the capture's
 * facts merged into its SAELens `metadata` block.
 */
export function captureCfgFacts(metadata: Record<string, unknown>, input: string, tensorName?: string, target?: string): {
  modelName?: string; hookName?: string; hookNameOut?: string; metadata?: Record<string, unknown>;
} {
  const p = captureProvenance(input, tensorName, target);
  if (!p) return {};
  return {
    modelName: p.modelName, hookName: p.hookName, ...(p.hookNameOut ? { hookNameOut: p.hookNameOut } : {}),
    metadata: { ...metadata, metadata: { ...(metadata.metadata as Record<string, unknown> | undefined), ...p.metadata } },
  };
}

/** What `inspect` shows of a capture. */
export interface CaptureFacts {
  model: string | null; sites: CaptureSite[]; rows: number; shards: number; dtype: string;
  context_length: number | null; tokenizer: string | null; W_U: string | null; complete: boolean; corpus: unknown;
}

export function captureFacts(path: string): CaptureFacts {
  const cap = openCapture(path);
  return {
    model: cap.modelName ?? null, sites: cap.sites, rows: cap.rows, shards: cap.shards.length, dtype: cap.dtype,
    context_length: cap.contextLength ?? null, tokenizer: cap.tokenizerPath ? basename(cap.tokenizerPath) : null,
    W_U: cap.wUPath ? basename(cap.wUPath) : null, complete: cap.complete, corpus: cap.manifest.corpus ?? null,
  };
}

/** What a workspace lists for a capture folder: one entry per site (`<folder>#<site>` when there are several); [] when unreadable. */
export function captureEntries(folder: string): { path: string; name: string; manifest: string }[] {
  try {
    const cap = openCapture(folder);
    const one = cap.sites.length === 1;
    return cap.sites.map((s) => ({
      path: one ? cap.folder : `${cap.folder}#${s.name}`, name: one ? basename(cap.folder) : `${basename(cap.folder)}#${s.name}`, manifest: cap.manifestPath,
    }));
  } catch {
    return [];
  }
}
