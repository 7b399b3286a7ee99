// Scores a cross-width split tree against a synthetic hierarchy's truth (test/unit/diagnostics/treeHierarchy.ts): per label
// (split, merge, refined, novel), precision and recall of the true parent → child relations. Also dumps every
// candidate pair's measurements with its truth, for choosing the rule's thresholds.
import type { SplitTreeReport, TreeInput } from '../../../src/diagnostics/splitTree';
import { firingCounts } from '../../../src/diagnostics/sparseCodes';
import type { SparseCodes } from '../../../src/diagnostics/sparseCodes';
import type { HierarchyData } from './treeHierarchy';

export type EdgeLabel = 'split' | 'merge' | 'refined';
export type ChildLabel = EdgeLabel | 'novel';

export interface Matched {
  /** Each latent's feature: the deepest feature present on ≥ minPurity of its firings (−1 when none). */
  feature: Int32Array;
  /** P(latent fires | feature active) [m, F]. */
  coverage: Float32Array;
}

export function matchLatents(codes: SparseCodes, h: HierarchyData, minPurity = 0.8): Matched {
  const f = h.nFeatures, m = codes.m;
  const both = new Float64Array(m * f);
  const cnt = firingCounts(codes);
  for (let r = 0; r < codes.n; r++) for (let t = codes.rowPtr[r]!; t < codes.rowPtr[r + 1]!; t++) {
    const l = codes.idx[t]!;
    for (let i = 0; i < f; i++) if (h.active[r * f + i]) both[l * f + i]!++;
  }
  const out = new Int32Array(m).fill(-1);
  const fcnt = new Float64Array(f);
  for (let r = 0; r < codes.n; r++) for (let i = 0; i < f; i++) fcnt[i]! += h.active[r * f + i]!;
  const coverage = Float32Array.from(both, (b, t) => b / Math.max(1, fcnt[t % f]!));
  for (let l = 0; l < m; l++) {
    if (cnt[l]! < 5) continue;
    let best = -1, bestKey = -Infinity;
    for (let i = 0; i < f; i++) {
      const p = both[l * f + i]! / cnt[l]!;
      if (p < minPurity) continue;
      const key = Math.max(0, h.level[i]!) * 10 + p;
      if (key > bestKey) { bestKey = key; best = i; }
    }
    out[l] = best;
  }
  return { feature: out, coverage };
}

/** Labels every live child from a set of (parent, child) relations: merge (≥ 2 parents), split (its parent has ≥ 2 children), refined, novel. */
export function labelChildren(edges: [number, number][], liveChildren: number[]): Map<number, ChildLabel> {
  const parents = new Map<number, number[]>(), children = new Map<number, number>();
  for (const [i, j] of edges) { (parents.get(j) ?? parents.set(j, []).get(j)!).push(i); children.set(i, (children.get(i) ?? 0) + 1); }
  const out = new Map<number, ChildLabel>();
  for (const j of liveChildren) {
    const ps = parents.get(j) ?? [];
    out.set(j, ps.length === 0 ? 'novel' : ps.length >= 2 ? 'merge' : children.get(ps[0]!)! >= 2 ? 'split' : 'refined');
  }
  return out;
}

export interface PR { tp: number; predicted: number; truth: number; precision: number; recall: number }
const pr = (tp: number, predicted: number, truth: number): PR => ({ tp, predicted, truth, precision: predicted ? tp / predicted : NaN, recall: truth ? tp / truth : NaN });

/**
 * True relations S_i → L_j: S_i's feature is the nearest ancestor-or-self of L_j's feature among the features
 * the narrower SAE has latents for (a grandparent latent is not a parent when the parent has its own latent).
 */
export function trueEdges(small: Matched, large: Matched, h: HierarchyData, minCoverage = 0.5, strict = false): [number, number][] {
  const have = new Set([...small.feature].filter((f) => f >= 0));
  const out: [number, number][] = [];
  const f = h.nFeatures;
  for (let j = 0; j < large.feature.length; j++) {
    const fj = large.feature[j]!;
    if (fj < 0) continue;
    let a = strict ? h.parent[fj]! : fj;
    while (a >= 0 && !have.has(a)) a = h.parent[a]!;
    if (a < 0) continue;
    const of = [...small.feature.keys()].filter((i) => small.feature[i] === a);
    // a feature the narrower SAE spreads over several latents: the parents are those that fire on most of
    // j's feature's rows (near the best of them)
    const top = Math.max(...of.map((i) => small.coverage[i * f + fj]!));
    const covering = of.filter((i) => small.coverage[i * f + fj]! >= Math.max(minCoverage, 0.75 * top));
    for (const i of covering.length ? covering : of) out.push([i, j]);
  }
  return out;
}

