import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/io/npy';
import { writeSafetensors } from '../../../src/io/safetensors';
import { fromFloat32 } from '../../../src/io/tensor';
import { openRowReader } from '../../../src/io/rowReader';
import { isInputError } from '../../../src/errors';

function rowsWithIds(n: number, d: number): Float32Array {
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) x[r * d + j] = r + j / 1024;
  return x;
}

const dir = mkdtempSync(join(tmpdir(), 'rowreader-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('sequential read returns every row in order, f32 npy', () => {
  const p = join(dir, 'a.npy');
  writeNpy(p, { dtype: 'F32', shape: [100, 8], data: rowsWithIds(100, 8) });
  const rd = openRowReader([p], { shuffle: false, loop: false, chunkRows: 7, memoryBudget: 7 * 8 * 4 * 3 + 7 * 32 });
  const out = new Float32Array(30 * 8);
  const seen: number[] = [];
  for (;;) {
    const n = rd.next(out, 30);
    for (let r = 0; r < n; r++) seen.push(out[r * 8]!);
    if (n < 30) break;
  }
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
  assert.ok(rd.residentBytes <= 7 * 8 * 4 * 3 + 7 * 32 + 4 * 21);
  rd.close();
});

test('shuffled read is a seeded permutation of each epoch; f16 and bf16 converted', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    const p = join(dir, `b-${dtype}.safetensors`);
    const x = rowsWithIds(64, 4);
    writeSafetensors(p, { acts: fromFloat32(dtype, [64, 4], x), other: fromFloat32('F32', [3], new Float32Array(3)) });
    const read = (seed: number): number[] => {
      const rd = openRowReader([p], { seed, chunkRows: 8, memoryBudget: 8 * 16 * 2 + 8 * 8 + 64 });
      const out = new Float32Array(64 * 4);
      rd.next(out, 64);
      rd.close();
      return Array.from({ length: 64 }, (_, r) => out[r * 4]!);
    };
    const a = read(1), b = read(1), c = read(2);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.deepEqual([...a].sort((u, v) => u - v), Array.from({ length: 64 }, (_, i) => i));
  }
});

test('state/restore continues with exactly the same rows', () => {
  const p = join(dir, 'c.npy');
  writeNpy(p, { dtype: 'F32', shape: [90, 3], data: rowsWithIds(90, 3) });
  const opts = { seed: 5, chunkRows: 4, memoryBudget: 4 * 12 * 3 + 4 * 12 };
  const full = openRowReader([p], opts);
  const out = new Float32Array(200 * 3);
  full.next(out, 200);
  const rd = openRowReader([p], opts);
  const part = new Float32Array(77 * 3);
  rd.next(part, 77);
  const st = rd.state();
  rd.close();
  const rd2 = openRowReader([p], opts);
  rd2.restore(st);
  const rest = new Float32Array(123 * 3);
  rd2.next(rest, 123);
  assert.deepEqual(Array.from(part), Array.from(out.subarray(0, 77 * 3)));
  assert.deepEqual(Array.from(rest), Array.from(out.subarray(77 * 3)));
});

test('NaN/Inf rows are skipped and counted, or stop with an InputError naming the row', () => {
  const p = join(dir, 'd.npy');
  const x = rowsWithIds(20, 2);
  x[3 * 2 + 1] = NaN; x[11 * 2] = Infinity;
  writeNpy(p, { dtype: 'F32', shape: [20, 2], data: x });
  const rd = openRowReader([p], { shuffle: false, loop: false });
  const out = new Float32Array(40);
  assert.equal(rd.next(out, 20), 18);
  assert.equal(rd.skippedRows, 2);
  assert.throws(() => openRowReader([p], { onNonFinite: 'stop' }).next(out, 5), (e) => isInputError(e) && /row 3 contains NaN/.test((e as Error).message));
});

test('bad files: wrong rank, int dtype, ambiguous safetensors, mismatched d_in', () => {
  const p1 = join(dir, 'e.npy');
  writeNpy(p1, { dtype: 'F32', shape: [4], data: new Float32Array(4) });
  assert.throws(() => openRowReader([p1]), /2-D array/);
  const p2 = join(dir, 'f.npy');
  writeNpy(p2, { dtype: 'I32', shape: [2, 2], data: new Int32Array(4) });
  assert.throws(() => openRowReader([p2]), /must be float/);
  const p3 = join(dir, 'g.safetensors');
  writeSafetensors(p3, { a: fromFloat32('F32', [2, 2], new Float32Array(4)), b: fromFloat32('F32', [2, 2], new Float32Array(4)) });
  assert.throws(() => openRowReader([p3]), /found 2/);
  assert.equal(openRowReader([p3], { tensorName: 'b' }).dIn, 2);
  const p4 = join(dir, 'h.npy');
  writeNpy(p4, { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) });
  assert.throws(() => openRowReader([p3, p4], { tensorName: 'a' }), /d_in 3 differs/);
});
