// Scores a cross-width split tree against a synthetic hierarchy's truth (test/unit/diagnostics/treeHierarchy.ts): per label
// (split, merge, refined, novel), precision and recall of the true parent → child relations. Also dumps every
// candidate pair's measurements with its truth, for choosing the rule's thresholds.
import type { SplitTreeReport, TreeInput } from '../../../src/diagnostics/splitTree';
import { firingCounts, latentRows } from '../../../src/diagnostics/encoderCodes';
import { quantile } from '../../../src/diagnostics/linalg';
import type { SparseCodes } from '../../../src/diagnostics/encoderCodes';
import type { HierarchyData } from './treeHierarchy';

export type EdgeLabel = 'split' | 'merge' | 'refined';
export type ChildLabel = EdgeLabel | 'novel';

export interface Matched {
  /** Each latent's feature: the feature whose event direction its atom matches (cos ≥ MATCH_COSINE; −1 when none, or fewer than 5 firings). */
  feature: Int32Array;
  /** That cosine (NaN when unmatched). */
  cosine: Float32Array;
  /** Share of all the latent's firings on rows where its feature is active (NaN when unmatched). */
  share: Float32Array;
}

/** A latent represents a feature when its atom is at least this close to the feature's event direction. [H] */
export const MATCH_COSINE = 0.8;

/**
 * Event directions: when feature f fires, its ancestors fire too (treeHierarchy.ts), so the mean input of f's
 * event is ∝ the sum of the directions of f and its ancestors (equal mean magnitudes). That is the atom an SAE
 * keeps for f at the absorbing optimum (docs/theory.md §C3: the merged atom ∝ E[x − b | child event]); a
 * parent-only atom is the parent's own direction (its event has no child).
 */
export function eventDirections(h: HierarchyData): Float32Array {
  const { d, nFeatures: f } = h;
  const out = new Float32Array(f * d);
  for (let i = 0; i < f; i++) {
    for (let a = i; a >= 0; a = h.parent[a]!) for (let k = 0; k < d; k++) out[i * d + k]! += h.features[a * d + k]!;
    let s = 0; for (let k = 0; k < d; k++) s += out[i * d + k]! ** 2;
    for (let k = 0; k < d; k++) out[i * d + k]! /= Math.sqrt(s);
  }
  return out;
}

/** … and at least this share of its strong firings (ã ≥ half its 90th-percentile ã) fall on rows where that feature is active. [H] */
export const MATCH_PURITY = 0.5;

/**
 * Matches each live latent (≥ 5 firings) to the feature whose event direction its decoder atom is closest to
 * (cos ≥ MATCH_COSINE), when its strong firings agree (≥ MATCH_PURITY of them on that feature's rows).
 * Matching by firing purity alone ("the deepest feature present on ≥ 80% of its firings") calls an absorbing
 * child atom w_P + w_c the parent P whenever an amortised encoder also fires it weakly on its siblings' rows,
 * which made a narrower SAE of absorbed children look like several copies of the parent and invented merges.
 * An atom between a parent's and a child's event direction that fires strongly on the siblings' rows too
 * (partial absorption) is neither: it stays unmatched and unscored.
 */
export function matchLatents(codes: SparseCodes, unitAtoms: Float32Array, h: HierarchyData): Matched {
  const f = h.nFeatures, m = codes.m, d = h.d;
  const ev = eventDirections(h);
  const cnt = firingCounts(codes);
  const cols = latentRows(codes);
  const feature = new Int32Array(m).fill(-1), cosine = new Float32Array(m).fill(NaN), share = new Float32Array(m).fill(NaN);
  for (let l = 0; l < m; l++) {
    if (cnt[l]! < 5) continue;
    let best = -1, bestCos = -Infinity;
    for (let i = 0; i < f; i++) {
      let c = 0; for (let k = 0; k < d; k++) c += unitAtoms[l * d + k]! * ev[i * d + k]!;
      if (c > bestCos) { bestCos = c; best = i; }
    }
    if (bestCos < MATCH_COSINE) continue;
    const rows = Array.from(cols.rows.subarray(cols.colPtr[l]!, cols.colPtr[l + 1]!));
    const vals = rows.map((r) => codeAt(codes, r, l));
    const strong = 0.5 * quantile(Float32Array.from(vals), 0.9);
    let nStrong = 0, on = 0, onAll = 0;
    rows.forEach((r, u) => { onAll += h.active[r * f + best]!; if (vals[u]! >= strong) { nStrong++; on += h.active[r * f + best]!; } });
    if (on >= MATCH_PURITY * nStrong) { feature[l] = best; cosine[l] = bestCos; share[l] = onAll / rows.length; }
  }
  return { feature, cosine, share };
}

