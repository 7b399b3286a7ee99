// The trainer end to end on small synthetic data: recovery of known features (topk), explained variance
// (relu), resume = uninterrupted, cancellation, checkpoint write failures, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../../../src/train/trainer';
import { torchArgs } from '../../../src/train/torchBackend';
import { startTraining } from '../../../src/train/api';
import type { TrainOptions } from '../../../src/train/api';
import { checkpointPath, readCheckpointMeta } from '../../../src/train/checkpoint';
import { loadSae } from '../../../src/formats/index';
import { readSafetensors } from '../../../src/io/safetensors';
import { writeNpy } from '../../../src/io/npy';
import { forward } from '../../../src/sae/forward';
import { CancelledError, isInputError } from '../../../src/errors';
import { maxCosines, sparseFeatures, writeSynthetic } from './synthetic';

const dir = mkdtempSync(join(tmpdir(), 'trainer-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const noHooks = { emit: () => undefined, cancelled: () => false };
const data = sparseFeatures(8192, 32, 48, 0.04, 3);
const acts = join(dir, 'acts.npy');
writeSynthetic(acts, data);

test('topk recovers the ground-truth directions (max cosine ≥ 0.95 for ≥ 90% of features)', async () => {
  const out = join(dir, 'topk');
  const summary = await runTraining({ activations: [acts], outDir: out, arch: 'topk', width: 96, k: 4, batch: 256, tokens: 256 * 400, lr: 4e-3, seed: 1 }, noHooks);
  const sae = loadSae(out);
  assert.equal(sae.cfg.activation, 'topk');
  assert.equal(sae.cfg.k, 4);
  const mc = maxCosines(data.features, data.f, sae.wDec, sae.cfg.dSae, data.d);
  const recovered = mc.filter((c) => c >= 0.95).length / mc.length;
  assert.ok(recovered >= 0.9, `recovered ${recovered} of the features`);
  // the saved SAE, run through the reference forward pass on raw rows, reconstructs them
  const n = 512;
  const { recon } = forward(sae, data.x.subarray(0, n * data.d), n);
  let sse = 0, tot = 0;
  const mean = new Float64Array(data.d);
  for (let r = 0; r < n; r++) for (let j = 0; j < data.d; j++) mean[j]! += data.x[r * data.d + j]! / n;
  for (let r = 0; r < n; r++) for (let j = 0; j < data.d; j++) { sse += (recon[r * data.d + j]! - data.x[r * data.d + j]!) ** 2; tot += (data.x[r * data.d + j]! - mean[j]!) ** 2; }
  assert.ok(1 - sse / tot > 0.85, `reference-forward EV ${1 - sse / tot}`);
  const l0 = (summary.final as { l0: number }).l0;
  assert.ok(l0 <= 4 && l0 > 2, `L0 ${l0} (at most k: ReLU after TopK)`);
  const log = readFileSync(join(out, 'training_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; engine?: string });
  assert.equal(log[0]!.type, 'start');
  assert.ok(log[0]!.engine, 'the engine is in the log');
  assert.equal(log.at(-1)!.type, 'summary');
  assert.ok(existsSync(join(out, 'sparsity.safetensors')));
});

test('topk decoder rows: free by default (their norms move off 1), kept at unit norm with unitNormDecoder', async () => {
  const spread = async (name: string, unitNormDecoder?: boolean): Promise<number> => {
    const out = join(dir, name);
    // normalize off: the saved rows are the trained ones (no activation scale folded into them)
    await runTraining({ activations: [acts], outDir: out, arch: 'topk', width: 64, k: 4, batch: 256, tokens: 256 * 60, lr: 4e-3, seed: 3, normalize: false, unitNormDecoder }, noHooks);
    const sae = loadSae(out);
    let worst = 0;
    for (let i = 0; i < sae.cfg.dSae; i++) {
      let s = 0;
      for (let j = 0; j < sae.cfg.dIn; j++) s += sae.wDec[i * sae.cfg.dIn + j]! ** 2;
      worst = Math.max(worst, Math.abs(Math.sqrt(s) - 1));
    }
    return worst;
  };
  const free = await spread('topk-free'), unit = await spread('topk-unit', true);
  assert.ok(free > 0.01, `free rows stayed within ${free} of unit norm`);
  assert.ok(unit < 1e-5, `unit rows moved ${unit} off unit norm`);
});

test('relu (decoder-norm-weighted L1) reaches explained variance ≥ 0.9 and stores λ_e', async () => {
  const out = join(dir, 'relu');
  const summary = await runTraining({ activations: [acts], outDir: out, arch: 'relu', width: 96, l1: 0.5, batch: 256, tokens: 256 * 300, lr: 4e-3, seed: 2 }, noHooks);
  const final = summary.final as { explainedVariance: number };
  assert.ok(final.explainedVariance >= 0.9, `EV ${final.explainedVariance}`);
  const sae = loadSae(out);
  const t = sae.cfg.training!;
  assert.equal(t.lossConvention, 'sum_of_squares');
  assert.equal(t.lambdaE, 0.5 / 2 / (t.activationScaleFolded as number));
  assert.equal(sae.cfg.normalizeActivations, 'none');
});

async function runToEnd(opts: TrainOptions, cancelAtStep?: number): Promise<Record<string, unknown> | 'cancelled'> {
  let h: ReturnType<typeof startTraining> | undefined = undefined;
  h = startTraining(opts, (e) => {
    if (cancelAtStep !== undefined && e.type === 'progress' && e.progress.step >= cancelAtStep) h!.cancel();
  });
  try { return await h.done; } catch (e) { if (e instanceof CancelledError) return 'cancelled'; throw e; }
}

test('a cancelled run stops within a step, checkpoints, and --resume finishes it identically to an uninterrupted run', async () => {
  for (const arch of ['batchtopk', 'jumprelu'] as const) {
    const base: TrainOptions = { activations: [acts], outDir: '', arch, width: 40, k: 3, l1: 0.05, batch: 128, tokens: 128 * 40, lr: 3e-3, seed: 7, checkpointEvery: 1000, deadTokens: 128 * 4 };
    const a = join(dir, `${arch}-straight`), b = join(dir, `${arch}-resumed`);
    await runTraining({ ...base, outDir: a }, noHooks);
    assert.equal(await runToEnd({ ...base, outDir: b }, 3), 'cancelled');
    const meta = readCheckpointMeta(b)!.meta;
    assert.ok(meta.step >= 3 && meta.step < 40, `checkpoint at step ${meta.step}`);
    const done = await runToEnd({ activations: [acts], outDir: b, arch, width: 40, resume: true });
    assert.notEqual(done, 'cancelled');
    const wa = readSafetensors(join(a, 'sae_weights.safetensors')).tensors, wb = readSafetensors(join(b, 'sae_weights.safetensors')).tensors;
    for (const [name, t] of wa) {
      const x = t.data as Float32Array, y = wb.get(name)!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
      assert.ok(worst <= 1e-6, `${arch} ${name}: resumed differs by ${worst}`);
    }
  }
});

test('a failed checkpoint write (full disk) leaves the previous checkpoint intact, and the run resumes from it', async () => {
  const out = join(dir, 'enospc');
  const opts: TrainOptions = { activations: [acts], outDir: out, arch: 'topk', width: 32, k: 3, batch: 64, tokens: 64 * 6, lr: 1e-3, seed: 3, checkpointEvery: 2 };
  const realWrite = fs.writeSync;
  let failed = false;
  let err: unknown;
  try {
    await runTraining(opts, {
      cancelled: () => false,
      emit: (e) => {
        if (e.type === 'checkpoint' && e.step === 2) {
          // from now on every write fails as on a full disk, after writing part of its data
          (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Uint8Array, off?: number, len?: number): number => {
            if (!failed) { failed = true; realWrite(fd, buf, off ?? 0, Math.min(len ?? buf.byteLength, 100)); }
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          };
        }
      },
    });
  } catch (e) { err = e; } finally { (fs as { writeSync: unknown }).writeSync = realWrite; }
  assert.ok(isInputError(err) && /ENOSPC.*previous checkpoint is intact/.test((err as Error).message), String(err));
  assert.equal(readCheckpointMeta(out)!.meta.step, 2);
  assert.deepEqual(readdirSync(join(out, 'checkpoints')), ['latest.safetensors'], 'no temp file is left behind');
  const summary = await runTraining({ ...opts, resume: true }, noHooks);
  assert.equal(summary.steps, 6);
  assert.equal(summary.resumedFrom, 2);
});

test('bad input: NaN rows skipped and counted or stopped; d_in mismatch on resume; a width that does not fit memory', async () => {
  const x = data.x.slice(0, 1024 * data.d);
  for (let r = 0; r < 1024; r += 100) x[r * data.d + 5] = r % 200 === 0 ? NaN : Infinity;
  const bad = join(dir, 'bad.npy');
  writeNpy(bad, { dtype: 'F32', shape: [1024, data.d], data: x });
  const base: TrainOptions = { activations: [bad], outDir: join(dir, 'nan'), arch: 'relu', width: 16, batch: 64, tokens: 64 * 3, lr: 1e-3, checkpointEvery: 1 };
  const s = await runTraining(base, noHooks);
  assert.ok((s.skippedRows as number) >= 1, `skipped ${String(s.skippedRows)}`);
  await assert.rejects(runTraining({ ...base, outDir: join(dir, 'nan2'), onNonFinite: 'stop' }, noHooks), (e) => isInputError(e) && /contains NaN or Inf/.test((e as Error).message));

  const other = join(dir, 'other.npy');
  writeNpy(other, { dtype: 'F32', shape: [256, 8], data: new Float32Array(256 * 8).fill(1) });
  await assert.rejects(runTraining({ ...base, activations: [other], resume: true }, noHooks), (e) => isInputError(e) && /d_in 8 differs from the checkpoint's 32/.test((e as Error).message));
  await assert.rejects(runTraining({ ...base, resume: true, width: 17 }, noHooks), (e) => isInputError(e) && /--width/.test((e as Error).message));

  await assert.rejects(runTraining({ ...base, outDir: join(dir, 'huge'), width: 400_000_000 }, noHooks), (e) => isInputError(e) && /needs about [\d.]+ GiB/.test((e as Error).message));
  await assert.rejects(runTraining({ ...base, outDir: join(dir, 'k'), arch: 'topk', k: 40 }, noHooks), (e) => isInputError(e) && /k = 40 is larger than the width 16/.test((e as Error).message));
  assert.ok(!existsSync(checkpointPath(join(dir, 'huge'))));
});

test('--b-dec-init: b_dec starts at the sample\'s geometric median (default), mean or zeros; other values are refused; the PyTorch backend is passed the choice', async () => {
  // 1024 rows (the whole file is the start-up sample), skewed so that the median and the mean differ
  const d = 8, n = 1024, rows = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) rows[r * d + j] = 2 + j + (r % 10 === 0 ? 40 : 0) + Math.sin(r * 7 + j);
  const file = join(dir, 'skewed.npy');
  writeNpy(file, { dtype: 'F32', shape: [n, d], data: rows });
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j]! += rows[r * d + j]! / n;
  // one step at a negligible lr: the saved b_dec (raw units) is where it started
  const start = async (bDecInit?: TrainOptions['bDecInit']): Promise<Float32Array> => {
    const out = join(dir, `bdec-${bDecInit ?? 'default'}`);
    await runTraining({ activations: [file], outDir: out, arch: 'topk', width: 16, k: 2, batch: 256, tokens: 256, lr: 1e-12, seed: 1, ...(bDecInit ? { bDecInit } : {}) }, noHooks);
    return loadSae(out).bDec;
  };
  const [median, meanStart, zeros, explicitMedian] = [await start(), await start('mean'), await start('zeros'), await start('geometric_median')];
  for (let j = 0; j < d; j++) {
    assert.ok(Math.abs(meanStart[j]! - mean[j]!) < 1e-4 * Math.abs(mean[j]!), `mean: b_dec[${j}] = ${meanStart[j]}, expected ${mean[j]}`);
    assert.ok(Math.abs(zeros[j]!) < 1e-6, `zeros: b_dec[${j}] = ${zeros[j]}`);
    assert.ok(mean[j]! - median[j]! > 3, `the geometric median stays below the outliers' pull: ${median[j]} against the mean ${mean[j]}`);
    assert.equal(explicitMedian[j], median[j]);
  }
  await assert.rejects(runTraining({ activations: [file], outDir: join(dir, 'bdec-bad'), arch: 'topk', width: 16, k: 2, bDecInit: 'median' as TrainOptions['bDecInit'] }, noHooks),
    (e) => isInputError(e) && /--b-dec-init.*geometric_median, mean, zeros.*'median'/.test((e as Error).message));
  const args = torchArgs({ activations: [file], outDir: 'o', arch: 'topk', width: 16, bDecInit: 'mean' });
  assert.deepEqual(args.slice(args.indexOf('--b-dec-init'), args.indexOf('--b-dec-init') + 2), ['--b-dec-init', 'mean']);
});
