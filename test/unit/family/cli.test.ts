// The family's train flags as a user types them (a child process, exit codes, --json output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateG5 } from '../../../src/synthetic/generators';
import { writeSynthetic } from '../../../src/synthetic';
import { spawnCli } from '../../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'cli-family-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnCli(args);

test('train --weighting oracle --ground-truth, --source/--target --skip, --crosscoder; bad combinations exit 2 with one line', () => {
  const files = writeSynthetic(generateG5({ sparsity: 0.9, tokens: 1024, seed: 2 }), join(dir, 'g5'));
  const w = cli('--json', 'train', '--activations', files.activations, '--out', join(dir, 'w'), '--arch', 'relu', '--width', '40', '--batch', '128', '--tokens', '2048', '--l1', '0.3', '--weighting', 'oracle', '--ground-truth', join(dir, 'g5'), '--threads', '1');
  assert.equal(w.code, 0, w.stderr);
  const cfg = JSON.parse(readFileSync(join(dir, 'w', 'cfg.json'), 'utf8')) as { sae_workbench: { training: { reconstructionWeighting: { mode: string; gamma: number[] } } } };
  assert.equal(cfg.sae_workbench.training.reconstructionWeighting.mode, 'oracle');
  assert.equal(cfg.sae_workbench.training.reconstructionWeighting.gamma.length, 20);

  const t = cli('--json', 'train', '--source', files.activations, '--target', files.activations, '--skip', '--out', join(dir, 't'), '--arch', 'relu', '--width', '16', '--batch', '128', '--tokens', '1024', '--l1', '0.01');
  assert.equal(t.code, 0, t.stderr);
  assert.equal((JSON.parse(t.stdout) as { kind: string }).kind, 'transcoder');
  assert.equal((JSON.parse(readFileSync(join(dir, 't', 'cfg.json'), 'utf8')) as { architecture: string }).architecture, 'skip_transcoder');

  const c = cli('--json', 'train', '--crosscoder', '--activations', files.activations, files.activations, '--out', join(dir, 'c'), '--width', '16', '--batch', '128', '--tokens', '1024', '--l1', '0.1');
  assert.equal(c.code, 0, c.stderr);
  assert.ok(existsSync(join(dir, 'c', 'cc_weights.safetensors')));

  for (const bad of [
    ['--weighting', 'oracle'],
    ['--weighting', 'sideways'],
    ['--source', files.activations],
    ['--matryoshka-widths', '8,x'],
  ]) {
    const args = bad[0] === '--source' ? bad : ['--activations', files.activations, ...bad];
    const r = cli('train', ...args, '--out', join(dir, 'bad'), '--width', '16', '--batch', '128', '--tokens', '256');
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
