// The PyTorch backend seen from our side (src/train/torchBackend.ts): its progress lines become the built-in
// engine's TrainingEvents, cancel checkpoints and resume finishes, and a missing interpreter is one clear error.
// Needs a Python with torch: $SAE_WORKBENCH_TEST_PYTHON, else Debian's /usr/bin/python3 (skipped without one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, InputError } from '../../../src/errors';
import type { TrainingEvent, TrainingProgress } from '../../../src/protocol/training';
import { startTorchTraining, torchArgs, writeTorchrunScript } from '../../../src/train/torchBackend';
import { followTrainingLog } from '../../../src/train/logFollower';
import { sparseFeatures, writeSynthetic } from './synthetic';
import { spawnCli } from '../../helpers/cli';

const python = process.env.SAE_WORKBENCH_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'torch-backend-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('torchArgs passes the run options under the names of `sae-workbench train`', () => {
  const a = torchArgs({ activations: ['a.npy'], outDir: 'out', arch: 'topk', width: 64, k: 8, batch: 128, normalize: false, matryoshkaWidths: [16, 32], threads: 2 }, { device: 'cpu' });
  assert.deepEqual(a, ['--activations', 'a.npy', '--out', 'out', '--arch', 'topk', '--width', '64', '--k', '8', '--batch', '128', '--no-normalize', '--matryoshka-widths', '16,32', '--device', 'cpu', '--threads', '2']);
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
