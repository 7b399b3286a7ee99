/**
 * Token ids → the text they stand for, one piece per token, so that a feature page can shade each token
 * and the pieces read as the original text when put side by side.
 *
 * Schemes, told from the tokenizer's own decoder (tokenizer.json) or, for a bare vocabulary, from its
 * tokens:
 * - byte-level BPE (GPT-2 and descendants): every token character stands for one byte through GPT-2's
 *   bytes-to-unicode table (printable bytes map to themselves, the rest to U+0100 onwards), so "Ġ" is a
 *   space and a multi-byte UTF-8 character may be cut across tokens;
 * - SentencePiece: "▁" is a space, `<0xNN>` tokens are raw bytes (byte fallback);
 * - WordPiece: "##" continues a word, any other token starts one (a space before it);
 * - plain: tokens are shown as they are.
 * Bytes go through one UTF-8 decoder across the whole run, so a character cut across tokens appears once,
 * on the token that completes it; the tokens before it are marked `partial`. Special tokens (added tokens
 * flagged special, `<|…|>`, `<s>`, `[CLS]`…) contribute no bytes and are marked `special`.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors';

export type TokenScheme = 'byte-level' | 'sentencepiece' | 'wordpiece' | 'plain';

/** What a decoded piece is, in `DecodedTokens.kinds`. */
export const PIECE = {
  text: 0,
  /** A special token (BOS, EOS, padding…): its content is shown, marked. */
  special: 1,
  /** Bytes of a character that a later token completes: the piece is empty. */
  partial: 2,
  /** An id missing from the vocabulary: shown as <id>. */
  unknown: 3,
} as const;

export interface DecodedTokens {
  /** One piece per token; their concatenation is the decoded text (special tokens included as written). */
  texts: string[];
  kinds: Uint8Array;
}

/** GPT-2's bytes_to_unicode: byte → the character standing for it in a byte-level vocabulary. */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return table;
}

