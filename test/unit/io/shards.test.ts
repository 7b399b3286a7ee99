import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRowReader, openRowSource } from '../../../src/io/rowReader';
import { readRowsAt } from '../../../src/io/rowSample';
import { captureCfgFacts, captureEntries, isCapture, openCapture, readRowTokens, readRowTokensAt } from '../../../src/io/shards';
import { readActivationSample } from '../../../src/views/activations';
import { rowTextFor } from '../../../src/tokens/rows';
import { writeFakeCapture } from '../../helpers/capture';

const root = mkdtempSync(join(tmpdir(), 'shards-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => { const d = join(root, String(n++)); mkdirSync(d); return d; };

test('a capture folder is one row source over its shards, at the site asked for', () => {
  const cap = writeFakeCapture(fresh(), { shardRows: [5, 0, 9, 4], sites: ['blocks.0', 'blocks.1.mlp:input'], d: 3 });
  assert.ok(isCapture(cap.dir) && isCapture(join(cap.dir, 'manifest.json')) && isCapture(`${cap.dir}#blocks.0`));
  const src = openRowSource(`${cap.dir}#blocks.1.mlp:input`);
  assert.equal(src.rows, 18);
  assert.equal(src.dIn, 3);
  const all = readRowsAt(src, Int32Array.from({ length: 18 }, (_, i) => i));
  for (let r = 0; r < 18; r++) for (let j = 0; j < 3; j++) assert.ok(Math.abs(all[r * 3 + j]! - cap.value(1, r, j)) < 1e-5, `row ${r}`);
  // indices spanning shard boundaries, read only where asked
  const some = readRowsAt(openRowSource(cap.dir, 'blocks.0'), Int32Array.from([0, 4, 5, 13, 14, 17]));
  assert.deepEqual([...some.filter((_, i) => i % 3 === 0)].map((v) => Math.round(v)), [0, 4, 5, 13, 14, 17]);
  assert.throws(() => readRowsAt(src, Int32Array.from([18])), /outside \[0, 18\)/);
});

test('the streaming reader serves every captured row once per epoch, bf16 converted', () => {
  const cap = writeFakeCapture(fresh(), { shardRows: [6, 7, 3], sites: ['h'], d: 4, dtype: 'BF16' });
  const reader = openRowReader([cap.dir], { shuffle: true, loop: false, seed: 5, chunkRows: 2 });
  assert.equal(reader.totalRows, 16);
  const out = new Float32Array(16 * 4);
  assert.equal(reader.next(out, 16), 16);
  reader.close();
  const seen = [...out.filter((_, i) => i % 4 === 0)].map(Math.round).sort((a, b) => a - b);
  assert.deepEqual(seen, Array.from({ length: 16 }, (_, i) => i));
});

test('token ids, documents and positions of a row range that crosses shards', () => {
  const cap = writeFakeCapture(fresh(), { shardRows: [5, 9, 4], sites: ['h'], d: 2 });
  const c = openCapture(cap.dir);
  assert.equal(c.rows, 18);
  assert.ok(c.tokenizerPath?.endsWith('tokenizer.json') && c.wUPath?.endsWith('W_U.safetensors'));
  const t = readRowTokens(c, 3, 10);
  for (let i = 0; i < 10; i++) {
    assert.equal(t.tokenIds[i], cap.tokenId(3 + i));
    assert.equal(t.doc[i], cap.doc(3 + i));
    assert.equal(t.pos[i], cap.pos(3 + i));
  }
  assert.throws(() => readRowTokens(c, 15, 4), RangeError);
  const at = Int32Array.from([0, 4, 5, 13, 14, 17]);
  const picked = readRowTokensAt(c, at);
  assert.deepEqual([...picked.tokenIds], [...at].map(cap.tokenId));
  assert.deepEqual([...picked.doc], [...at].map(cap.doc));
  assert.deepEqual([...picked.pos], [...at].map(cap.pos));
  assert.throws(() => readRowTokensAt(c, Int32Array.from([3, 18])), /row 18 is outside/);
});

test('the report sample of a capture is a uniform sample of its rows, and its text comes with it (token ids, documents, tokenizer)', () => {
  const cap = writeFakeCapture(fresh(), { shardRows: [40, 30], sites: ['h'], d: 2 });
  const s = readActivationSample(cap.dir, 25, 2);
  assert.equal(s.totalRows, 70);
  assert.equal(s.n, 25);
  for (let i = 0; i < s.n; i++) assert.equal(Math.round(s.x[i * 2]!), s.rowIndex[i]);
  const text = rowTextFor(cap.dir, 70);
  assert.equal(text.tokens?.ids.length, 70);
  const r = s.rowIndex[3]!;
  assert.equal(text.tokens!.ids[r], cap.tokenId(r));
  assert.equal(text.tokens!.decoder.vocab.get(97), 'a');
  const [lo, hi] = text.tokens!.documentOf(r);
  for (let q = lo; q < hi; q++) assert.equal(cap.doc(q), cap.doc(r), 'a document range holds one document');
  if (lo > 0) assert.notEqual(cap.doc(lo - 1), cap.doc(r));
  if (hi < 70) assert.notEqual(cap.doc(hi), cap.doc(r));
  assert.throws(() => rowTextFor(cap.dir, 71), /lists 70 rows but the activations have 71/);
});

test('an SAE trained on a capture records its model, hook and folder', () => {
  const cap = writeFakeCapture(fresh(), { shardRows: [4], sites: ['blocks.1.mlp:input', 'blocks.1.mlp'], d: 2 });
  const facts = captureCfgFacts({ metadata: { kept: 1 } }, `${cap.dir}#blocks.1.mlp:input`, undefined, `${cap.dir}#blocks.1.mlp`);
  assert.equal(facts.modelName, 'toy_model:make');
  assert.equal(facts.hookName, 'blocks.1.mlp:input');
  assert.equal(facts.hookNameOut, 'blocks.1.mlp');
  assert.deepEqual(facts.metadata, { metadata: { kept: 1, dataset_path: cap.dir, context_size: 32, prepend_bos: true, model_class_name: 'ToyTransformer' } });
  assert.deepEqual(captureCfgFacts({}, join(cap.dir, 'shard_00000.safetensors'), 'blocks.1.mlp'), {});
});

test('bad capture folders get one line naming the file and the problem', () => {
  const two = writeFakeCapture(fresh(), { shardRows: [4, 4], sites: ['a', 'b'], d: 2 });
  assert.throws(() => openRowSource(two.dir), /holds 2 sites \(a, b\); name one as <folder>#<site>/);
  assert.throws(() => openRowSource(`${two.dir}#c`), /has no site 'c' \(has: a, b\)/);
  unlinkSync(join(two.dir, 'shard_00001.safetensors'));
  assert.throws(() => openRowSource(two.dir, 'a'), (e: Error) => e.message.includes('shard_00001.safetensors') && /is missing/.test(e.message));

  const bad = writeFakeCapture(fresh(), { shardRows: [4], sites: ['a'], d: 2 });
  const m = JSON.parse(readFileSync(join(bad.dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(bad.dir, 'manifest.json'), JSON.stringify({ ...m, sites: [{ name: 'a', d: 3 }] }));
  assert.throws(() => openRowSource(bad.dir), /site 'a' has shape \[4, 2\], the manifest says \[4, 3\]/);
  writeFileSync(join(bad.dir, 'manifest.json'), JSON.stringify({ ...m, version: 9 }));
  assert.throws(() => openCapture(bad.dir), /version 9 is not supported/);
  writeFileSync(join(bad.dir, 'manifest.json'), JSON.stringify({ ...m, shards: [{ file: '../../etc/passwd', rows: 4 }] }));
  assert.throws(() => openCapture(bad.dir), /must be \{file: a name in the folder/);
  writeFileSync(join(bad.dir, 'manifest.json'), JSON.stringify({ ...m, shards: [], complete: false }));
  assert.throws(() => openCapture(bad.dir), /no complete shards yet \(it is still running/);
});

test('a workspace lists a capture once per site, and nothing for a broken one', () => {
  const one = writeFakeCapture(fresh(), { shardRows: [3], sites: ['h'], d: 2 });
  assert.deepEqual(captureEntries(one.dir), [{ path: one.dir, name: one.dir.split('/').pop(), manifest: join(one.dir, 'manifest.json') }]);
  const two = writeFakeCapture(fresh(), { shardRows: [3], sites: ['a', 'b'], d: 2 });
  assert.deepEqual(captureEntries(two.dir).map((e) => e.path), [`${two.dir}#a`, `${two.dir}#b`]);
  writeFileSync(join(two.dir, 'manifest.json'), '{"format": "sae-workbench-activations", "version": 1}');
  assert.deepEqual(captureEntries(two.dir), []);
  assert.equal(isCapture(join(two.dir, 'shard_00000.safetensors')), false);
});
