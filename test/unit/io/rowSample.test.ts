import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/io/npy';
import { writeSafetensors } from '../../../src/io/safetensors';
import { fromFloat32 } from '../../../src/io/tensor';
import { openRowSource } from '../../../src/io/rowReader';
import { describeSample, readRowsAt, sampleRowIndices } from '../../../src/io/rowSample';
import { readActivationSample } from '../../../src/views/activations';

const dir = mkdtempSync(join(tmpdir(), 'rowsample-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Row r holds r in every column (plus a column offset), so a read row names itself. */
function numberedRows(n: number, d: number): Float32Array {
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) x[r * d + j] = r + j / 1024;
  return x;
}

test('sample indices: sorted, distinct, in range, the same for the same seed, different for another', () => {
  const a = sampleRowIndices(100_000, { rows: 500, seed: 3 });
  assert.equal(a.length, 500);
  for (let i = 1; i < a.length; i++) assert.ok(a[i]! > a[i - 1]!, 'sorted and distinct');
  assert.ok(a[0]! >= 0 && a[a.length - 1]! < 100_000);
  assert.deepEqual(sampleRowIndices(100_000, { rows: 500, seed: 3 }), a);
  assert.notDeepEqual(sampleRowIndices(100_000, { rows: 500, seed: 4 }), a);
});

test('sample indices: a file no larger than the sample is taken whole', () => {
  assert.deepEqual(Array.from(sampleRowIndices(5, { rows: 10, seed: 0 })), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(sampleRowIndices(10, { rows: 10, seed: 7 })), Array.from({ length: 10 }, (_, i) => i));
  assert.equal(sampleRowIndices(0, { rows: 10, seed: 0 }).length, 0);
});

test('sample indices are uniform over the file, not its first rows', () => {
  // 10 equal bins of a 1e6-row file; 20,000 draws put about 2,000 in each (sd ≈ 42)
  const idx = sampleRowIndices(1_000_000, { rows: 20_000, seed: 11 });
  const bins = new Array<number>(10).fill(0);
  for (const i of idx) bins[Math.floor(i / 100_000)]!++;
  for (const b of bins) assert.ok(Math.abs(b - 2000) < 250, `bin count ${b} is far from 2000`);
});

test('describeSample names the sample', () => {
  assert.equal(describeSample(20_000, 20_000, 0), 'all 20,000 rows');
  assert.equal(describeSample(1_000_000, 4096, 2), 'a uniform sample of 4,096 of 1,000,000 rows (seed 2)');
});

test('readRowsAt reads exactly the chosen rows, f32 .npy and bf16 .safetensors', () => {
  const n = 300, d = 5;
  const x = numberedRows(n, d);
  const npy = join(dir, 'a.npy');
  writeNpy(npy, { dtype: 'F32', shape: [n, d], data: x });
  const st = join(dir, 'b.safetensors');
  writeSafetensors(st, { acts: fromFloat32('BF16', [n, d], x) });
  const idx = Int32Array.from([0, 1, 2, 57, 58, 200, 299]);
  for (const p of [npy, st]) {
    const rows = readRowsAt(openRowSource(p), idx);
    assert.equal(rows.length, idx.length * d);
    idx.forEach((r, i) => assert.ok(Math.abs(rows[i * d]! - r) <= Math.max(1e-6, r / 128), `${p}: row ${i} should be file row ${r}, got ${rows[i * d]}`));
  }
  assert.throws(() => readRowsAt(openRowSource(npy), Int32Array.from([n])), /outside/);
});

test('readActivationSample: a file stored in order is sampled across its whole length', () => {
  const n = 50_000, d = 2;
  const p = join(dir, 'ordered.npy');
  writeNpy(p, { dtype: 'F32', shape: [n, d], data: numberedRows(n, d) });
  const s = readActivationSample(p, 1000, d);
  assert.equal(s.n, 1000);
  assert.equal(s.totalRows, n);
  assert.equal(s.description, 'a uniform sample of 1,000 of 50,000 rows (seed 0)');
  // the first rows of the file would all be < 1000; a uniform sample reaches the end of the file
  assert.ok(s.rowIndex[s.n - 1]! > 40_000);
  for (let i = 0; i < s.n; i++) assert.equal(s.x[i * d], s.rowIndex[i], 'rowIndex names the file row that was read');
  // the same call gives the same rows
  assert.deepEqual(readActivationSample(p, 1000, d).rowIndex, s.rowIndex);
});
