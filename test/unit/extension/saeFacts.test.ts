import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSaeFacts, describeFacts, lensTitle } from '../../../extension/saeFacts';
import { writeActivationsNpy, writeTinySae } from '../../e2e/fixtures';
import { writeEvalRecord } from '../../../src/views/evalCache';

test('facts of a SAELens folder come from cfg.json and the weights header', () => {
  const root = mkdtempSync(join(tmpdir(), 'sae-facts-'));
  const dir = join(root, 'sae');
  writeTinySae(dir, { dIn: 8, dSae: 32, k: 3, hookName: 'blocks.2.hook_resid_post', explainedVariance: 0.8712 });
  const f = readSaeFacts(dir);
  assert.ok(f && f.ok);
  assert.deepEqual([f.architecture, f.dIn, f.dSae, f.k, f.hookName, f.explainedVariance], ['topk', 8, 32, 3, 'blocks.2.hook_resid_post', 0.8712]);
  assert.equal(describeFacts(f), '32 latents · topk k=3 · EV 0.87');
  assert.equal(lensTitle({ ...f, dSae: 16384 }), 'SAE: 16,384 latents · EV 0.87');
  // The evaluated figures (eval.json, written by the panels' worker) take precedence over the training summary,
  // while the weights are the ones evaluated.
  const acts = join(root, 'acts.npy');
  writeActivationsNpy(acts, 64, 8);
  const metrics = { tokens: 64, explainedVariance: 0.5, l0: 3.2, deadFraction: 0.1, denseFraction: 0, msePerElement: 0.2, ssePerToken: 1.6 };
  assert.ok(writeEvalRecord(dir, acts, 'all 64 rows', metrics));
  const g = readSaeFacts(dir);
  assert.ok(g && g.ok);
  assert.equal(g.explainedVariance, 0.5);
  assert.equal(g.l0, 3.2);
  assert.equal(g.measuredOn, 'all 64 rows of acts.npy');
  // retrained in place: the record no longer applies
  writeTinySae(dir, { dIn: 8, dSae: 32, k: 3, seed: 5, explainedVariance: 0.8712 });
  utimesSync(join(dir, 'sae_weights.safetensors'), new Date(), new Date(Date.now() + 5000));
  const h = readSaeFacts(dir);
  assert.ok(h && h.ok);
  assert.equal(h.explainedVariance, 0.8712);
  assert.equal(h.measuredOn, undefined);
  rmSync(root, { recursive: true });
});

test('broken folders give the reason, other cfg.json files are ignored', () => {
  const root = mkdtempSync(join(tmpdir(), 'sae-facts-'));
  const missing = join(root, 'missing');
  mkdirSync(missing);
  writeFileSync(join(missing, 'cfg.json'), JSON.stringify({ d_in: 4, d_sae: 8, architecture: 'standard' }));
  assert.deepEqual(readSaeFacts(missing), { ok: false, dir: missing, name: 'missing', reason: 'sae_weights.safetensors is missing' });

  const badJson = join(root, 'badjson');
  mkdirSync(badJson);
  writeFileSync(join(badJson, 'cfg.json'), '{ "d_in": 4,');
  const b = readSaeFacts(badJson);
  assert.ok(b && !b.ok && b.reason.startsWith('cfg.json: invalid JSON'));

  const mismatch = join(root, 'mismatch');
  writeTinySae(mismatch, { dIn: 4, dSae: 8 });
  const cfg = JSON.parse(readFileSync(join(mismatch, 'cfg.json'), 'utf8'));
  writeFileSync(join(mismatch, 'cfg.json'), JSON.stringify({ ...cfg, d_sae: 9 }));
  const m = readSaeFacts(mismatch);
  assert.ok(m && !m.ok);
  assert.equal(m.reason, 'W_dec has shape [8, 4] but cfg.json says d_sae 9');

  const truncated = join(root, 'truncated');
  writeTinySae(truncated, { dIn: 4, dSae: 8 });
  writeFileSync(join(truncated, 'sae_weights.safetensors'), Buffer.from([1, 2, 3]));
  const t = readSaeFacts(truncated);
  assert.ok(t && !t.ok && /safetensors/.test(t.reason), JSON.stringify(t));

  const other = join(root, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'cfg.json'), JSON.stringify({ learning_rate: 3 }));
  assert.equal(readSaeFacts(other), undefined);
  assert.equal(readSaeFacts(join(root, 'nothing-here')), undefined);
  rmSync(root, { recursive: true });
});
