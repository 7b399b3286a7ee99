// The split tree's calibrated figures on synthetic hierarchies with known parent → child relations
// (docs/split-trees.md "Calibration"): SAEs trained by our trainer, each width from its own seed; the tree's
// cross-width edges scored per label and the within-SAE DAG against the truth. The fast version: every
// hierarchy of the bench (G2, G2 with a wider narrow SAE, three levels), both architectures, one seed; the
// 5-seed table is bench/calibrate-tree.ts (thresholds chosen on seeds 6–10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSplitTree, treeInputFromSae } from '../../../src/diagnostics/splitTree';
import { TREE_SETTINGS, trainWidths } from './treeFamily';
import { generateHierarchy } from './treeHierarchy';
import { addPR, scoreTree, scoreWithin } from './treeScore';
import type { PR } from './treeScore';

test('C4 on trained SAEs over three hierarchies (relu and topk, seed 1): every label and the within-SAE DAG near their 5-seed figures', async () => {
  const pooled: Record<string, PR> = {};
  for (const s of TREE_SETTINGS) for (const arch of ['relu', 'topk'] as const) {
    const h = generateHierarchy({ ...s.spec, seed: 1 });
    const saes = await trainWidths(h, s.widths, arch, 1);
    const inputs = saes.map((sae) => treeInputFromSae(sae, h.x, h.n, `w${sae.cfg.dSae}`));
    const tree = buildSplitTree(inputs);
    const score = scoreTree(tree, inputs, h);
    for (const pp of score.perPair) for (const [label, v] of Object.entries(pp)) pooled[label] = addPR(pooled[label], v);
    score.matched.forEach((m, k) => { pooled.within = addPR(pooled.within, scoreWithin(tree, k, m, h)); });
  }
  const show = (p: PR): string => `precision ${p.precision.toFixed(2)}, recall ${p.recall.toFixed(2)} (${p.tp}/${p.predicted}/${p.truth})`;
  // One seed holds 8–70 true relations per label, too few for the 5-seed target itself (precision and recall
  // ≥ 0.8 per label, met by bench/calibrate-tree.ts on seeds 1–5; single seeds range 0.65–1.0): this holds
  // each label at ≥ 0.65 and all edges at ≥ 0.9.
  for (const label of ['split', 'merge', 'refined', 'novel']) {
    const p = pooled[label]!;
    assert.ok(p.truth >= 5, `${label}: only ${p.truth} true relations`);
    assert.ok(p.precision >= 0.65 && p.recall >= 0.65, `${label}: ${show(p)}`);
  }
  assert.ok(pooled.edge!.precision >= 0.9 && pooled.edge!.recall >= 0.9, `any edge: ${show(pooled.edge!)}`);
  // Within one SAE the target is not met (docs/split-trees.md: 0.79 / 0.76 over seeds 1–5; seed 1 alone
  // 0.77 / 0.72, 48/62/67; 0.81 / 0.69, 55/68/80, since TopK trains free decoder rows from uniform entries);
  // this holds what the direction nestings bought over co-firing alone (recall 0.16), at the labels' 0.65.
  const w = pooled.within!;
  assert.ok(w.truth >= 20 && w.precision >= 0.7 && w.recall >= 0.65, `within: ${show(w)}`);
});
