import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToUnicode, PIECE, readTokenizer } from '../../../src/tokens/decode';

/** A byte-level vocabulary token for a UTF-8 byte string (what GPT-2's tokenizer stores). */
function byteLevel(bytes: Uint8Array): string {
  const table = bytesToUnicode();
  return Array.from(bytes, (b) => table[b]!).join('');
}

function writeJson(value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-tok-'));
  const p = join(dir, 'tokenizer.json');
  writeFileSync(p, JSON.stringify(value));
  return p;
}

test('bytes_to_unicode maps printable bytes to themselves and the rest from U+0100 on, one to one', () => {
  const t = bytesToUnicode();
  assert.equal(t[0x41], 'A');
  assert.equal(t[0x20], 'Ġ'); // space: the 33rd non-printable byte → U+0120
  assert.equal(t[0x0a], 'Ċ');
  assert.equal(t[0x00], '\u0100');
  assert.equal(new Set(t).size, 256);
});

test('byte-level BPE: spaces from Ġ, a multi-byte character cut across tokens shown once on the token that completes it', () => {
  const enc = new TextEncoder();
  const cafe = enc.encode(' café'); // 20 63 61 66 c3 a9
  const emoji = enc.encode(' 😀'); // 20 f0 9f 98 80
  const vocab: Record<string, number> = {
    [byteLevel(cafe.subarray(0, 5))]: 0, // ' caf' + first byte of é
    [byteLevel(cafe.subarray(5))]: 1, // second byte of é
    [byteLevel(enc.encode('Hello'))]: 2,
    [byteLevel(emoji.subarray(0, 3))]: 3, // ' ' + 2 of 4 bytes
    [byteLevel(emoji.subarray(3))]: 4,
    [byteLevel(enc.encode('\n'))]: 5,
  };
  const path = writeJson({ model: { type: 'BPE', vocab }, decoder: { type: 'ByteLevel' }, added_tokens: [{ id: 6, content: '<|endoftext|>', special: true }] });
  const dec = readTokenizer(path);
  assert.equal(dec.scheme, 'byte-level');
  const { texts, kinds } = dec.decode([6, 2, 0, 1, 3, 4, 5]);
  assert.deepEqual(texts, ['<|endoftext|>', 'Hello', ' caf', 'é', ' ', '😀', '\n']);
  assert.deepEqual(Array.from(kinds), [PIECE.special, PIECE.text, PIECE.text, PIECE.text, PIECE.text, PIECE.text, PIECE.text]);
  // token 3 holds ' ' and the first two bytes of the emoji: its text is the space
  assert.deepEqual(dec.decode([3, 4]).texts, [' ', '😀']);
  const cut = dec.decode([2, 4]);
  assert.deepEqual(cut.texts, ['Hello', '\uFFFD\uFFFD'], 'continuation bytes without their lead are replacement characters');
  // a window that starts inside a character: the lead token completes it but is not returned
  const window = dec.decode([2, 0, 1, 2], 2, 4, 1);
  assert.deepEqual(window.texts, ['é', 'Hello']);
  assert.equal(dec.decode([0]).kinds[0], PIECE.text);
  assert.equal(dec.token(1), '<0xA9>', 'a lone continuation byte is shown as its byte');
  assert.equal(dec.token(0), ' caf<0xC3>');
  assert.equal(dec.decode([99]).texts[0], '<99>');
  assert.equal(dec.decode([99]).kinds[0], PIECE.unknown);
});

test('a token holding only the first bytes of a character is marked partial', () => {
  const enc = new TextEncoder();
  const e = enc.encode('é');
  const dec = readTokenizer(writeJson({ model: { vocab: { [byteLevel(e.subarray(0, 1))]: 0, [byteLevel(e.subarray(1))]: 1, a: 2 } }, decoder: { type: 'ByteLevel' } }));
  const { texts, kinds } = dec.decode([2, 0, 1]);
  assert.deepEqual(texts, ['a', '', 'é']);
  assert.equal(kinds[1], PIECE.partial);
  assert.equal(texts.join(''), 'aé');
});

test('SentencePiece: ▁ is a space and <0xNN> byte-fallback tokens assemble multi-byte characters', () => {
  const vocab = [['<unk>', 0], ['<s>', 0], ['</s>', 0], ['▁Le', 0], ['▁ch', 0], ['at', 0], ['<0xE2>', 0], ['<0x82>', 0], ['<0xAC>', 0], ['▁', 0], ['<0x0A>', 0]];
  const dec = readTokenizer(writeJson({
    model: { type: 'Unigram', vocab, byte_fallback: true },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }] },
    added_tokens: [{ id: 1, content: '<s>', special: true }, { id: 2, content: '</s>', special: true }],
  }));
  assert.equal(dec.scheme, 'sentencepiece');
  const { texts, kinds } = dec.decode([1, 3, 4, 5, 9, 6, 7, 8, 10, 2]);
  assert.deepEqual(texts, ['<s>', ' Le', ' ch', 'at', ' ', '', '', '€', '\n', '</s>']);
  assert.deepEqual(Array.from(kinds), [1, 0, 0, 0, 0, 2, 2, 0, 0, 1]);
  assert.equal(texts.slice(1, -1).join(''), ' Le chat €\n');
});

test('WordPiece continues words on ## and a bare vocabulary is told apart by its tokens', () => {
  const wp = readTokenizer(writeJson({ model: { type: 'WordPiece', vocab: { '[CLS]': 0, play: 1, '##ing': 2, fast: 3 } }, decoder: { type: 'WordPiece', prefix: '##' } }));
  assert.equal(wp.scheme, 'wordpiece');
  assert.equal(wp.decode([0, 1, 2, 3]).texts.join(''), '[CLS] playing fast');
  assert.equal(wp.decode([0]).kinds[0], PIECE.special, 'bracketed spellings count as special in a vocabulary without added tokens');
  const dir = mkdtempSync(join(tmpdir(), 'saewb-tok-'));
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ cat: 0, dog: 1, '<pad>': 2 }));
  const plain = readTokenizer(join(dir, 'vocab.json'));
  assert.equal(plain.scheme, 'plain');
  assert.equal(plain.decode([2]).kinds[0], PIECE.special);
  const gpt = Object.fromEntries(['Ġthe', 'Ġa', 'Ġof', 'x'].map((t, i) => [t, i]));
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(gpt));
  assert.equal(readTokenizer(join(dir, 'vocab.json')).scheme, 'byte-level', 'a GPT-2 vocab.json without tokenizer.json still decodes bytes');
});

test('an unreadable tokenizer names the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-tok-'));
  const p = join(dir, 'tokenizer.json');
  writeFileSync(p, '{ nope');
  assert.throws(() => readTokenizer(p), (e: Error) => e.message.includes(p) && /not readable JSON/.test(e.message));
  writeFileSync(p, '{"model": {"vocab": {}}}');
  assert.throws(() => readTokenizer(p), /no vocabulary found/);
});
