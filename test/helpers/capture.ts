// A capture folder as python -m sae_workbench_capture writes it (docs/capture.md), built in TypeScript so
// the reader's tests need no Python: shards of per-site rows plus token_ids/doc/pos, a manifest, a
// byte-level tokenizer.json and W_U.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors';
import { fromFloat32 } from '../../src/io/tensor';

export interface FakeCapture {
  dir: string;
  rows: number;
  /** Row r of site s holds r + s/10 + j/1000 in column j, so a read row names itself. */
  value: (site: number, row: number, col: number) => number;
  tokenId: (row: number) => number;
  doc: (row: number) => number;
  pos: (row: number) => number;
}

export function writeFakeCapture(dir: string, o: { shardRows: number[]; sites: string[]; d: number; dtype?: 'F32' | 'BF16'; complete?: boolean }): FakeCapture {
  const value = (s: number, r: number, j: number): number => r + s / 10 + j / 1000;
  const docLen = 7;
  const tokenId = (r: number): number => 97 + (r % 26);
  const doc = (r: number): number => Math.floor(r / docLen);
  const pos = (r: number): number => r % docLen;
  const shards: { file: string; rows: number; contexts: [number, number] }[] = [];
  let first = 0;
  o.shardRows.forEach((n, k) => {
    const t: Record<string, ReturnType<typeof fromFloat32> | { dtype: 'I32' | 'I64'; shape: number[]; data: Int32Array | BigInt64Array }> = {};
    o.sites.forEach((site, s) => {
      const x = new Float32Array(n * o.d);
      for (let r = 0; r < n; r++) for (let j = 0; j < o.d; j++) x[r * o.d + j] = value(s, first + r, j);
      t[site] = fromFloat32(o.dtype ?? 'F32', [n, o.d], x);
    });
    t.token_ids = { dtype: 'I32', shape: [n], data: Int32Array.from({ length: n }, (_, r) => tokenId(first + r)) };
    t.doc = { dtype: 'I64', shape: [n], data: BigInt64Array.from({ length: n }, (_, r) => BigInt(doc(first + r))) };
    t.pos = { dtype: 'I32', shape: [n], data: Int32Array.from({ length: n }, (_, r) => pos(first + r)) };
    const file = `shard_${String(k).padStart(5, '0')}.safetensors`;
    writeSafetensors(join(dir, file), t);
    shards.push({ file, rows: n, contexts: [k, k + 1] });
    first += n;
  });
  const manifest = {
    format: 'sae-workbench-activations', version: 1,
    model: { name: 'toy_model:make', kind: 'module', class: 'ToyTransformer', dtype: 'float32' },
    sites: o.sites.map((name) => ({ name, d: o.d })), dtype: o.dtype === 'BF16' ? 'bfloat16' : 'float32', context_length: 32,
    bos: { id: 256, kept: false }, skip_positions: 0, tokenizer: 'tokenizer.json', W_U: 'W_U.safetensors', d_vocab: 257,
    corpus: { source: '/tmp/corpus.txt', kind: 'txt', documents: doc(first - 1) + 1 }, rows: first, shards, complete: o.complete ?? true,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const vocab: Record<string, number> = {};
  for (let b = 33; b < 127; b++) vocab[String.fromCharCode(b)] = b;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges: [] }, added_tokens: [{ id: 256, content: '<|bos|>', special: true }] }));
  writeSafetensors(join(dir, 'W_U.safetensors'), { W_U: fromFloat32('F32', [o.d, 257], new Float32Array(o.d * 257).fill(0.5)) });
  return { dir, rows: first, value, tokenId, doc, pos };
}
