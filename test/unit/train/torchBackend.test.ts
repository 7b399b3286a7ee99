// The PyTorch backend seen from our side (src/train/torchBackend.ts): its progress lines become the built-in
// engine's TrainingEvents, cancel checkpoints and resume finishes, and a missing interpreter is one clear error.
// Needs a Python with torch: $SAE_WORKBENCH_TEST_PYTHON, else Debian's /usr/bin/python3 (skipped without one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, InputError } from '../../../src/errors';
import type { TrainingEvent, TrainingProgress } from '../../../src/protocol/training';
import { startTorchTraining, torchArgs, writeTorchrunScript } from '../../../src/train/torchBackend';
import { followTrainingLog } from '../../../src/train/logFollower';
import { loadModel } from '../../../src/formats';
import { forward } from '../../../src/sae/forward';
import { crosscoderLatentStats } from '../../../src/sae/crosscoderAnalysis';
import { encodeCrosscoder } from '../../../src/sae/crosscoder';
import { sparseFeatures, writeSynthetic } from './synthetic';
import { spawnCli } from '../../helpers/cli';

const python = process.env.SAE_WORKBENCH_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'torch-backend-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('torchArgs passes the run options under the names of `sae-workbench train`', () => {
  const a = torchArgs({ activations: ['a.npy'], outDir: 'out', arch: 'topk', width: 64, k: 8, batch: 128, normalize: false, unitNormDecoder: true, bDecInit: 'mean', matryoshkaWidths: [16, 32], threads: 2 }, { device: 'cpu' });
  assert.deepEqual(a, ['--activations', 'a.npy', '--out', 'out', '--arch', 'topk', '--width', '64', '--k', '8', '--batch', '128', '--unit-norm-decoder', '--no-normalize', '--b-dec-init', 'mean', '--matryoshka-widths', '16,32', '--device', 'cpu', '--threads', '2']);
  assert.ok(!torchArgs({ activations: ['a.npy'], outDir: 'o', arch: 'relu', width: 8, threads: 2 }, { nproc: 2 }).includes('--threads'));
});

test('a missing interpreter is refused before anything starts', () => {
  assert.throws(() => startTorchTraining({ activations: ['x.npy'], outDir: join(dir, 'never'), arch: 'topk', width: 8 }, { python: join(dir, 'no-python') }, () => undefined), (e: unknown) => e instanceof InputError && /cannot run this Python interpreter/.test(e.message));
  assert.ok(!existsSync(join(dir, 'never')));
});

test('progress lines become TrainingEvents; cancel checkpoints; resume finishes', { skip: !hasTorch && `no torch in ${python}` }, async () => {
  const acts = join(dir, 'acts.npy');
  writeSynthetic(acts, sparseFeatures(4096, 16, 20, 0.08, 4));
  const out = join(dir, 'run');
  const opts = { activations: [acts], outDir: out, arch: 'topk' as const, width: 32, k: 4, batch: 64, tokens: 64 * 3000, lr: 3e-3, checkpointEvery: 1000, threads: 1 };
  const seen: TrainingEvent[] = [];
  const handle = startTorchTraining(opts, { python }, (e) => {
    seen.push(e);
    if (e.type === 'progress' && e.progress.step >= 5) handle.cancel();
  });
  await assert.rejects(handle.done, (e: unknown) => e instanceof CancelledError);
  const progress = seen.filter((e): e is { type: 'progress'; progress: TrainingProgress } => e.type === 'progress').map((e) => e.progress);
  assert.ok(progress.length > 0);
  const p = progress.at(-1)!;
  for (const key of ['runId', 'step', 'totalSteps', 'tokens', 'totalTokens', 'loss', 'explainedVariance', 'l0', 'deadFraction', 'tokensPerSecond', 'etaSeconds', 'engine'] as const) assert.ok(key in p, key);
  assert.equal(p.totalSteps, 3000);
  assert.match(p.engine, /^torch /);
  assert.ok(seen.some((e) => e.type === 'checkpoint'), 'cancel writes a checkpoint');
  assert.equal(seen.at(-1)!.type, 'cancelled');
  assert.ok(existsSync(join(out, 'checkpoints', 'latest.safetensors')));
  assert.ok(!existsSync(join(out, '.cancel')), 'the cancel request is consumed');

  const resumed = startTorchTraining({ activations: [acts], outDir: out, arch: 'topk', width: 32, resume: true, tokens: undefined }, { python }, () => undefined);
  const summary = await resumed.done;
  assert.equal(summary.steps, 3000);
  assert.ok((summary.resumedFrom as number) >= 5);
  assert.ok(existsSync(join(out, 'cfg.json')));
  const builtin = spawnCli(['train', '--resume', '--activations', acts, '--out', out]);
  assert.equal(builtin.code, 2);
  assert.match(builtin.stderr, /written by the PyTorch backend: resume it with --backend torch/);
});

