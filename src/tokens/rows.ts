/**
 * What an activation row stands for in text: its token id (with the tokenizer that decodes it and the
 * document or sequence it sits in), or a label of its own (a word per embedding row), and the model's
 * unembedding W_U for logit effects. `rowTextFor` is the one place that finds these beside the data:
 * - token ids: `<stem>.tokens.npy`, `<stem>_tokens.npy`, `tokens.npy` or `token_ids.npy`, one per row
 *   ([rows] or [sequences, context], the latter marking sequences);
 * - a tokenizer: `tokenizer.json` or `vocab.json`;
 * - row labels: `<stem>.labels.json|txt`, `labels.json` (an array of strings) or `labels.txt` (one a line);
 * - W_U: `W_U.safetensors` or `W_U.npy`.
 * A capture folder (src/io/shards.ts) carries its token ids, documents, tokenizer and W_U itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors';
import { readNpy } from '../io/npy';
import { isCapture, openCapture, readRowTokens } from '../io/shards';
import { toFloat32 } from '../io/tensor';
import { readTokenizer } from './decode';
import type { TokenDecoder } from './decode';

export interface RowTokens {
  /** Token id of every activation row. */
  ids: Int32Array;
  idsPath: string;
  decoder: TokenDecoder;
  /**
   * [start, end) of the rows that make up row r's document or sequence (in a capture, clipped to 64 rows
   * either side). Rows of a bare word vocabulary ('plain' tokens with no sequence shape) stand alone.
   */
  documentOf(row: number): [number, number];
}

export interface RowText {
  tokens?: RowTokens;
  /** One label per row (e.g. the word of an embedding row), when the data carries them. */
  labels?: { texts: string[]; path: string };
  /** W_U beside the data, when there is one. */
  unembeddingPath?: string;
  /** Why there are no token contexts (said on the page). */
  noTokens?: string;
}

function findBeside(path: string, names: string[]): string | undefined {
  for (const n of names) {
    const p = join(dirname(path), n);
    if (p !== path && existsSync(p)) return p;
  }
  return undefined;
}

const stemOf = (path: string): string => basename(path).replace(/\.(npy|safetensors)$/i, '');

const TOKEN_ID_FILES = (stem: string): string[] => [`${stem}.tokens.npy`, `${stem}_tokens.npy`, 'tokens.npy', 'token_ids.npy'];
const VOCABULARY_FILES = ['tokenizer.json', 'vocab.json'];

/** The token ids and vocabulary files beside an activation file (what an SAE records as its data's text). */
export function tokenFilesBeside(activations: string): { tokenIds?: string; vocabulary?: string } {
  const tokenIds = findBeside(activations, TOKEN_ID_FILES(stemOf(activations)));
  if (!tokenIds) return {};
  return { tokenIds, vocabulary: findBeside(activations, VOCABULARY_FILES) };
}

/**
 * Token ids, tokenizer, row labels and W_U for an activation file of `rows` rows (`seqLen` when the
 * file itself is [sequences, context, d]). Files that are present but do not fit raise an InputError
 * naming them; absent files are simply absent.
 */
export function rowTextFor(activations: string, rows: number, seqLen?: number): RowText {
  if (isCapture(activations)) return captureText(activations, rows);
  const stem = stemOf(activations);
  const out: RowText = {
    unembeddingPath: findBeside(activations, ['W_U.safetensors', 'W_U.npy']),
    labels: readRowLabels(activations, stem, rows),
  };
  const idsPath = findBeside(activations, TOKEN_ID_FILES(stem));
  const vocabPath = findBeside(activations, VOCABULARY_FILES);
  if (!idsPath) { out.noTokens = `no token ids beside ${basename(activations)} (tokens.npy)`; return out; }
  const t = readNpy(idsPath);
  if (t.dtype !== 'I32' && t.dtype !== 'I64' && t.dtype !== 'I16' && t.dtype !== 'U8') throw new InputError(idsPath, `token ids must be integers, got ${t.dtype}`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (count !== rows) throw new InputError(idsPath, `has ${count} token ids but ${basename(activations)} has ${rows} rows`);
  if (!vocabPath) { out.noTokens = `token ids found (${basename(idsPath)}) but no tokenizer.json or vocab.json beside them`; return out; }
  const ids = Int32Array.from(toFloat32(t), (v) => Math.round(v));
  const decoder = readTokenizer(vocabPath);
  const seq = seqLen ?? (t.shape.length === 2 ? t.shape[1] : undefined);
  const documentOf = (row: number): [number, number] => {
    if (seq) { const s = row - (row % seq); return [s, Math.min(rows, s + seq)]; }
    return decoder.scheme === 'plain' ? [row, row + 1] : [0, rows];
  };
  out.tokens = { ids, idsPath, decoder, documentOf };
  return out;
}

function readRowLabels(activations: string, stem: string, rows: number): RowText['labels'] {
  const path = findBeside(activations, [`${stem}.labels.json`, `${stem}.labels.txt`, 'labels.json', 'labels.txt']);
  if (!path) return undefined;
  let texts: string[];
  if (path.endsWith('.json')) {
    let json: unknown;
    try { json = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(path, `not readable JSON (${(e as Error).message.split('\n')[0]})`); }
    if (!Array.isArray(json)) throw new InputError(path, 'row labels must be a JSON array with one label per activation row');
    texts = json.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  } else {
    texts = readFileSync(path, 'utf8').split(/\r?\n/);
    // a final newline ends the last line; it does not start another
    if (texts[texts.length - 1] === '') texts.pop();
  }
  if (texts.length !== rows) throw new InputError(path, `has ${texts.length} row labels but ${basename(activations)} has ${rows} rows`);
  return { texts, path };
}

/** Rows either side of a row that documentOf looks at in a capture (windows need far fewer). */
const DOC_SCAN = 64;

/** A capture folder carries token ids, documents, the tokenizer and W_U itself (src/io/shards.ts). */
function captureText(path: string, rows: number): RowText {
  const cap = openCapture(path);
  if (cap.rows !== rows) throw new InputError(cap.manifestPath, `lists ${cap.rows} rows but the activations have ${rows}`);
  const out: RowText = { unembeddingPath: cap.wUPath };
  if (!cap.tokenizerPath) { out.noTokens = `the capture ${basename(cap.folder)} saved no tokenizer`; return out; }
  const { tokenIds, doc } = readRowTokens(cap, 0, cap.rows);
  const decoder = readTokenizer(cap.tokenizerPath);
  // a document's rows are consecutive; look no further than DOC_SCAN rows either side
  const documentOf = (row: number): [number, number] => {
    let lo = row, hi = row + 1;
    while (lo > 0 && row - lo < DOC_SCAN && doc[lo - 1] === doc[row]) lo--;
    while (hi < rows && hi - row < DOC_SCAN && doc[hi] === doc[row]) hi++;
    return [lo, hi];
  };
  out.tokens = { ids: tokenIds, idsPath: cap.manifestPath, decoder, documentOf };
  return out;
}
