/**
 * The evaluation sample the panels and the report are computed on: a uniform seeded sample of the rows
 * of an activation .npy ([n, d] or [sequences, context, d]) or .safetensors, plus token ids and a vocabulary when they sit beside it
 * (`<stem>.tokens.npy`, `<stem>_tokens.npy`, `tokens.npy` or `token_ids.npy`; `tokenizer.json` or
 * `vocab.json`). Rows with NaN/Inf are left out and counted; `rowIndex` maps sample rows to file rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors';
import { isFloatDType } from '../io/dtype';
import { readNpy, readNpyHeader } from '../io/npy';
import { openRowSource } from '../io/rowReader';
import type { RowSource } from '../io/rowReader';
import { DEFAULT_ROW_SAMPLE, describeSample, readRowsAt, sampleRowIndices } from '../io/rowSample';
import { toFloat32 } from '../io/tensor';

export interface ActivationSample {
  path: string;
  /** Rows [n, d], finite. */
  x: Float32Array;
  n: number;
  d: number;
  /** File row of each sample row. */
  rowIndex: Int32Array;
  /** Tokens per sequence when the file (or the token ids) is [sequences, context]; rows never cross a sequence. */
  seqLen?: number;
  /** Token id of each file row (indexed by file row), when found. */
  tokenIds?: Int32Array;
  /** id → token text, when a vocabulary was found. */
  vocab?: Map<number, string>;
  tokenIdsPath?: string;
  vocabPath?: string;
  skippedNonFinite: number;
  /** Rows in the whole file. */
  totalRows: number;
  /** What the sample is, in one line ("a uniform sample of 4,096 of 20,000 rows (seed 0)"). */
  description: string;
}

/**
 * Reads the evaluation sample of an activation file: a uniform seeded sample of up to maxRows rows
 * (src/io/rowSample.ts — the same rows every panel, the report, diagnose and tree use), rows with NaN/Inf
 * left out and counted. `.npy` ([n, d] or [sequences, context, d]) or a 2-D `.safetensors` tensor.
 */
export function readActivationSample(path: string, maxRows: number, expectDim?: number, seed = DEFAULT_ROW_SAMPLE.seed): ActivationSample {
  const { source, seqLen } = activationRowSource(path);
  const d = source.dIn;
  if (expectDim !== undefined && d !== expectDim) throw new InputError(path, `activation width ${d} does not match the SAE's d_in ${expectDim}`);
  const rowsInFile = source.rows;
  if (rowsInFile === 0) throw new InputError(path, 'the activation file has no rows');
  const indices = sampleRowIndices(rowsInFile, { rows: maxRows, seed });
  const take = indices.length;
  const raw = readRowsAt(source, indices);
  const keep: number[] = [];
  for (let r = 0; r < take; r++) {
    let ok = true;
    for (let j = 0; j < d; j++) if (!Number.isFinite(raw[r * d + j]!)) { ok = false; break; }
    if (ok) keep.push(r);
  }
  if (keep.length === 0) throw new InputError(path, `none of the ${take} sampled rows is finite (all contain NaN or Inf)`);
  const x = keep.length === take ? raw : new Float32Array(keep.length * d);
  if (x !== raw) keep.forEach((r, i) => x.set(raw.subarray(r * d, (r + 1) * d), i * d));
  const sample: ActivationSample = {
    path, x, n: keep.length, d, rowIndex: Int32Array.from(keep, (r) => indices[r]!), skippedNonFinite: take - keep.length,
    totalRows: rowsInFile, description: describeSample(rowsInFile, take, seed), seqLen,
  };
  attachTokens(sample, rowsInFile);
  return sample;
}

