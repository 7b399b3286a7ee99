// The step's sparse forward against the reference forward pass (src/sae/forward.ts), and the threaded
// step (kernel workers over the shared arena) against the single-threaded one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsGemm } from '../../../src/compute/gemm';
import { modelConfig } from '../../../src/sae/objectives';
import type { ArchName as TrainArch } from '../../../src/sae/arch/registry';
import { buildLayout } from '../../../src/train/layout';
import { StepEngine } from '../../../src/train/stepEngine';
import { WorkerPool } from '../../../src/train/pool';
import { exportSae } from '../../../src/train/export';
import type { ResolvedOptions } from '../../../src/train/options';
import { forward } from '../../../src/sae/forward';
import { Rng } from '../../../src/train/rng';
import { FlatList } from '../../../src/train/lists';
import { collectRows, RowFilter } from '../../../src/train/select';

const D_IN = 24, D_SAE = 50, B = 33;

function engine(arch: TrainArch, threads: number, captureGrads: boolean): { eng: StepEngine; pool?: WorkerPool } {
  const cfg = modelConfig(arch, D_IN, D_SAE, B, { k: 5, captureGrads });
  const layout = buildLayout(cfg, threads);
  const buffer = new SharedArrayBuffer(layout.bytes);
  const pool = threads > 1 ? new WorkerPool(new Int32Array(buffer, layout.regions.get('control')!.offset, 16), cfg, threads, buffer) : undefined;
  const eng = new StepEngine(cfg, buffer, jsGemm, threads, pool);
  const f = eng.views.f32;
  const rng = new Rng(9);
  for (const n of ['wEncT', 'wDec']) for (let i = 0; i < f[n]!.length; i++) f[n]![i] = rng.normal() * 0.3;
  for (let i = 0; i < D_SAE; i++) { f.bEnc![i] = rng.normal() * 0.1; if (arch === 'jumprelu') f.logTheta![i] = Math.log(0.3); }
  for (let i = 0; i < D_IN; i++) f.bDec![i] = rng.normal() * 0.1;
  for (let i = 0; i < f.x!.length; i++) f.x![i] = rng.normal();
  if (cfg.unitNormDecoder) for (let i = 0; i < D_SAE; i++) {
    const row = f.wDec!.subarray(i * D_IN, (i + 1) * D_IN);
    const n = Math.hypot(...row);
    for (let q = 0; q < D_IN; q++) row[q]! /= n;
  }
  return { eng, pool };
}

for (const arch of ['relu', 'topk', 'jumprelu'] as const) {
  test(`${arch}: the step's sparse reconstruction equals the reference forward pass`, () => {
    const { eng } = engine(arch, 1, true);
    const x = eng.views.f32.x!.slice();
    const opts = { sparsityCoef: 0.1, lr: 0, batch: B, seed: 0 } as unknown as ResolvedOptions;
    const sae = exportSae(eng, opts, 1, 0, 'js');
    eng.step({ lr: 0, sparsityCoef: 0.1, deadTokens: 1e9 });
    const { recon, codes } = forward(sae, x, B);
    const g = eng.views.f32.g!;
    let worst = 0, l0 = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! + (g[i]! * B) / 2 - recon[i]!));
    for (const c of codes) if (c > 0) l0++;
    assert.ok(worst < 1e-5, `x̂ differs by ${worst}`);
    assert.ok(l0 > 0);
  });
}

function sameWeights(a: StepEngine, b: StepEngine): void {
  for (const n of ['wEncT', 'wDec', 'bEnc', 'bDec']) {
    const p = a.views.f32[n]!, q = b.views.f32[n]!;
    let worst = 0;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!));
    assert.ok(worst < 1e-5, `${n} differs by ${worst}`);
  }
}

for (const arch of ['relu', 'topk', 'batchtopk', 'jumprelu'] as const) {
  test(`${arch}: two threads give the single-threaded step`, async () => {
    const one = engine(arch, 1, false), two = engine(arch, 2, false);
    try {
      for (let s = 0; s < 3; s++) {
        const a = one.eng.step({ lr: 1e-2, sparsityCoef: 0.1, deadTokens: B * 2 });
        const b = two.eng.step({ lr: 1e-2, sparsityCoef: 0.1, deadTokens: B * 2 });
        assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, a.loss), `step ${s}: loss ${a.loss} vs ${b.loss}`);
      }
      sameWeights(one.eng, two.eng);
    } finally {
      await two.pool?.close();
    }
  });
}