let unicodeToByte: Map<string, number> | undefined;
function byteOfChar(): Map<string, number> {
  if (!unicodeToByte) {
    unicodeToByte = new Map();
    bytesToUnicode().forEach((ch, b) => unicodeToByte!.set(ch, b));
  }
  return unicodeToByte;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const SP_BYTE = /^<0x([0-9A-Fa-f]{2})>$/;
const LOOKS_SPECIAL = /^(<\|[^|]*\|>|<\/?s>|<(unk|pad|bos|eos|mask|sep|cls)>|\[(CLS|SEP|PAD|UNK|MASK|BOS|EOS)\])$/i;

/** Bytes of one token under a scheme (byte-level chars outside the table are taken as their UTF-8). */
function tokenBytes(tok: string, scheme: TokenScheme, first: boolean): Uint8Array {
  if (scheme === 'byte-level') {
    const table = byteOfChar();
    const out: number[] = [];
    for (const ch of tok) {
      const b = table.get(ch);
      if (b !== undefined) out.push(b); else out.push(...utf8.encode(ch));
    }
    return Uint8Array.from(out);
  }
  if (scheme === 'sentencepiece') {
    const m = SP_BYTE.exec(tok);
    if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    return utf8.encode(tok.replace(/▁/g, ' '));
  }
  if (scheme === 'wordpiece') return utf8.encode(tok.startsWith('##') ? tok.slice(2) : first ? tok : ` ${tok}`);
  return utf8.encode(tok);
}

/** Incremental UTF-8: bytes in, completed characters out; malformed bytes become U+FFFD. */
class Utf8Stream {
  private cp = 0;
  private need = 0;
  /** Bytes of a character started but not finished. */
  get pending(): boolean { return this.need > 0; }
  push(b: number): string {
    if (this.need > 0) {
      if ((b & 0xc0) === 0x80) {
        this.cp = (this.cp << 6) | (b & 0x3f);
        return --this.need === 0 ? String.fromCodePoint(this.cp) : '';
      }
      this.need = 0;
      return '\uFFFD' + this.push(b);
    }
    if (b < 0x80) return String.fromCharCode(b);
    if (b >= 0xc2 && b <= 0xdf) { this.cp = b & 0x1f; this.need = 1; return ''; }
    if (b >= 0xe0 && b <= 0xef) { this.cp = b & 0x0f; this.need = 2; return ''; }
    if (b >= 0xf0 && b <= 0xf4) { this.cp = b & 0x07; this.need = 3; return ''; }
    return '\uFFFD';
  }
  /** Drops an unfinished character (a window that ends or starts inside one). */
  reset(): boolean { const had = this.need > 0; this.need = 0; return had; }
}

export class TokenDecoder {
  constructor(
    readonly vocab: Map<number, string>,
    readonly scheme: TokenScheme,
    readonly specials: Set<number>,
    /** The tokenizer.json or vocab.json it came from. */
    readonly path: string,
  ) {}

  /**
   * Decodes ids[from, to). Tokens from `lead` (≤ from) on are decoded too, so that a character begun
   * before the window is completed inside it, but only [from, to) is returned.
   */
  decode(ids: ArrayLike<number>, from = 0, to = ids.length, lead = from): DecodedTokens {
    const texts: string[] = [], kinds = new Uint8Array(to - from);
    const stream = new Utf8Stream();
    for (let t = lead; t < to; t++) {
      const id = ids[t]!;
      const tok = this.vocab.get(id);
      let text = '', kind: number = PIECE.text;
      if (tok === undefined || this.specials.has(id)) {
        if (stream.reset()) text += '\uFFFD';
        text += tok ?? `<${id}>`;
        kind = tok === undefined ? PIECE.unknown : PIECE.special;
      } else {
        for (const b of tokenBytes(tok, this.scheme, t === 0)) text += stream.push(b);
        if (text === '' && stream.pending) kind = PIECE.partial;
      }
      if (t >= from) { texts.push(text); kinds[t - from] = kind; }
    }
    return { texts, kinds };
  }

  /** One token on its own (logit tables): bytes that do not form whole characters are shown as <0xNN>. */
  token(id: number): string {
    const tok = this.vocab.get(id);
    if (tok === undefined) return `<${id}>`;
    if (this.specials.has(id)) return tok;
    const bytes = tokenBytes(tok, this.scheme, false);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return Array.from(bytes, (b) => (b < 0x80 ? String.fromCharCode(b) : `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)).join('');
    }
  }
}

/** A Hugging Face tokenizer.json (BPE/WordPiece map or Unigram list) or a vocab.json {token: id}. */
export function readTokenizer(path: string): TokenDecoder {
  let json: unknown;
  try { json = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(path, `not readable JSON (${(e as Error).message.split('\n')[0]})`); }
  if (!json || typeof json !== 'object') throw new InputError(path, 'expected a JSON object (tokenizer.json or vocab.json)');
  const vocab = new Map<number, string>();
  const specials = new Set<number>();
  const obj = json as { model?: { vocab?: unknown; type?: unknown; byte_fallback?: unknown }; decoder?: unknown; pre_tokenizer?: unknown; added_tokens?: unknown };
  const table = obj.model && typeof obj.model === 'object' ? obj.model.vocab : json;
  if (Array.isArray(table)) {
    table.forEach((entry, id) => { if (Array.isArray(entry) && typeof entry[0] === 'string') vocab.set(id, entry[0]); });
  } else if (table && typeof table === 'object') {
    for (const [tok, id] of Object.entries(table as Record<string, unknown>)) if (typeof id === 'number' && Number.isInteger(id)) vocab.set(id, tok);
  }
  const added = Array.isArray(obj.added_tokens) ? obj.added_tokens as { id?: unknown; content?: unknown; special?: unknown }[] : [];
  for (const a of added) {
    if (typeof a?.id !== 'number' || typeof a.content !== 'string') continue;
    vocab.set(a.id, a.content);
    if (a.special === true) specials.add(a.id);
  }
  if (vocab.size === 0) throw new InputError(path, 'no vocabulary found (expected model.vocab in tokenizer.json or {token: id} in vocab.json)');
  // a bare vocabulary marks no special tokens: take the usual spellings
  if (added.length === 0) for (const [id, tok] of vocab) if (LOOKS_SPECIAL.test(tok)) specials.add(id);
  return new TokenDecoder(vocab, detectScheme(obj, vocab), specials, path);
}

/** The scheme named by the tokenizer's decoder / pre-tokenizer, else the one its tokens look like. */
function detectScheme(obj: { model?: { type?: unknown; byte_fallback?: unknown }; decoder?: unknown; pre_tokenizer?: unknown }, vocab: Map<number, string>): TokenScheme {
  const types = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.type === 'string') types.add(o.type);
      if (o.type === 'Replace' && JSON.stringify(o.pattern ?? '').includes('▁')) types.add('Metaspace');
      for (const k of ['decoders', 'pretokenizers', 'decoder']) walk(o[k]);
    }
  };
  walk(obj.decoder);
  walk(obj.pre_tokenizer);
  if (types.has('ByteLevel')) return 'byte-level';
  if (types.has('Metaspace') || types.has('ByteFallback') || obj.model?.byte_fallback === true) return 'sentencepiece';
  if (types.has('WordPiece') || obj.model?.type === 'WordPiece') return 'wordpiece';
  let g = 0, sp = 0, wp = 0;
  for (const tok of vocab.values()) {
    if (tok.startsWith('Ġ')) g++;
    else if (tok.startsWith('▁') || SP_BYTE.test(tok)) sp++;
    else if (tok.startsWith('##')) wp++;
  }
  const min = Math.max(1, vocab.size * 0.02);
  if (g >= min && g >= sp) return 'byte-level';
  if (sp >= min) return 'sentencepiece';
  if (wp >= min) return 'wordpiece';
  return 'plain';
}