/** The rows of an activation file as a row source; a 3-D .npy [sequences, context, d] is read as its rows. */
function activationRowSource(path: string): { source: RowSource; seqLen?: number } {
  const lower = path.toLowerCase();
  if (lower.endsWith('.safetensors')) return { source: openRowSource(path) };
  if (!lower.endsWith('.npy')) throw new InputError(path, 'activations must be a .npy ([tokens, d] or [sequences, context, d]) or .safetensors file');
  const h = readNpyHeader(path);
  if (!isFloatDType(h.dtype)) throw new InputError(path, `activations must be floating point, got ${h.dtype}`);
  if (h.shape.length !== 2 && h.shape.length !== 3) throw new InputError(path, `activations must be 2-D [tokens, d] or 3-D [sequences, context, d], got shape [${h.shape.join(', ')}]`);
  const d = h.shape[h.shape.length - 1]!;
  const rows = h.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return { source: { path, dtype: h.dtype, rows, dIn: d, dataStart: h.dataStart }, seqLen: h.shape.length === 3 ? h.shape[1] : undefined };
}

function findBeside(path: string, names: string[]): string | undefined {
  for (const n of names) {
    const p = join(dirname(path), n);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The token ids and vocabulary found beside an activation file (the names listed at the top). */
export function tokenFilesBeside(path: string): { tokenIds?: string; vocabulary?: string } {
  const stem = basename(path).replace(/\.(npy|safetensors)$/i, '');
  const tokenIds = findBeside(path, [`${stem}.tokens.npy`, `${stem}_tokens.npy`, 'tokens.npy', 'token_ids.npy']);
  if (!tokenIds || tokenIds === path) return {};
  return { tokenIds, vocabulary: findBeside(path, ['tokenizer.json', 'vocab.json']) };
}

function attachTokens(s: ActivationSample, rowsInFile: number): void {
  const { tokenIds: idsPath, vocabulary: vocabPath } = tokenFilesBeside(s.path);
  if (!idsPath) return;
  const t = readNpy(idsPath);
  if (t.dtype !== 'I32' && t.dtype !== 'I64' && t.dtype !== 'I16' && t.dtype !== 'U8') throw new InputError(idsPath, `token ids must be integers, got ${t.dtype}`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (count !== rowsInFile) throw new InputError(idsPath, `has ${count} token ids but ${s.path} has ${rowsInFile} rows`);
  const ids = Int32Array.from(toFloat32(t), (v) => Math.round(v));
  s.tokenIds = ids;
  s.tokenIdsPath = idsPath;
  if (t.shape.length === 2 && s.seqLen === undefined) s.seqLen = t.shape[1];
  if (vocabPath) {
    s.vocab = readVocabulary(vocabPath);
    s.vocabPath = vocabPath;
  }
}

/** A Hugging Face tokenizer.json (BPE/WordPiece map or Unigram list) or a vocab.json {token: id}. */
export function readVocabulary(path: string): Map<number, string> {
  let json: unknown;
  try { json = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(path, `not readable JSON (${(e as Error).message.split('\n')[0]})`); }
  const out = new Map<number, string>();
  const model = (json as { model?: { vocab?: unknown } }).model;
  const vocab = model && typeof model === 'object' ? model.vocab : json;
  if (Array.isArray(vocab)) {
    vocab.forEach((entry, id) => { if (Array.isArray(entry) && typeof entry[0] === 'string') out.set(id, entry[0]); });
  } else if (vocab && typeof vocab === 'object') {
    for (const [tok, id] of Object.entries(vocab as Record<string, unknown>)) if (typeof id === 'number') out.set(id, tok);
  }
  for (const added of ((json as { added_tokens?: unknown }).added_tokens as { id?: unknown; content?: unknown }[] | undefined) ?? []) {
    if (typeof added?.id === 'number' && typeof added.content === 'string') out.set(added.id, added.content);
  }
  if (out.size === 0) throw new InputError(path, 'no vocabulary found (expected model.vocab in tokenizer.json or {token: id} in vocab.json)');
  return out;
}

/** Byte-level BPE and SentencePiece markers shown as the whitespace they stand for. */
export function displayToken(tok: string): string {
  return tok.replace(/Ġ/g, ' ').replace(/Ċ/g, '\n').replace(/ĉ/g, '\t').replace(/▁/g, ' ');
}
