// The hierarchies and the SAE families the split tree is calibrated on (bench/calibrate-tree.ts, and the
// c-treeCalibration test on G2): each width trained by our trainer from its own seed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/io/npy';
import { runTraining } from '../../../src/train/trainer';
import { loadSae } from '../../../src/formats/index';
import type { Sae } from '../../../src/sae/types';
import type { HierarchyData, HierarchySpec } from './treeHierarchy';

export interface TreeSetting { name: string; spec: Omit<HierarchySpec, 'seed'>; widths: number[] }

/** docs/theory.md's G2: the narrower SAE has one latent per parent. */
export const G2_SETTING: TreeSetting = { name: 'g2', spec: { rows: 16384, d: 32, roots: 4, branching: [3], rootRate: 0.12, childRate: 0.8, distractors: 6, distractorRate: 0.02, angleDeg: 90 }, widths: [4, 24] };

export const TREE_SETTINGS: TreeSetting[] = [
  G2_SETTING,
  // the same with room for the distractors at the narrower width (refinements, and duplicated parents)
  { ...G2_SETTING, name: 'g2-wide', widths: [10, 24] },
  // three levels: grandparents → parents → children over three widths
  { name: 'deep', spec: { rows: 16384, d: 48, roots: 3, branching: [2, 2], rootRate: 0.15, childRate: 0.8, distractors: 6, distractorRate: 0.02, angleDeg: 90 }, widths: [3, 9, 33] },
];

const noHooks = { emit: (): void => undefined, cancelled: (): boolean => false };

/** Trains one SAE per width on h's rows (relu: l1 1; topk: k 2), width w from seed 100·seed + w. */
export async function trainWidths(h: HierarchyData, widths: number[], arch: 'relu' | 'topk', seed: number): Promise<Sae[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tree-family-'));
  try {
    const act = join(dir, 'act.npy');
    writeNpy(act, { dtype: 'F32', shape: [h.n, h.d], data: h.x });
    const out: Sae[] = [];
    for (const [w, width] of widths.entries()) {
      const o = join(dir, `${arch}-${width}`);
      await runTraining({ activations: [act], outDir: o, arch, width, seed: seed * 100 + w, tokens: 256 * 500, batch: 256, lr: 4e-3, ...(arch === 'relu' ? { l1: 1 } : { k: 2 }) }, noHooks);
      out.push(loadSae(o));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
