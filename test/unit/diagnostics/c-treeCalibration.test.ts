// The cross-width tree's calibrated figures on docs/theory.md's G2 hierarchy (docs/split-trees.md "Calibration"):
// SAEs trained by our trainer, each width from its own seed; the tree's edges scored against the known
// parent → child relations per label. The full 5-seed table over three hierarchies is bench/calibrate-tree.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSplitTree, treeInputFromSae } from '../../../src/diagnostics/splitTree';
import { G2_SETTING, trainWidths } from './treeFamily';
import { generateHierarchy } from './treeHierarchy';
import { addPR, scoreTree } from './treeScore';
import type { PR } from './treeScore';

test('C4 across widths on G2 (trained relu and topk, 2 seeds): split, novel and any-edge precision and recall ≥ 0.8', async () => {
  const pooled: Record<string, PR> = {};
  for (const arch of ['relu', 'topk'] as const) for (const seed of [1, 2]) {
    const h = generateHierarchy({ ...G2_SETTING.spec, seed });
    const saes = await trainWidths(h, G2_SETTING.widths, arch, seed);
    const inputs = saes.map((sae) => treeInputFromSae(sae, h.x, h.n, `w${sae.cfg.dSae}`));
    const tree = buildSplitTree(inputs, { skipWithin: true });
    for (const pp of scoreTree(tree, inputs, h).perPair) for (const [label, v] of Object.entries(pp)) pooled[label] = addPR(pooled[label], v);
  }
  for (const label of ['split', 'novel', 'edge']) {
    const p = pooled[label]!;
    assert.ok(p.truth >= 20, `${label}: ${p.truth} true relations`);
    assert.ok(p.precision >= 0.8 && p.recall >= 0.8, `${label}: precision ${p.precision.toFixed(2)}, recall ${p.recall.toFixed(2)} (${p.tp}/${p.predicted}/${p.truth})`);
  }
});
