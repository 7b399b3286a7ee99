// The family in the shared engine: row-aligned streams over files of different widths and dtypes, a
// cancelled transcoder run that resumes to the uninterrupted result, and two threads giving one thread's run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError } from '../../../src/errors';
import { writeNpy } from '../../../src/io/npy';
import { readSafetensors } from '../../../src/io/safetensors';
import { loadSae } from '../../../src/formats/index';
import { decode, encode } from '../../../src/sae/forward';
import type { TrainOptions } from '../../../src/train/api';
import { readCheckpointMeta } from '../../../src/train/checkpoint';
import { crosscoderFeed, transcoderFeed } from '../../../src/train/feeds';
import { Rng } from '../../../src/train/rng';
import { runTraining } from '../../../src/train/trainer';
import { explainedVariance, matryoshkaData } from './data';

const dir = mkdtempSync(join(tmpdir(), 'family-engine-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const noHooks = { emit: () => undefined, cancelled: () => false };
const rng = new Rng(17);

/** y = M x for sparse x: a transcoder's data. */
function transcoderData(n: number, dIn: number, dOut: number): { x: string; y: string } {
  const m = Float32Array.from({ length: dOut * dIn }, () => rng.normal() / Math.sqrt(dIn));
  const x = new Float32Array(n * dIn);
  for (let j = 0; j < x.length; j++) if (rng.next() < 0.15) x[j] = 0.5 + rng.next();
  const y = new Float32Array(n * dOut);
  for (let r = 0; r < n; r++) for (let o = 0; o < dOut; o++) { let s = 0; for (let q = 0; q < dIn; q++) s += m[o * dIn + q]! * x[r * dIn + q]!; y[r * dOut + o] = s; }
  const px = join(dir, `tx-${n}-${dIn}.npy`), py = join(dir, `ty-${n}-${dOut}.npy`);
  writeNpy(px, { dtype: 'F32', shape: [n, dIn], data: x });
  writeNpy(py, { dtype: 'F32', shape: [n, dOut], data: y });
  return { x: px, y: py };
}

test('aligned streams: input and target (other width, other dtype) and crosscoder sources serve the same rows across windows and epochs', () => {
  const n = 300;
  // column 0 of every file holds the row number
  const a = new Float32Array(n * 3), b = new Float64Array(n * 7), c = new Float32Array(n * 3);
  for (let r = 0; r < n; r++) { a[r * 3] = r; b[r * 7] = r; c[r * 3] = r; }
  const pa = join(dir, 'rows_a.npy'), pb = join(dir, 'rows_b.npy'), pc = join(dir, 'rows_c.npy');
  writeNpy(pa, { dtype: 'F32', shape: [n, 3], data: a });
  writeNpy(pb, { dtype: 'F64', shape: [n, 7], data: b });
  writeNpy(pc, { dtype: 'F32', shape: [n, 3], data: c });
  // 16-row chunks and a budget of a few chunks: many windows, each shuffled, over two epochs
  const opts = { seed: 3, memoryBudget: 16 * (3 + 7) * 4 * 3 + 16 * (3 * 4 + 7 * 8), onNonFinite: 'stop' as const, chunkRows: 16 };
  const tc = transcoderFeed([pa], pb, opts);
  const x = new Float32Array(50 * 3), y = new Float32Array(50 * 7);
  const seen = new Set<number>();
  let inOrder = true;
  for (let s = 0; s < 12; s++) {
    assert.equal(tc.next(x, y, 50), 50);
    for (let r = 0; r < 50; r++) {
      assert.equal(y[r * 7], x[r * 3], `batch ${s} row ${r}: target row ${y[r * 7]} against input row ${x[r * 3]}`);
      seen.add(x[r * 3]!);
      if (r > 0 && x[r * 3]! !== x[(r - 1) * 3]! + 1) inOrder = false;
    }
  }
  tc.close();
  assert.equal(seen.size, n, 'two epochs cover every row');
  assert.ok(!inOrder, 'rows are shuffled');
  const cc = crosscoderFeed([pa, pc], opts);
  const xc = new Float32Array(50 * 6);
  for (let s = 0; s < 8; s++) {
    assert.equal(cc.next(xc, undefined, 50), 50);
    for (let r = 0; r < 50; r++) assert.equal(xc[r * 6 + 3], xc[r * 6], 'source 2 sits at offset d of the same row');
  }
  cc.close();
});

function weightsOf(out: string, file = 'sae_weights.safetensors'): Map<string, Float32Array> {
  const t = readSafetensors(join(out, file)).tensors;
  return new Map([...t].map(([k, v]) => [k, v.data as Float32Array]));
}

function worstDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): [string, number] {
  let worst = 0, at = '';
  for (const [name, x] of a) {
    const y = b.get(name)!;
    assert.equal(y.length, x.length, name);
    for (let i = 0; i < x.length; i++) { const d = Math.abs(x[i]! - y[i]!); if (d > worst) { worst = d; at = name; } }
  }
  return [at, worst];
}

test('a cancelled transcoder run checkpoints both streams (and W_skip), and --resume finishes it identically to an uninterrupted run, resampling included', async () => {
  const { x, y } = transcoderData(2048, 12, 8);
  const variants: [string, Partial<TrainOptions>][] = [
    ['skip transcoder', { skip: true, arch: 'relu', width: 24, l1: 0.01 }],
    // narrow codes over a wide dictionary: latents die, so aux-k and resampling run before and after the cut
    ['batchtopk transcoder', { arch: 'batchtopk', k: 2, width: 48 }],
  ];
  for (const [name, v] of variants) {
    const base = { activations: [x], target: y, outDir: '', batch: 128, tokens: 128 * 30, lr: 3e-3, seed: 4, checkpointEvery: 1000, resampleEvery: 7, deadTokens: 128 * 3, ...v } as TrainOptions;
    const a = join(dir, `${name}-straight`), b = join(dir, `${name}-resumed`);
    await runTraining({ ...base, outDir: a }, noHooks);
    let calls = 0;
    await assert.rejects(runTraining({ ...base, outDir: b }, { emit: () => undefined, cancelled: () => ++calls > 11 }), (e) => e instanceof CancelledError);
    const meta = readCheckpointMeta(b)!.meta;
    assert.equal(meta.step, 11);
    assert.equal(meta.readers?.length, 2, 'input and target positions are both stored');
    const summary = await runTraining({ activations: [x], outDir: b, arch: base.arch, width: base.width, resume: true }, noHooks);
    assert.equal(summary.resumedFrom, 11);
    assert.equal(summary.kind, 'transcoder');
    const wa = weightsOf(a), wb = weightsOf(b);
    if (v.skip) assert.ok(wa.has('W_skip'), 'the skip matrix is saved');
    else {
      const resamples = readFileSync(join(b, 'training_log.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"resample"'));
      assert.ok(resamples.length >= 2, `latents were resampled before and after the cut: ${resamples.join(' ')}`);
    }
    const [tensor, worst] = worstDiff(wa, wb);
    assert.ok(worst <= 1e-6, `${name} ${tensor}: resumed differs by ${worst}`);
  }
});

test('two threads: a crosscoder and a skip transcoder train as on one thread; Matryoshka on two threads reconstructs through its first prefix', async () => {
  const { x, y } = transcoderData(2048, 16, 12);
  // the crosscoder's two sources need one width: the input file twice
  const cases: [string, Partial<TrainOptions>][] = [['skip transcoder', { activations: [x], target: y, skip: true }], ['crosscoder', { activations: [x, x], crosscoder: true }]];
  for (const [kind, extra] of cases) {
    const base = { ...extra, outDir: '', arch: 'relu', width: 32, l1: 0.01, batch: 128, tokens: 128 * 20, lr: 3e-3, seed: 5 } as TrainOptions;
    const one = join(dir, `t1-${kind}`), two = join(dir, `t2-${kind}`);
    const s1 = await runTraining({ ...base, outDir: one, threads: 1 }, noHooks);
    const s2 = await runTraining({ ...base, outDir: two, threads: 2 }, noHooks);
    assert.equal(s2.threads, 2);
    const l1 = (s1.final as { loss: number }).loss, l2 = (s2.final as { loss: number }).loss;
    assert.ok(Math.abs(l1 - l2) <= 1e-4 * Math.max(1, l1), `${kind}: final loss ${l1} on one thread, ${l2} on two`);
    const file = kind === 'crosscoder' ? 'cc_weights.safetensors' : 'sae_weights.safetensors';
    const [name, worst] = worstDiff(weightsOf(one, file), weightsOf(two, file));
    assert.ok(worst <= 1e-4, `${kind}: ${name} differs by ${worst} between one and two threads`);
  }
  // Matryoshka on two threads: the prefixes split across the threads' latent ranges
  const { n, d, data } = matryoshkaData(rng);
  const p = join(dir, 'mat2.npy');
  writeNpy(p, { dtype: 'F32', shape: [n, d], data });
  const out = join(dir, 'mat-2threads');
  const s = await runTraining({ activations: [p], matryoshkaWidths: [4, 20], outDir: out, arch: 'batchtopk', width: 32, k: 4, batch: 256, tokens: 256 * 300, lr: 5e-3, seed: 3, threads: 2 }, noHooks);
  assert.equal(s.threads, 2);
  const sae = loadSae(out);
  assert.deepEqual(sae.cfg.matryoshkaWidths, [4, 20, 32]);
  const { codes } = encode(sae, data, n);
  for (let r = 0; r < n; r++) codes.fill(0, r * 32 + 4, (r + 1) * 32);
  const prefix = explainedVariance(data, decode(sae, codes, n), n, d);
  assert.ok(prefix > 0.3, `first-prefix EV ${prefix}`);
});
