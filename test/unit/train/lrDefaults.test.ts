// TopK and BatchTopK train at a constant lr by default (SAELens's recipe): the warm-up and decay the other
// architectures keep cost them sparse recovery in short runs (`npm run bench -- quality`, docs/training.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptions } from '../../../src/train/options';

const base = { activations: ['x.npy'], outDir: 'out', width: 256, tokens: 3_000_000, batch: 4096 };

test('topk and batchtopk default to a constant lr; relu and jumprelu keep the warm-up and the decay; given values win', () => {
  for (const arch of ['topk', 'batchtopk'] as const) {
    const o = resolveOptions({ ...base, arch, k: 4 }, 3_000_000);
    assert.equal(o.lrWarmupSteps, 0, arch);
    assert.equal(o.lrDecaySteps, 0, arch);
  }
  for (const arch of ['relu', 'jumprelu'] as const) {
    const o = resolveOptions({ ...base, arch }, 3_000_000);
    assert.equal(o.lrWarmupSteps, Math.floor(733 * 0.05), arch);
    assert.equal(o.lrDecaySteps, Math.floor(733 * 0.2), arch);
  }
  const given = resolveOptions({ ...base, arch: 'topk', k: 4, lrWarmupSteps: 10, lrDecaySteps: 50 }, 3_000_000);
  assert.deepEqual([given.lrWarmupSteps, given.lrDecaySteps], [10, 50]);
});