test('sae-workbench train --backend torch: bad input is one line, exit 2', { skip: !hasTorch && `no torch in ${python}` }, () => {
  const r = spawnCli(['train', '--backend', 'torch', '--python', python, '--device', 'cuda', '--activations', join(dir, 'missing.npy'), '--out', join(dir, 'bad'), '--width', '8']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(!existsSync(join(dir, 'bad')));
});

test('a torchrun job written as a script is followed through its folder: progress, cancel, resume', { skip: !hasTorch && `no torch in ${python}` }, async () => {
  const acts = join(dir, 'acts-job.npy');
  writeSynthetic(acts, sparseFeatures(4096, 16, 20, 0.08, 4));
  const out = join(dir, 'job');
  const opts = { activations: [acts], outDir: out, arch: 'topk' as const, width: 32, k: 4, batch: 64, tokens: 64 * 4000, lr: 3e-3, checkpointEvery: 1000, runId: 'job-1' };
  const { script, config } = writeTorchrunScript(opts, { python, nproc: 2 });
  assert.ok(existsSync(config));
  const launch = (): ReturnType<typeof spawn> => spawn('bash', [script], { stdio: 'ignore', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  const seen: TrainingEvent[] = [];
  const follow = followTrainingLog(out, 'job-1', (e) => {
    seen.push(e);
    if (e.type === 'progress' && e.progress.step >= 3) follow.cancel();
  }, { pollMs: 200 });
  const job = launch();
  await assert.rejects(follow.done, (e: unknown) => e instanceof CancelledError);
  await new Promise((r) => job.once('close', r));
  assert.ok(seen.some((e) => e.type === 'progress'));
  assert.ok(seen.at(-1)!.type === 'cancelled' && existsSync(join(out, 'checkpoints', 'latest.safetensors')));

  const again = writeTorchrunScript({ ...opts, resume: true }, { python, nproc: 2 });
  const finish = followTrainingLog(out, 'job-1', () => undefined, { pollMs: 200 });
  spawn('bash', [again.script], { stdio: 'ignore', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  const summary = await finish.done;
  assert.equal(summary.steps, 4000);
  assert.equal(summary.world, 2);
  assert.ok(existsSync(join(out, 'cfg.json')));
});

/** Explained variance of reconstructions against rows (both [n, d]). */
function explained(x: Float32Array, recon: Float32Array, n: number, d: number): number {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let q = 0; q < d; q++) mean[q]! += x[r * d + q]! / n;
  let sse = 0, sst = 0;
  for (let i = 0; i < n * d; i++) { sse += (x[i]! - recon[i]!) ** 2; sst += (x[i]! - mean[i % d]!) ** 2; }
  return 1 - sse / sst;
}

test('a Gated SAE trained on the PyTorch backend loads as SAELens gated and reconstructs in our forward pass', { skip: !hasTorch && `no torch in ${python}` }, async () => {
  const s = sparseFeatures(4096, 16, 20, 0.08, 5);
  const acts = join(dir, 'gated-acts.npy');
  writeSynthetic(acts, s);
  const out = join(dir, 'gated');
  const summary = await startTorchTraining({ activations: [acts], outDir: out, arch: 'gated', width: 40, batch: 128, tokens: 128 * 1500, lr: 3e-3, l1: 0.3, threads: 1 }, { python, device: 'cpu' }, () => undefined).done;
  const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8')) as { architecture: string; sae_workbench: { training: { backend: string; sparsityPenalty: string } } };
  assert.equal(cfg.architecture, 'gated');
  assert.equal(cfg.sae_workbench.training.backend, 'torch');
  assert.equal(cfg.sae_workbench.training.sparsityPenalty, 'l1_gate_decoder_norm_weighted');
  const m = loadModel(out);
  assert.ok(m.kind === 'sae');
  assert.equal(m.sae.cfg.activation, 'gated');
  assert.ok(m.sae.bMag && m.sae.rMag, 'b_mag and r_mag are loaded');
  // the saved weights work on raw rows (the activation scale folded in, b_gate read as the gate's bias):
  // our forward pass reconstructs them about as well as the run's last batch said it did
  const n = 1024;
  const { recon } = forward(m.sae, s.x.subarray(0, n * 16), n);
  const ev = explained(s.x.subarray(0, n * 16), recon, n, 16);
  const trained = (summary.final as { explainedVariance: number }).explainedVariance;
  assert.ok(trained > 0.5, `the run trained (EV ${trained})`);
  assert.ok(Math.abs(ev - trained) < 0.05, `forward EV ${ev} vs the run's ${trained}`);
});

test('a crosscoder trained on the PyTorch backend is saved in the crosscoder format our loader reads', { skip: !hasTorch && `no torch in ${python}` }, async () => {
  const a = sparseFeatures(2048, 12, 16, 0.1, 6), b = sparseFeatures(2048, 12, 16, 0.1, 7);
  const files = [join(dir, 'cc-a.npy'), join(dir, 'cc-b.npy')];
  writeSynthetic(files[0]!, a); writeSynthetic(files[1]!, b);
  const out = join(dir, 'cc');
  const summary = await startTorchTraining({ activations: files, outDir: out, arch: 'relu', crosscoder: true, width: 24, batch: 128, tokens: 128 * 300, lr: 3e-3, l1: 0.5, threads: 1 }, { python, device: 'cpu' }, () => undefined).done;
  assert.equal(summary.kind, 'crosscoder');
  assert.ok(existsSync(join(out, 'cc_weights.safetensors')) && !existsSync(join(out, 'sae_weights.safetensors')));
  const m = loadModel(out);
  assert.ok(m.kind === 'crosscoder');
  const cc = m.crosscoder;
  assert.deepEqual([cc.cfg.nSources, cc.cfg.dIn, cc.cfg.dSae], [2, 12, 24]);
  // the per-latent file is what our analysis computes from the loaded weights
  const latents = JSON.parse(readFileSync(join(out, 'crosscoder_latents.json'), 'utf8')) as { nSources: number; normShare: (number | null)[]; cosineToFirst: (number | null)[] };
  const st = crosscoderLatentStats(cc);
  assert.equal(latents.nSources, 2);
  assert.equal(latents.normShare.length, st.normShare.length);
  for (let i = 0; i < st.normShare.length; i++) assert.ok(Math.abs((latents.normShare[i] ?? NaN) - st.normShare[i]!) < 1e-6 || (latents.normShare[i] === null && Number.isNaN(st.normShare[i])), `normShare[${i}]`);
  for (let i = 0; i < st.cosineToFirst.length; i++) assert.ok(Math.abs((latents.cosineToFirst[i] ?? NaN) - st.cosineToFirst[i]!) < 1e-5 || (latents.cosineToFirst[i] === null && Number.isNaN(st.cosineToFirst[i])), `cosineToFirst[${i}]`);
  assert.deepEqual((summary.crosscoder as { relativeNormCounts: unknown }).relativeNormCounts, st.counts);
  // the layout is right (W_enc [L, d, H], W_dec [H, L, d], sources in the order given): our encoder and the
  // decoder rows reconstruct the sources about as well as the run's last batch said
  const n = 1024, w = 24;
  const x = new Float32Array(n * w);
  for (let r = 0; r < n; r++) { x.set(a.x.subarray(r * 12, (r + 1) * 12), r * w); x.set(b.x.subarray(r * 12, (r + 1) * 12), r * w + 12); }
  const codes = encodeCrosscoder(cc, x, n);
  const recon = new Float32Array(n * w);
  for (let r = 0; r < n; r++) for (let q = 0; q < w; q++) {
    let v = cc.bDec[q]!;
    for (let i = 0; i < 24; i++) v += codes[r * 24 + i]! * cc.wDec[i * w + q]!;
    recon[r * w + q] = v;
  }
  const ev = explained(x, recon, n, w), trained = (summary.final as { explainedVariance: number }).explainedVariance;
  assert.ok(trained > 0.5, `the run trained (EV ${trained})`);
  assert.ok(Math.abs(ev - trained) < 0.05, `our crosscoder forward EV ${ev} vs the run's ${trained}`);
});
