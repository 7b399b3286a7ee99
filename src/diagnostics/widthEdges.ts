/**
 * C4 across widths (docs/split-trees.md): every live latent j of the wider SAE gets its parents in the next
 * narrower SAE with a confidence, and a label. The candidates are the narrower latents that co-fire with j
 * (containment P(ã^S_i > 0 | ã^L_j > 0) > 0) and j's best decoder-cosine match; the confidence is the mean of
 * decoder cosine and encoder agreement (./widthMeasures.ts; negative cosines count as 0). j's parents are the candidates whose confidence reaches
 * SPLIT_TREE.edgeConfidence and is at least SPLIT_TREE.mergeRelative × the best candidate's; when the best
 * candidate is j's own feature (decoder cos ≥ DUPLICATES.cosine), only its duplicates (also at that cosine) are
 * further parents — a sibling's merged atom (cos ≈ 0.5–0.75 to j) is not; a latent with
 * none is novel (its best candidate and confidence are still reported). Labels: merge (≥ 2 parents), split
 * (its parent has ≥ 2 children), refined (one parent with one child), novel. The rule and both thresholds
 * were chosen on trained SAEs over synthetic hierarchies with known relations (bench/calibrate-tree.ts).
 * The strict split test (coverage, children's co-activation, B2's centroid) is then a mark on each split.
 */
import { DUPLICATES, SPLIT_TREE } from './thresholds';
import { parentCandidates } from './widthMeasures';
import type { ParentCandidate, WidthSide } from './widthMeasures';
import { dotAt } from './linalg';

export type WidthLabel = 'split' | 'merge' | 'refined' | 'novel';

/**
 * Confidence of a candidate parent: mean of decoder cosine and encoder agreement (cosine alone when the
 * encoder does not read the decoder's space). Containment is not in it: an amortised encoder fires a
 * sibling's merged atom weakly on the child's rows, so containment is as high for siblings as for parents
 * (bench/calibrate-tree.ts; docs/split-trees.md "Calibration"). It still chooses the candidates and
 * decides the strict split test.
 */
export function edgeConfidence(c: Pick<ParentCandidate, 'cosine' | 'encoder'>): number {
  const parts = [Math.max(0, c.cosine)];
  if (Number.isFinite(c.encoder)) parts.push(Math.max(0, c.encoder));
  return parts.reduce((a, b) => a + b, 0) / parts.length;
}

export interface WidthParent extends ParentCandidate { confidence: number }

export interface WidthLinks {
  /** Wider latent → its kept parents (confidence descending). */
  parents: Map<number, WidthParent[]>;
  /** Wider latent → its best candidate when none was kept (novel). */
  bestRejected: Map<number, WidthParent>;
  /** Wider latent → label. */
  label: Map<number, WidthLabel>;
  /** Narrower latent → its children (wider latents whose parents include it). */
  children: Map<number, number[]>;
  /** Same-index identical atom pairs left out as shared initialisation (0 when not detected). */
  sharedInit: number;
}

/** Parents, confidences and labels of every live latent of L (liveL) among the live latents of S (liveS). */
export function linkWidths(S: WidthSide, L: WidthSide, liveS: number[], liveL: number[]): WidthLinks {
  const cand = parentCandidates(S, L, liveS, liveL);
  // Shared initialisation: two widths trained from one seed (both record it) start with identical first
  // atoms, and atoms that never moved are identical still. When most live narrower atoms have their
  // identical twin at the same index, those same-index pairs say nothing about features and are not
  // candidates. Without a common recorded seed identical atoms are kept (e.g. a narrower SAE cut from a
  // wider one: the same features).
  const seedS = S.sae.cfg.training?.seed, seedL = L.sae.cfg.training?.seed;
  const sameSeed = seedS !== undefined && seedS !== null && seedS === seedL;
  const liveLSet = new Set(liveL);
  const twins = sameSeed ? liveS.filter((i) => liveLSet.has(i) && sideCosine(S, i, L, i) >= SPLIT_TREE.sharedInitCosine) : [];
  const sharedInit = liveS.length > 0 && twins.length >= 0.5 * liveS.length ? twins.length : 0;
  if (sharedInit) for (const i of twins) cand.set(i, (cand.get(i) ?? []).filter((c) => c.i !== i));
  const parents = new Map<number, WidthParent[]>(), bestRejected = new Map<number, WidthParent>();
  const children = new Map<number, number[]>();
  for (const j of liveL) {
    const scored = (cand.get(j) ?? []).map((c) => ({ ...c, confidence: edgeConfidence(c) })).sort((a, b) => b.confidence - a.confidence);
    if (!scored.length) continue;
    const best = scored[0]!.confidence;
    // A second parent makes j a merge. When the best candidate is j's own feature (an atom as close as a
    // duplicate), j merges only that feature's duplicates: a sibling's merged atom w_P + w_s sits at cos
    // 0.5–0.75 to j and, with an encoder that reads j's direction only in part (TopK), reaches mergeRelative × best.
    const sameFeature = scored[0]!.cosine >= DUPLICATES.cosine;
    const kept = scored.filter((c) => c.confidence >= SPLIT_TREE.edgeConfidence && c.confidence >= SPLIT_TREE.mergeRelative * best
      && (!sameFeature || c.cosine >= DUPLICATES.cosine));
    if (!kept.length) { bestRejected.set(j, scored[0]!); continue; }
    parents.set(j, kept);
    for (const p of kept) (children.get(p.i) ?? children.set(p.i, []).get(p.i)!).push(j);
  }
  const label = new Map<number, WidthLabel>();
  for (const j of liveL) {
    const ps = parents.get(j);
    label.set(j, !ps ? 'novel' : ps.length >= 2 ? 'merge' : children.get(ps[0]!.i)!.length >= 2 ? 'split' : 'refined');
  }
  return { parents, bestRejected, label, children, sharedInit };
}

/** Decoder cosine of latent i of a and latent j of b. */
export function sideCosine(a: WidthSide, i: number, b: WidthSide, j: number): number {
  const d = a.sae.cfg.dOut;
  return dotAt(a.unitAtoms, i * d, b.unitAtoms, j * d, d);
}
