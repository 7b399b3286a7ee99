// The top-k select of src/compute/topk.ts against a sort of the whole row: the same set, in the order
// (value desc, index asc), on rows whose scale jumps (so the carried threshold misses and the row is
// filtered again), with ties, negatives, fewer entries than k, and over a subset of indices; inference's
// keepTopK against sort-and-keep; BatchTopK's histogram with the bias added in the same pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramBits, keepTopK, NO_INDEX, RowTopK } from '../../../src/compute/topk';
import { Rng } from '../../../src/train/rng';

/** The k best of entries `idx` of z[off + i] under (value desc, index asc), by sorting them all. */
function bySort(z: Float32Array, off: number, idx: number[], k: number): { val: number; i: number }[] {
  return idx.map((i) => ({ val: z[off + i]!, i })).sort((a, b) => b.val - a.val || a.i - b.i).slice(0, k);
}

function asSet(val: Float32Array, idx: Int32Array, base: number, k: number): { val: number; i: number }[] {
  const out: { val: number; i: number }[] = [];
  for (let j = 0; j < k; j++) out.push({ val: val[base + j]!, i: idx[base + j]! });
  return out.sort((a, b) => b.val - a.val || a.i - b.i);
}

function rows(rng: Rng, B: number, D: number): Float32Array {
  const z = new Float32Array(B * D);
  for (let n = 0; n < B; n++) {
    // every 7th row ten times larger and every 11th ten times smaller: the guess from the rows before misses
    const scale = n % 7 === 3 ? 10 : n % 11 === 5 ? 0.1 : 1;
    for (let i = 0; i < D; i++) z[n * D + i] = rng.normal() * scale - 0.5;
    // ties at the top of some rows, and a row of equal values
    if (n % 5 === 0) { z[n * D + 3] = 50 * scale; z[n * D + 9] = 50 * scale; z[n * D + 20] = 50 * scale; }
    if (n === 13) z.fill(0.25, n * D, (n + 1) * D);
  }
  return z;
}

test('select adds the bias and returns the k best of a range (value desc, index asc), exactly, row after row', () => {
  const rng = new Rng(3), B = 120, D = 300, lo = 40, hi = 260;
  for (const k of [1, 2, 8, 32]) {
    const z = rows(rng, B, D), bias = new Float32Array(D).map(() => rng.normal() * 0.1);
    const original = z.slice(), expected = z.map((v, e) => v + bias[e % D]!);
    const sel = new RowTopK(hi - lo, k), outV = new Float32Array(B * k), outI = new Int32Array(B * k);
    for (let n = 0; n < B; n++) {
      const kth = sel.select(z, n * D, lo, hi, bias, k, outV, outI, n * k);
      const want = bySort(expected, n * D, Array.from({ length: hi - lo }, (_, j) => lo + j), k);
      assert.deepEqual(asSet(outV, outI, n * k, k), want, `k ${k}, row ${n}`);
      assert.equal(kth, want[k - 1]!.val);
    }
    for (let n = 0; n < B; n++) for (let i = lo; i < hi; i++) assert.equal(z[n * D + i], expected[n * D + i], 'the bias is added to the range');
    for (let n = 0; n < B; n++) assert.equal(z[n * D + lo - 1], original[n * D + lo - 1], 'outside the range z is untouched');
    assert.ok(sel.misses > 0, `the jumping rows made the guess miss (${sel.misses} of ${sel.rows})`);
  }
});

test('select pads with -Infinity when the range holds fewer than k; selectAmong picks among listed indices', () => {
  const rng = new Rng(5), D = 50, k = 8;
  const z = rows(rng, 40, D);
  const sel = new RowTopK(D, k), outV = new Float32Array(k), outI = new Int32Array(k);
  assert.equal(sel.select(z, 0, 10, 15, undefined, k, outV, outI, 0), -Infinity);
  assert.deepEqual(Array.from(outI.slice(5)), [NO_INDEX, NO_INDEX, NO_INDEX]);
  assert.deepEqual(Array.from(outV.slice(5)), [-Infinity, -Infinity, -Infinity]);
  assert.deepEqual(asSet(outV, outI, 0, 5), bySort(z, 0, [10, 11, 12, 13, 14], 5));
  const list = Int32Array.from([1, 4, 7, 8, 15, 22, 23, 30, 31, 33, 40, 41, 44, 49]);
  const among = new RowTopK(list.length, k);
  for (let n = 0; n < 40; n++) {
    among.selectAmong(z, n * D, list, list.length, k, outV, outI, 0);
    assert.deepEqual(asSet(outV, outI, 0, k), bySort(z, n * D, Array.from(list), k), `row ${n}`);
  }
});

test('keepTopK keeps the k largest positive entries of a row (ties to the lower index) and zeroes the rest', () => {
  const rng = new Rng(9), D = 200;
  const z = rows(rng, 30, D);
  for (const k of [0, 1, 5, 16, 200, 300]) {
    const sel = new RowTopK(D, k), kv = new Float32Array(Math.max(k, 1)), ki = new Int32Array(Math.max(k, 1));
    for (let n = 0; n < 30; n++) {
      const row = z.slice(n * D, (n + 1) * D);
      const want = new Float32Array(D);
      for (const { val, i } of bySort(z, n * D, Array.from({ length: D }, (_, i) => i), k)) if (val > 0) want[i] = val;
      keepTopK(row, k, sel, kv, ki);
      assert.deepEqual(row, want, `k ${k}, row ${n}`);
    }
  }
});

test('BatchTopK histogram: the bias added in the same pass gives the counts of adding it first', () => {
  const rng = new Rng(11), B = 16, D = 64, lo = 10, hi = 50;
  const z = rows(rng, B, D), bias = new Float32Array(D).map(() => rng.normal());
  const added = z.map((v, e) => (e % D >= lo && e % D < hi ? v + bias[e % D]! : v));
  const fused = new Int32Array(65536), plain = new Int32Array(65536);
  histogramBits(z, new Uint32Array(z.buffer), 0, D, B, lo, hi, fused, 1, 0, bias);
  assert.deepEqual(z, added);
  histogramBits(added, new Uint32Array(added.buffer), 0, D, B, lo, hi, plain, 1, 0);
  assert.deepEqual(fused, plain);
  let positives = 0;
  for (let n = 0; n < B; n++) for (let i = lo; i < hi; i++) if (added[n * D + i]! > 0) positives++;
  assert.equal(plain.reduce((a, b) => a + b, 0), positives, 'level 1 counts every positive value once');
  let top = plain.length - 1;
  while (top > 0 && plain[top] === 0) top--;
  const level2 = new Int32Array(65536);
  histogramBits(added, new Uint32Array(added.buffer), 0, D, B, lo, hi, level2, 2, top);
  assert.equal(level2.reduce((a, b) => a + b, 0), plain[top], 'level 2 splits the chosen bin');
});
