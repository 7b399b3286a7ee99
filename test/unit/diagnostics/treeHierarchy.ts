// Synthetic hierarchies with known parent → child relations for calibrating the split tree (C4): a tree of
// features (depth 2 is docs/theory.md's G2; depth 3 adds grandparents) plus independent distractors that only the
// wider SAEs can afford. Each child direction is cos θ·parent + sin θ·own; a child fires only with its
// parent, one child at a time. Truth for trained SAEs: each latent is matched to the feature whose firing
// event it reproduces best (F1 of firing sets), and an edge S_i → L_j is true when L_j's feature is S_i's
// feature or one of its descendants.
import { Rng } from '../../../src/synthetic';
import { orthonormalDirections } from '../../../src/synthetic/generators';

export interface HierarchySpec { seed: number; rows: number; d: number; roots: number; branching: number[]; rootRate: number; childRate: number; distractors: number; distractorRate: number; angleDeg: number }

export interface HierarchyData { x: Float32Array; n: number; d: number; nFeatures: number; features: Float32Array; parent: Int32Array; active: Uint8Array; level: Int32Array }

export function generateHierarchy(o: HierarchySpec): HierarchyData {
  const rng = new Rng(o.seed);
  const parent: number[] = [], level: number[] = [];
  let frontier: number[] = [];
  for (let r = 0; r < o.roots; r++) { frontier.push(parent.length); parent.push(-1); level.push(0); }
  o.branching.forEach((k, depth) => {
    const next: number[] = [];
    for (const p of frontier) for (let c = 0; c < k; c++) { next.push(parent.length); parent.push(p); level.push(depth + 1); }
    frontier = next;
  });
  const treeF = parent.length;
  for (let t = 0; t < o.distractors; t++) { parent.push(-1); level.push(-1); }
  const f = parent.length, d = o.d;
  const basis = orthonormalDirections(rng, f, d);
  const features = new Float32Array(f * d);
  const th = (o.angleDeg * Math.PI) / 180;
  for (let i = 0; i < f; i++) {
    const p = parent[i]!;
    for (let j = 0; j < d; j++) features[i * d + j] = p < 0 ? basis[i * d + j]! : Math.cos(th) * features[p * d + j]! + Math.sin(th) * basis[i * d + j]!;
    let nrm = 0; for (let j = 0; j < d; j++) nrm += features[i * d + j]! ** 2;
    for (let j = 0; j < d; j++) features[i * d + j]! /= Math.sqrt(nrm);
  }
  const childrenOf: number[][] = Array.from({ length: f }, () => []);
  for (let i = 0; i < treeF; i++) if (parent[i]! >= 0) childrenOf[parent[i]!]!.push(i);
  const n = o.rows;
  const x = new Float32Array(n * d), active = new Uint8Array(n * f);
  const bias = orthonormalDirections(rng, 1, d);
  const fire = (r: number, i: number): void => {
    active[r * f + i] = 1;
    const m = rng.range(1, 2);
    for (let j = 0; j < d; j++) x[r * d + j]! += m * features[i * d + j]!;
    const ch = childrenOf[i]!;
    if (ch.length && rng.uniform() < o.childRate) fire(r, ch[rng.int(ch.length)]!);
  };
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < treeF; i++) if (parent[i] === -1 && rng.uniform() < o.rootRate) fire(r, i);
    for (let i = treeF; i < f; i++) if (rng.uniform() < o.distractorRate) fire(r, i);
    for (let j = 0; j < d; j++) x[r * d + j]! += 0.5 * bias[j]!;
  }
  return { x, n, d, nFeatures: f, features, parent: Int32Array.from(parent), active, level: Int32Array.from(level) };
}
