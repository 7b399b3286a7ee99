// `sae-workbench train` and `eval` as a user runs them (a child process, exit codes, --json output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/io/npy';
import { sparseFeatures, writeSynthetic } from './synthetic';
import { spawnCli } from '../../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'cli-train-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnCli(args);

test('train --json writes a SAELens folder and a summary; eval --json reports the metrics; bad input exits 2', () => {
  const acts = join(dir, 'acts.npy');
  writeSynthetic(acts, sparseFeatures(4096, 16, 20, 0.08, 4));
  const out = join(dir, 'sae');
  const t = cli('--json', 'train', '--activations', acts, '--out', out, '--arch', 'relu', '--width', '32', '--l1', '0.5', '--batch', '256', '--tokens', '8192', '--lr', '0.004', '--threads', '2');
  assert.equal(t.code, 0, t.stderr);
  const summary = JSON.parse(t.stdout) as { steps: number; engine: string; final: { explainedVariance: number } };
  assert.equal(summary.steps, 32);
  assert.match(summary.engine, /×2 threads/);
  assert.ok(existsSync(join(out, 'cfg.json')) && existsSync(join(out, 'training_log.jsonl')) && existsSync(join(out, 'sparsity.safetensors')));

  const e = cli('--json', 'eval', '--sae', out, '--activations', acts);
  assert.equal(e.code, 0, e.stderr);
  const m = JSON.parse(e.stdout) as Record<string, number>;
  for (const key of ['explainedVariance', 'explainedVarianceLegacy', 'l0', 'deadFraction', 'denseFraction', 'ssePerToken', 'msePerElement', 'cosine', 'l2Ratio', 'relativeReconstructionBias']) {
    assert.equal(typeof m[key], 'number', key);
  }
  assert.equal(m.tokens, 4096);
  assert.ok(m.explainedVariance! > 0.5 && m.explainedVariance! <= 1, `EV ${m.explainedVariance}`);

  const wrong = join(dir, 'wrong.npy');
  writeNpy(wrong, { dtype: 'F32', shape: [10, 7], data: new Float32Array(70) });
  const bad = cli('eval', '--sae', out, '--activations', wrong);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /wrong\.npy: rows have d_in 7, the SAE expects 16/);
});