function codeAt(codes: SparseCodes, r: number, l: number): number {
  for (let t = codes.rowPtr[r]!; t < codes.rowPtr[r + 1]!; t++) if (codes.idx[t] === l) return codes.val[t]!;
  return 0;
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
 * True relations S_i → L_j. S_i's feature is the nearest ancestor-or-self of L_j's feature among the features
 * the narrower SAE has latents for (a grandparent latent is not a parent when the parent has its own latent);
 * every S latent of that feature is a parent (duplicates of one feature make a merge). When S has no
 * ancestor-or-self of L_j's feature but has latents for its descendants (e.g. only absorbed children
 * w_P + w_c, and L_j is the parent alone), those latents are L_j's parents: L_j merges them. strict (within one
 * SAE): only proper ancestors, and no merges of descendants.
 */
export function trueEdges(small: Matched, large: Matched, h: HierarchyData, strict = false): [number, number][] {
  const have = new Set([...small.feature].filter((f) => f >= 0));
  const out: [number, number][] = [];
  const isDescendant = (x: number, of: number): boolean => { for (let a = h.parent[x]!; a >= 0; a = h.parent[a]!) if (a === of) return true; return false; };
  for (let j = 0; j < large.feature.length; j++) {
    const fj = large.feature[j]!;
    if (fj < 0) continue;
    let a = strict ? h.parent[fj]! : fj;
    while (a >= 0 && !have.has(a)) a = h.parent[a]!;
    const of = a >= 0 ? [...small.feature.keys()].filter((i) => small.feature[i] === a)
      : strict ? [] : [...small.feature.keys()].filter((i) => small.feature[i]! >= 0 && isDescendant(small.feature[i]!, fj));
    for (const i of of) if (!(strict && i === j)) out.push([i, j]);
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
  const matched = sorted.map((t) => matchLatents(t.codes, t.unitAtoms, h));
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
 * The within-SAE truth's firing check: a latent counts as its feature's only when at least this share of
 * *all* its firings are on that feature's rows. [H] The match's purity (above) reads strong firings only, to
 * forgive a ReLU encoder's weak leakage onto siblings; a TopK SAE with no latent of its own for a parent
 * fires the nearest child atom on the parent's rows at full top-k rank (seed 6, deep, width 9: the latent
 * matched to child 12 fires on 82% of its parent's rows and only 28% of its firings carry 12), and scoring
 * that latent as "child 12" makes every edge from it to 12's sibling a false positive. Such a latent is the
 * parent and the child at once: not scored, like a partly absorbed atom. docs/split-trees.md reports the
 * within figure at 0 (the match alone) and at 0.3, 0.4, 0.5.
 */
export const WITHIN_FIRING_SHARE = 0.4;

/** Drops from `matched` the latents with fewer than `minShare` of their firings on their feature's rows. */
export function firingConsistent(matched: Matched, minShare: number): Matched {
  const feature = matched.feature.map((f, l) => (f >= 0 && matched.share[l]! >= minShare ? f : -1));
  return { ...matched, feature };
}

/**
 * Within one SAE: precision/recall of its co-activation edges (parent j → child i) against the truth —
 * j's feature the nearest ancestor of i's feature among the features this SAE has latents for, scoring only
 * latents with ≥ minShare of their firings on their feature's rows (WITHIN_FIRING_SHARE; 0 = the match alone).
 */
export function scoreWithin(tree: SplitTreeReport, sae: number, all: Matched, h: HierarchyData, minShare = WITHIN_FIRING_SHARE): PR {
  const matched = firingConsistent(all, minShare);
  // strict: a latent's parent is a latent of a proper ancestor feature
  const truth = trueEdges(matched, matched, h, true);
  const key = (e: [number, number]): string => `${e[0]}>${e[1]}`;
  const t = new Set(truth.map(key));
  const pred: [number, number][] = tree.edges.filter((e) => e.kind === 'coactivation' && tree.nodes[e.from]!.sae === sae)
    .map((e) => [tree.nodes[e.from]!.latent, tree.nodes[e.to]!.latent] as [number, number])
    .filter(([i, j]) => matched.feature[i]! >= 0 && matched.feature[j]! >= 0);
  return pr(pred.filter((e) => t.has(key(e))).length, pred.length, truth.length);
}