/** Precision/recall per label for one pair of widths; only latents matched to a feature count. */
export function scorePair(predicted: [number, number][], sm: Matched, lg: Matched, h: HierarchyData): Record<ChildLabel | 'edge', PR> {
  const small = sm.feature, large = lg.feature;
  const liveL = [...large.keys()].filter((j) => large[j]! >= 0);
  const truthEdges = trueEdges(sm, lg, h);
  const known = predicted.filter(([i, j]) => small[i]! >= 0 && large[j]! >= 0);
  const tl = labelChildren(truthEdges, liveL), pl = labelChildren(known, liveL);
  const key = (e: [number, number]): string => `${e[0]}>${e[1]}`;
  const truthSet = new Set(truthEdges.map(key));
  const out = {} as Record<ChildLabel | 'edge', PR>;
  out.edge = pr(known.filter((e) => truthSet.has(key(e))).length, known.length, truthEdges.length);
  for (const label of ['split', 'merge', 'refined'] as const) {
    const p = known.filter(([, j]) => pl.get(j) === label), t = truthEdges.filter(([, j]) => tl.get(j) === label);
    const tset = new Set(t.map(key));
    out[label] = pr(p.filter((e) => tset.has(key(e))).length, p.length, t.length);
  }
  const pn = liveL.filter((j) => pl.get(j) === 'novel'), tn = new Set(liveL.filter((j) => tl.get(j) === 'novel'));
  out.novel = pr(pn.filter((j) => tn.has(j)).length, pn.length, tn.size);
  return out;
}

/** Scores the width edges of a tree over every consecutive width pair (inputs sorted by width, as in the tree). */
export function scoreTree(tree: SplitTreeReport, inputs: TreeInput[], h: HierarchyData): { perPair: Record<ChildLabel | 'edge', PR>[]; matched: Matched[] } {
  const sorted = [...inputs].sort((a, b) => a.sae.cfg.dSae - b.sae.cfg.dSae);
  const matched = sorted.map((t) => matchLatents(t.codes, h));
  const perPair: Record<ChildLabel | 'edge', PR>[] = [];
  for (let s = 0; s + 1 < sorted.length; s++) {
    const edges: [number, number][] = tree.edges.filter((e) => e.kind === 'width' && tree.nodes[e.from]!.sae === s).map((e) => [tree.nodes[e.from]!.latent, tree.nodes[e.to]!.latent]);
    perPair.push(scorePair(edges, matched[s]!, matched[s + 1]!, h));
  }
  return { perPair, matched };
}

/** Sums PR counts. */
export function addPR(a: PR | undefined, b: PR): PR { return pr((a?.tp ?? 0) + b.tp, (a?.predicted ?? 0) + b.predicted, (a?.truth ?? 0) + b.truth); }

/**
 * Within one SAE: precision/recall of its co-activation edges (parent j → child i) against the truth —
 * j's feature the nearest ancestor of i's feature among the features this SAE has latents for.
 */
export function scoreWithin(tree: SplitTreeReport, sae: number, matched: Matched, h: HierarchyData): PR {
  // strict: a latent's parent is a latent of a proper ancestor feature
  const truth = trueEdges(matched, matched, h, 0.5, true).map(([i, j]) => [i, j] as [number, number]);
  const key = (e: [number, number]): string => `${e[0]}>${e[1]}`;
  const t = new Set(truth.map(key));
  const pred: [number, number][] = tree.edges.filter((e) => e.kind === 'coactivation' && tree.nodes[e.from]!.sae === sae)
    .map((e) => [tree.nodes[e.from]!.latent, tree.nodes[e.to]!.latent] as [number, number])
    .filter(([i, j]) => matched.feature[i]! >= 0 && matched.feature[j]! >= 0);
  return pr(pred.filter((e) => t.has(key(e))).length, pred.length, truth.length);
}
