// `train` keeps another run's output, records what the SAE was trained on, and warns when a run ends with
// most latents dead or no variance explained, naming the flag to change. `convert` carries the record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../../helpers/cli';
import { sparseFeatures, writeSynthetic } from '../train/synthetic';
import { readSaeData } from '../../../src/data/saeData';

const dir = mkdtempSync(join(tmpdir(), 'cli-train-safety-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const acts = join(dir, 'data', 'acts.npy');
mkdirSync(join(dir, 'data'));
writeSynthetic(acts, sparseFeatures(2048, 16, 20, 0.08, 4));
const base = ['--activations', acts, '--arch', 'relu', '--width', '32', '--batch', '256', '--tokens', '4096', '--threads', '1'];

test('train refuses a non-empty --out unless --force or --resume, and records activations, hook and model', () => {
  const out = join(dir, 'busy');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'keep me');
  const refused = spawnCli(['train', ...base, '--out', out, '--l1', '0.5']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /busy: is not empty \(another run\?\); pass --resume to continue it or --force to replace it/);
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'keep me');

  const forced = spawnCli(['train', ...base, '--out', out, '--l1', '0.5', '--force', '--hook-name', 'blocks.2.hook_resid_post', '--model-name', 'gpt2']);
  assert.equal(forced.code, 0, forced.stderr);
  const rec = readSaeData(out);
  assert.deepEqual(rec.activations, [acts]);
  assert.equal(rec.hookName, 'blocks.2.hook_resid_post');
  assert.equal(rec.modelName, 'gpt2');
  const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8')) as { metadata: { dataset_path: string } };
  assert.equal(cfg.metadata.dataset_path, '../data/acts.npy');

  const converted = join(dir, 'elsewhere', 'copy');
  const c = spawnCli(['convert', out, '--to', converted]);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(readSaeData(converted).activations, [acts], 'the relative path is written again from the new folder');
  assert.equal(readSaeData(converted).hookName, 'blocks.2.hook_resid_post');
});

test('a run that kills its latents ends with a warning naming --l1; a sane run has none', () => {
  const dead = spawnCli(['train', ...base, '--out', join(dir, 'dead'), '--l1', '500']);
  assert.equal(dead.code, 0, dead.stderr);
  assert.match(dead.stderr, /warning: (.*% of the latents are dead at the end of the run|the SAE explains no variance \(EV -?[\d.]+\)): lower --l1/);
  const sane = spawnCli(['train', ...base, '--out', join(dir, 'sane'), '--l1', '0.5', '--lr', '0.004']);
  assert.equal(sane.code, 0, sane.stderr);
  assert.doesNotMatch(sane.stderr, /dead at the end|explains no variance/);
});
