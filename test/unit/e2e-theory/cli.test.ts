// The CLI end to end on a trained SAE: `eval --ground-truth` adds the ground-truth metrics (checked against
// groundTruthMetrics on the same rows), and `diagnose` runs every section on a trained SAE and reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { groundTruthMetrics } from '../../../src/metrics/groundTruth';
import { readNpy } from '../../../src/io/npy';
import { toFloat32 } from '../../../src/io/tensor';
import { cleanup, run, trainOn } from './harness';

test.after(cleanup);

test('eval --ground-truth adds MMCS, recovery, L_GT, AAF and encoder |cos| (JSON and text); diagnose reports on a trained SAE', async () => {
  const t = await trainOn('cli-g1', 'g1', { seed: 4, tokens: 4096, dIn: 16, features: 16, sparsity: 0.9 }, { arch: 'relu', width: 16, l1: 1, batch: 256, tokens: 256 * 400, lr: 4e-3, seed: 4 });
  const saeDir = join(t.dir, 'sae');
  const j = await run(['--json', 'eval', '--sae', saeDir, '--activations', t.activations, '--ground-truth', t.groundTruth]);
  assert.equal(j.code, 0, j.err);
  const rep = JSON.parse(j.out) as { groundTruth: { mmcs: number; recovery: Record<string, number>; recoveryHungarian: Record<string, number>; lGT: number; aaf: number; encoderMaxAbsCos: number; perFeature: { bestCos: number[] } } };
  const x = toFloat32(readNpy(t.activations));
  const want = groundTruthMetrics(t.sae, t.gt, x, 4096);
  assert.ok(Math.abs(rep.groundTruth.mmcs - want.mmcs) < 1e-6);
  assert.deepEqual(rep.groundTruth.recovery, want.recovery);
  assert.deepEqual(rep.groundTruth.recoveryHungarian, want.recoveryHungarian);
  assert.ok(Math.abs(rep.groundTruth.lGT - want.lGT!) < 1e-6 && rep.groundTruth.lGT >= 0 && rep.groundTruth.lGT < 1, `L_GT ${rep.groundTruth.lGT}`);
  assert.ok(Math.abs(rep.groundTruth.aaf - want.aaf) < 1e-9);
  assert.ok(rep.groundTruth.encoderMaxAbsCos > 0 && rep.groundTruth.encoderMaxAbsCos <= 1);
  assert.equal(rep.groundTruth.perFeature.bestCos.length, 16);
  const h = await run(['eval', '--sae', saeDir, '--activations', t.activations, '--ground-truth', t.groundTruth]);
  assert.equal(h.code, 0, h.err);
  assert.match(h.out, /decoder MMCS \d\.\d{3}; recovery@0\.9/);
  assert.match(h.out, /L_GT \d\.\d{3}; AAF/);
  // a ground truth of another dimension is refused with one line
  const other = await trainOn('cli-g1-d8', 'g1', { seed: 1, tokens: 512, dIn: 8, features: 8 }, { arch: 'relu', width: 8, l1: 1, batch: 128, tokens: 128 * 4, seed: 1 });
  const bad = await run(['eval', '--sae', saeDir, '--activations', t.activations, '--ground-truth', other.groundTruth]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /ground truth has d 8 but the SAE has d_in 16/);

  const d = await run(['diagnose', '--sae', saeDir, '--activations', t.activations, '--skip', 'convexReference']);
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /antipodal pairs: 0 dense on 0 axes, 0 sparse/);
  assert.match(d.out, /convexReference: skipped by request/);
  assert.doesNotMatch(d.out, /\.\d+: .\n/, 'reasons print whole, not one character per line');
});