test('batchtopk: the cut from the candidates above the carried guess gives the step of the full histograms, also when the guess misses or is far too low', async () => {
  const full = engine('batchtopk', 1, false), guessed = engine('batchtopk', 2, false);
  const sc = guessed.eng.views.f64.scalars!;
  const GUESS = 16, FROM_CANDS = 17; // S.bTopkGuess, S.bTopkFromCands
  const ways: string[] = [];
  try {
    for (let s = 0; s < 8; s++) {
      // steps 3 and 5: a guess above every value (a miss); step 6: one far below the cut (every positive value
      // is a candidate: under the limit at this size, see the collectRows test)
      if (s === 3 || s === 5) sc[GUESS] = 1e30;
      if (s === 6) sc[GUESS] = 1e-20;
      full.eng.views.f64.scalars![GUESS] = 0;
      const a = full.eng.step({ lr: 1e-2, sparsityCoef: 0, deadTokens: B * 2 });
      const b = guessed.eng.step({ lr: 1e-2, sparsityCoef: 0, deadTokens: B * 2 });
      ways.push(sc[FROM_CANDS] === 1 ? 'candidates' : 'full');
      assert.equal(b.l0, a.l0, `step ${s}: L0`);
      assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, a.loss), `step ${s}: loss ${a.loss} vs ${b.loss}`);
    }
    sameWeights(full.eng, guessed.eng);
    assert.deepEqual(ways, ['full', 'candidates', 'candidates', 'full', 'candidates', 'full', 'candidates', 'candidates'], 'the guess was used from step 2 on, except where it was forced off');
    assert.equal(guessed.eng.cutMisses, 2);
  } finally {
    await guessed.pool?.close();
  }
});

test('collectRows adds the bias everywhere and keeps the values at or above the guess in row order, or stops past its limit', () => {
  const rows = 6, stride = 10, lo = 2, hi = 8, rng = new Rng(4);
  // a memory as the arena holds them: Z's rows, the bias, the filter's candidate buffers
  const Z = 0, BIAS = rows * stride, VAL = BIAS + stride, IDX = VAL + stride;
  const mem = new Float32Array(IDX + stride);
  const z0 = Float32Array.from({ length: rows * stride }, () => rng.normal()), bias = Float32Array.from({ length: stride }, () => rng.normal() * 0.1);
  mem.set(bias, BIAS);
  const want = z0.map((v, e) => Math.fround(v + (e % stride >= lo && e % stride < hi ? bias[e % stride]! : 0)));
  const kept: [number, number, number][] = [];
  for (let n = 0; n < rows; n++) for (let i = lo; i < hi; i++) if (want[n * stride + i]! >= 0.5) kept.push([i, n, want[n * stride + i]!]);
  const rf = new RowFilter(jsGemm, mem, VAL, IDX, hi - lo), list = new FlatList();
  mem.set(z0, Z);
  assert.equal(collectRows(rf, Z + lo, stride, rows, hi - lo, BIAS + lo, 0.5, false, lo, list), rows);
  assert.deepEqual(Array.from({ length: list.size }, (_, e) => [list.lat[e], list.row[e], list.val[e]]), kept);
  assert.deepEqual(mem.subarray(Z, Z + rows * stride), want);
  mem.set(z0, Z);
  const stopped = collectRows(rf, Z + lo, stride, rows, hi - lo, BIAS + lo, 0.5, false, lo, list, kept.length - 2);
  assert.ok(stopped < rows && list.size > kept.length - 2, `stopped after ${stopped} rows with ${list.size} entries`);
  assert.deepEqual(mem.subarray(Z, Z + rows * stride), want, 'past the limit the bias is still added to every value');
  // strict: above the guess, not at it
  mem.set(want, Z);
  const at = want[lo]!;
  collectRows(rf, Z + lo, stride, 1, hi - lo, -1, at, true, lo, list);
  assert.ok(list.size === Array.from(want.subarray(lo, hi)).filter((v) => v > at).length && !Array.from(list.val.subarray(0, list.size)).includes(at));
});

test('a profiled step (StepEngine.profile) computes what an unprofiled one does and accounts for its time per thread', async () => {
  const plain = engine('topk', 2, false), profiled = engine('topk', 2, false);
  try {
    profiled.eng.profile = true;
    for (let s = 0; s < 2; s++) {
      const a = plain.eng.step({ lr: 1e-2, sparsityCoef: 0, deadTokens: B * 2 });
      const b = profiled.eng.step({ lr: 1e-2, sparsityCoef: 0, deadTokens: B * 2 });
      assert.equal(b.loss, a.loss);
    }
    sameWeights(plain.eng, profiled.eng);
    assert.equal(plain.eng.lastProfile, undefined);
    const p = profiled.eng.lastProfile!;
    assert.equal(p.threads.length, 2);
    const inPhases = p.phases.encode + p.phases.hist + p.phases.activate + p.phases.residual + p.phases.backward;
    const serial = p.serial.prepare + p.serial.merge + p.serial.cut + p.serial.finish;
    assert.ok(inPhases > 0 && inPhases + serial <= p.seconds + 1e-9, `phases ${inPhases} + serial ${serial} within the step's ${p.seconds} s`);
    for (const t of p.threads) {
      const parts = t.encodeGemm + t.select + t.hist + t.activate + t.residual + t.grad + t.bDecPart + t.adam + t.norm;
      assert.ok(t.busy > 0 && Math.abs(parts - t.busy) <= 1e-6, `the parts (${parts} s) add up to the busy time (${t.busy} s)`);
      assert.ok(t.waiting >= -1e-9 && Math.abs(t.busy + t.waiting - inPhases) <= 1e-9);
      assert.ok(t.encodeGemm > 0 && t.adam > 0 && t.norm > 0, 'TopK times its encoder GEMM, Adam and unit-norm decoder');
    }
  } finally {
    await plain.pool?.close();
    await profiled.pool?.close();
  }
});
