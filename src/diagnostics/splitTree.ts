/**
 * C4 — hierarchical splitting (docs/theory.md §C C4). Within one dictionary: the co-activation DAG (j → i when
 * j fires on almost every firing of i but not conversely), its transitive reduction, and B3's certificate
 * V_ij that such a pair cannot be stationary. Across widths: each larger-SAE latent's decoder-cosine parent
 * in the next smaller SAE, activation containment, split / merge / novel labels and B2's centroid check.
 * Matryoshka SAEs: parents across prefix levels of one SAE.
 */
import { buildContext, residualNorms } from './context';
import type { DiagnosticContext } from './context';
import { decoderNorms } from '../sae/forward';
import type { Sae } from '../sae/types';
import { dotAt, quantile } from './linalg';
import { coFiringCandidates, encodeSparse, firingCounts, latentRows, pairStats } from './encoderCodes';
import type { LatentRows, SparseCodes } from './encoderCodes';
import { NESTING, SPLIT_TREE } from './thresholds';
import { linkWidths } from './widthEdges';
import { isNesting, nestingCandidates } from './nesting';
import type { NestingPair } from './nesting';
import type { WidthLabel } from './widthEdges';
import type { WidthSide } from './widthMeasures';

/** One SAE's codes on the shared sample, as the tree needs them. */
export interface TreeInput {
  name: string;
  sae: Sae;
  codes: SparseCodes;
  unitAtoms: Float32Array;
  /** ‖r_n‖ per row (for V_ij); absent for transcoders. */
  residualNorms?: Float32Array;
  lambdaE: number;
  /** Optional annotations: latent → label. */
  labels?: Map<number, string>;
}

export type TreeEdgeKind = 'coactivation' | 'width' | 'matryoshka';

export interface TreeNode {
  /** Index into `saes`. */
  sae: number;
  latent: number;
  density: number;
  label?: string;
  /**
   * 'split' (≥ 2 children at the next width), 'strict-split' (and they pass the strict split test), 'merge',
   * 'novel', 'centroid-ok', 'centroid-off', 'level:<k>' (Matryoshka).
   */
  tags: string[];
}

export interface TreeEdge {
  kind: TreeEdgeKind;
  /** Node indices: from = parent, to = child. */
  from: number;
  to: number;
  cosine: number;
  /** P(parent fires | child fires). */
  containment: number;
  /** Across widths: cos(w_enc of the parent, d̂ of the child) (NaN for transcoders), the edge's confidence and the child's label. */
  encoder?: number;
  confidence?: number;
  label?: Exclude<WidthLabel, 'novel'>;
  /** Within one dictionary: P(child fires | parent fires). */
  reverseContainment?: number;
  /**
   * Within one dictionary, what found the edge: 'cofiring' (the parent fires on the child's rows) or
   * 'direction' (the parent's direction is on the child's rows though the parent is silent: absorption;
   * ./nesting.ts), with the two direction ratios.
   */
  basis?: 'cofiring' | 'direction';
  directionForward?: number;
  directionReverse?: number;
  /** Within one dictionary: V_ij with ρ = max‖r‖ (> 0 certifies non-stationarity) and with ρ = q₉₉‖r‖. */
  certificate?: number;
  certificateRobust?: number;
  nonStationary?: boolean;
  reason?: string;
}

/** A novel latent's best candidate parent, below the edge confidence. */
export interface NovelParent { node: number; parent: number; confidence: number; cosine: number; containment: number }

export interface SplitRecord {
  /** Node index of the small latent. */
  node: number;
  children: number[];
  coverage: number;
  /** `split` below is the strict split test, a mark of confidence: the latent is labelled split by its ≥ 2 children. */
  /**
   * Largest pairwise co-activation ratio among the children, counting a row only when both codes are at
   * least SPLIT_TREE.coActivationShare × the row's strongest child code: #both/min(#a, #b).
   * This decides `split`.
   */
  maxCoActivation: number;
  /** The same ratio counting every row where both fire at all (docs/theory.md §C4's literal test; reported only). */
  maxCoFiring: number;
  centroidCosine: number;
  centroidOk: boolean;
  split: boolean;
  /** Why a latent with ≥ 2 children is not a split: low coverage, duplicate children, or shared rows (latent indices of the larger SAE). */
  notSplit?: string;
  reason?: string;
}

export interface SplitTreeReport {
  saes: { name: string; width: number; live: number; lambdaE: number; rho: number; rhoRobust: number; reason?: string }[];
  nodes: TreeNode[];
  edges: TreeEdge[];
  splits: SplitRecord[];
  /** Large-latent node → its ≥ 2 small parents (node indices). */
  merges: { node: number; parents: number[] }[];
  /** Per consecutive width pair (small, large): the large latents without a parent. */
  novel: { small: number; large: number; nodes: number[]; bestParents: NovelParent[]; sharedInit?: number; reason?: string }[];
  rows: number;
  /** Which rows, in one line (src/io/rowSample.ts), when read from a file. */
  sample?: string;
}

export interface SplitTreeOptions {
  /** Skip the within-dictionary DAG (default false). */
  skipWithin?: boolean;
}

/** Tree input from a shared diagnostic context. */
export function treeInputFromContext(ctx: DiagnosticContext, name: string): TreeInput {
  return { name, sae: ctx.sae, codes: ctx.codes, unitAtoms: ctx.unitAtoms, residualNorms: residualNorms(ctx), lambdaE: ctx.lambdaE };
}

/** Tree input encoded chunk by chunk (never the dense [n, d_sae] codes); λ_e as stored, else estimated on ≤ 1024 rows. */
export function treeInputFromSae(sae: Sae, x: Float32Array, n: number, name: string, chunkRows = 1024): TreeInput {
  const { dSae, dOut } = sae.cfg;
  const enc = encodeSparse(sae, x, n, chunkRows);
  const norms = decoderNorms(sae);
  const unitAtoms = new Float32Array(dSae * dOut);
  for (let i = 0; i < dSae; i++) if (norms[i]! > 0) for (let j = 0; j < dOut; j++) unitAtoms[i * dOut + j] = sae.wDec[i * dOut + j]! / norms[i]!;
  const stored = Number(sae.cfg.training?.lambdaE);
  const lambdaE = Number.isFinite(stored) && stored > 0 ? stored : buildContext(sae, x, Math.min(n, 1024)).lambdaE;
  return { name, sae, codes: enc.codes, unitAtoms, residualNorms: sae.cfg.transcoder ? undefined : enc.residualNorms, lambdaE };
}

/** C4 over shared contexts (one per SAE, same rows). */
export function splitTreeSection(ctxs: DiagnosticContext[], opts: SplitTreeOptions = {}): SplitTreeReport {
  return buildSplitTree(ctxs.map((c, i) => treeInputFromContext(c, `sae${i}`)), opts);
}

interface Prepared { input: TreeInput; cols: LatentRows; counts: Int32Array; mass: Float64Array; width: number; d: number }

/** Builds the within, across-width and Matryoshka structure. Inputs are sorted by width here. */
export function buildSplitTree(inputs: TreeInput[], opts: SplitTreeOptions = {}): SplitTreeReport {
  if (inputs.length === 0) throw new Error('buildSplitTree: no SAEs');
  const rows = inputs[0]!.codes.n;
  const sorted = [...inputs].sort((a, b) => a.sae.cfg.dSae - b.sae.cfg.dSae);
  const prepared: Prepared[] = sorted.map((input) => {
    const cols = latentRows(input.codes);
    const counts = firingCounts(input.codes);
    const mass = new Float64Array(input.codes.m);
    for (let t = 0; t < input.codes.idx.length; t++) mass[input.codes.idx[t]!]! += input.codes.val[t]!;
    return { input, cols, counts, mass, width: input.sae.cfg.dSae, d: input.sae.cfg.dOut };
  });
  const nodes: TreeNode[] = [];
  const nodeOf: Map<number, number>[] = prepared.map(() => new Map());
  const saes: SplitTreeReport['saes'] = [];
  prepared.forEach((p, s) => {
    let live = 0;
    for (let i = 0; i < p.width; i++) {
      if (p.counts[i]! === 0) continue;
      live++;
      nodeOf[s]!.set(i, nodes.length);
      const label = p.input.labels?.get(i);
      nodes.push({ sae: s, latent: i, density: p.counts[i]! / rows, ...(label !== undefined ? { label } : {}), tags: [] });
    }
    const norms = p.input.residualNorms;
    const rho = norms && norms.length ? norms.reduce((a, b) => Math.max(a, b), 0) : NaN;
    const entry: SplitTreeReport['saes'][number] = {
      name: p.input.name, width: p.width, live, lambdaE: p.input.lambdaE, rho, rhoRobust: norms && norms.length ? quantile(norms, SPLIT_TREE.robustRhoQuantile) : NaN,
    };
    if (!norms) entry.reason = 'no residual norms (transcoder or not computed): V_ij is not available';
    else if (!(p.input.lambdaE > 0)) entry.reason = `λ_e is ${p.input.lambdaE}: V_ij is not available`;
    if (live === 0) entry.reason = 'every latent is dead on this sample: no nodes';
    saes.push(entry);
  });
  const edges: TreeEdge[] = [];
  if (!opts.skipWithin) prepared.forEach((p, s) => edges.push(...withinDictionary(p, nodeOf[s]!, saes[s]!)));
  prepared.forEach((p, s) => {
    const levels = p.input.sae.cfg.matryoshkaWidths;
    if (levels && levels.length > 1) edges.push(...matryoshkaEdges(p, nodeOf[s]!, levels, nodes));
  });
  const splits: SplitRecord[] = [];
  const merges: SplitTreeReport['merges'] = [];
  const novel: SplitTreeReport['novel'] = [];
  for (let s = 0; s + 1 < prepared.length; s++) {
    const r = acrossWidths(prepared[s]!, prepared[s + 1]!, nodeOf[s]!, nodeOf[s + 1]!, nodes, rows);
    edges.push(...r.edges);
    splits.push(...r.splits);
    merges.push(...r.merges);
    novel.push({ small: s, large: s + 1, nodes: r.novel, bestParents: r.unlinked,
      ...(r.sharedInit ? { sharedInit: r.sharedInit, reason: `${r.sharedInit} atoms of the wider SAE are identical to the narrower SAE's at the same index (one seed's initialisation, never trained away): those pairs are not edges` } : {}) });
  }
  return { saes, nodes, edges, splits, merges, novel, rows };
}

function cosine(a: Prepared, i: number, b: Prepared, j: number): number {
  return dotAt(a.input.unitAtoms, i * a.d, b.input.unitAtoms, j * b.d, a.d);
}

interface WithinParent { j: number; t: number; cos: number; basis: 'cofiring' | 'direction'; forward?: number; reverse?: number }
const margin = (e: WithinParent): number => (e.forward ?? 1) - (e.reverse ?? 0);

/** Co-activation DAG (co-firing and direction nestings) with transitive reduction and the B3 certificate. */
function withinDictionary(p: Prepared, nodeOf: Map<number, number>, info: SplitTreeReport['saes'][number]): TreeEdge[] {
  const { codes } = p.input;
  const cand = coFiringCandidates(codes, p.cols, SPLIT_TREE.dagParentGivenChild - 0.2);
  const pairs: number[] = [];
  for (let i = 0; i < p.width; i++) {
    if (p.counts[i]! < SPLIT_TREE.minFirings) continue;
    for (const j of cand[i]!) if (p.counts[j]! >= p.counts[i]!) pairs.push(i, j);
  }
  const stats = pairStats(codes, p.cols, Int32Array.from(pairs));
  const parentsOf = new Map<number, WithinParent[]>();
  for (let t = 0; t < pairs.length / 2; t++) {
    const i = pairs[2 * t]!, j = pairs[2 * t + 1]!;
    const both = stats.both[t]!;
    if (both / p.counts[i]! < SPLIT_TREE.dagParentGivenChild || both / p.counts[j]! > SPLIT_TREE.dagChildGivenParent) continue;
    const c = cosine(p, i, p, j);
    if (c < SPLIT_TREE.dagMinCosine || c >= SPLIT_TREE.dagMaxCosine) continue;
    let list = parentsOf.get(i);
    if (!list) parentsOf.set(i, (list = []));
    list.push({ j, t, cos: c, basis: 'cofiring' });
  }
  // Nestings absorption hides from co-firing (./nesting.ts): the parent's direction on the child's rows.
  const candidates = nestingCandidates(codes, p.cols, p.counts, p.input.unitAtoms, p.d, SPLIT_TREE.minFirings)
    .filter((e) => e.cosine < SPLIT_TREE.dagMaxCosine);
  const nested = candidates.filter((e) => isNesting(e) && !(parentsOf.get(e.child) ?? []).some((o) => o.j === e.parent));
  // A latent left with no parent takes its best direction candidate at a smaller margin (NESTING.orphanMargin):
  // a parent's rows carry its other children too, which raises the reverse ratio below the root level.
  const orphanOf = new Map<number, NestingPair>();
  for (const e of candidates) {
    if (parentsOf.has(e.child) || !isNesting(e, NESTING.orphanMargin)) continue;
    const best = orphanOf.get(e.child);
    if (!best || e.forward - e.reverse > best.forward - best.reverse) orphanOf.set(e.child, e);
  }
  for (const e of orphanOf.values()) if (!nested.some((o) => o.child === e.child)) nested.push(e);
  const nestedStats = pairStats(codes, p.cols, Int32Array.from(nested.flatMap((e) => [e.child, e.parent])));
  nested.forEach((e, u) => {
    let list = parentsOf.get(e.child);
    if (!list) parentsOf.set(e.child, (list = []));
    list.push({ j: e.parent, t: u, cos: e.cosine, basis: 'direction', forward: e.forward, reverse: e.reverse });
  });
  // A pair found both ways round keeps the direction with the larger margin (the DAG must stay acyclic).
  for (const [i, list] of parentsOf) {
    for (let k = list.length - 1; k >= 0; k--) {
      const { j } = list[k]!;
      const back = parentsOf.get(j)?.find((o) => o.j === i);
      if (back && margin(back) > margin(list[k]!)) list.splice(k, 1);
    }
  }
  // Transitive reduction: drop j → i when j is an ancestor of another parent of i. Co-firing edges need
  // count_j ≥ 1.8 count_i; direction edges need forward > reverse, and a pair found both ways keeps one.
  const ancestors = new Map<number, Set<number>>();
  const ancestorsOf = (i: number): Set<number> => {
    let a = ancestors.get(i);
    if (a) return a;
    a = new Set();
    ancestors.set(i, a);
    for (const { j } of parentsOf.get(i) ?? []) { if (a.has(j)) continue; a.add(j); for (const g of ancestorsOf(j)) a.add(g); }
    return a;
  };
  const out: TreeEdge[] = [];
  const rhoRatio = info.rho / p.input.lambdaE;
  const rhoRobustRatio = info.rhoRobust / p.input.lambdaE;
  for (const [i, list] of parentsOf) {
    for (const { j, t, cos, basis, forward, reverse } of list) {
      if (list.some((o) => o.j !== j && ancestorsOf(o.j).has(j))) continue;
      const st = basis === 'cofiring' ? stats : nestedStats;
      const pi = st.sumFirst[t]! / p.mass[i]!; // π_{j|i} = E[a_i 1(a_j>0)]/E[a_i]
      const certificate = (1 - cos) - (1 - pi) * (1 + rhoRatio);
      const certificateRobust = (1 - cos) - (1 - pi) * (1 + rhoRobustRatio);
      out.push({
        kind: 'coactivation', from: nodeOf.get(j)!, to: nodeOf.get(i)!, cosine: cos,
        containment: st.both[t]! / p.counts[i]!, reverseContainment: st.both[t]! / p.counts[j]!, basis,
        ...(forward !== undefined ? { directionForward: forward, directionReverse: reverse } : {}),
        certificate, certificateRobust, nonStationary: certificate > 0,
        ...(Number.isFinite(certificate) ? {} : { reason: info.reason ?? 'V_ij needs max‖r‖ and a positive λ_e' }),
      });
    }
  }
  return out;
}

function acrossWidths(S: Prepared, L: Prepared, nodeS: Map<number, number>, nodeL: Map<number, number>, nodes: TreeNode[], rows: number):
  { edges: TreeEdge[]; splits: SplitRecord[]; merges: SplitTreeReport['merges']; novel: number[]; unlinked: NovelParent[]; sharedInit: number } {
  if (S.d !== L.d) throw new Error(`SAEs of different d_out (${S.d} vs ${L.d}) cannot be compared`);
  const side = (p: Prepared): WidthSide => ({ sae: p.input.sae, codes: p.input.codes, cols: p.cols, counts: p.counts, unitAtoms: p.input.unitAtoms });
  const liveL = [...nodeL.keys()];
  const links = linkWidths(side(S), side(L), [...nodeS.keys()], liveL);
  const edges: TreeEdge[] = [];
  const merges: SplitTreeReport['merges'] = [];
  const novel: number[] = [], unlinked: NovelParent[] = [];
  for (const j of liveL) {
    const label = links.label.get(j)!, node = nodeL.get(j)!;
    const kept = links.parents.get(j);
    if (!kept) {
      novel.push(node); nodes[node]!.tags.push('novel');
      const best = links.bestRejected.get(j);
      if (best) unlinked.push({ node, parent: nodeS.get(best.i)!, confidence: best.confidence, cosine: best.cosine, containment: best.containment });
      continue;
    }
    for (const k of kept) edges.push({ kind: 'width', from: nodeS.get(k.i)!, to: node, cosine: k.cosine, containment: k.containment, encoder: k.encoder, confidence: k.confidence, label: label as Exclude<WidthLabel, 'novel'> });
    if (label === 'merge') { merges.push({ node, parents: kept.map((k) => nodeS.get(k.i)!) }); nodes[node]!.tags.push('merge'); }
  }
  const childrenOf = new Map<number, { j: number; massS: number }[]>();
  for (const [i, js] of links.children) childrenOf.set(i, js.map((j) => ({ j, massS: links.parents.get(j)!.find((p) => p.i === i)!.massS })));
  const splits: SplitRecord[] = [];
  for (const [i, children] of childrenOf) {
    if (children.length < 2) continue;
    const childSet = new Set(children.map((c) => c.j));
    let covered = 0;
    for (let u = S.cols.colPtr[i]!; u < S.cols.colPtr[i + 1]!; u++) {
      const r = S.cols.rows[u]!;
      for (let t = L.input.codes.rowPtr[r]!; t < L.input.codes.rowPtr[r + 1]!; t++) if (childSet.has(L.input.codes.idx[t]!)) { covered++; break; }
    }
    const coverage = covered / S.counts[i]!;
    // Pairwise co-activation of the children, from the rows where any of them fires. An amortised encoder
    // fires a merged child atom m_c ∝ w_P + w_c weakly on a sibling's rows too (⟨m_c, w_P + w_c'⟩ > 0), so
    // the split test counts a row only when both codes are comparable to the row's strongest child code;
    // co-firing at any level is reported beside it.
    const pairCount = new Map<number, number>(), pairAny = new Map<number, number>();
    const seenRows = new Set<number>();
    for (const { j } of children) for (let u = L.cols.colPtr[j]!; u < L.cols.colPtr[j + 1]!; u++) seenRows.add(L.cols.rows[u]!);
    for (const r of seenRows) {
      const act: number[] = [], val: number[] = [];
      for (let t = L.input.codes.rowPtr[r]!; t < L.input.codes.rowPtr[r + 1]!; t++) if (childSet.has(L.input.codes.idx[t]!)) { act.push(L.input.codes.idx[t]!); val.push(L.input.codes.val[t]!); }
      const strong = SPLIT_TREE.coActivationShare * val.reduce((x, y) => Math.max(x, y), 0);
      for (let a = 0; a < act.length; a++) for (let b = a + 1; b < act.length; b++) {
        const key = act[a]! * L.width + act[b]!;
        pairAny.set(key, (pairAny.get(key) ?? 0) + 1);
        if (Math.min(val[a]!, val[b]!) >= strong) pairCount.set(key, (pairCount.get(key) ?? 0) + 1);
      }
    }
    const ratio = (counts: Map<number, number>): { value: number; a: number; b: number } => {
      const worst = { value: 0, a: -1, b: -1 };
      for (const [key, cnt] of counts) {
        const a = Math.floor(key / L.width), b = key % L.width, v = cnt / Math.min(L.counts[a]!, L.counts[b]!);
        if (v > worst.value) Object.assign(worst, { value: v, a, b });
      }
      return worst;
    };
    const co = ratio(pairCount), maxCo = co.value, maxCoFiring = ratio(pairAny).value;
    // Centroid check (B2 for near-1-sparse codes): d̂^S_i ∥ Σ_j E[ã^S_i 1(ã^L_j > 0)] d̂^L_j.
    const centroid = new Float64Array(S.d);
    for (const { j, massS } of children) for (let t = 0; t < S.d; t++) centroid[t]! += (massS / rows) * L.input.unitAtoms[j * L.d + t]!;
    let nrm = 0, dot = 0;
    for (let t = 0; t < S.d; t++) { nrm += centroid[t]! ** 2; dot += centroid[t]! * S.input.unitAtoms[i * S.d + t]!; }
    const centroidCosine = nrm > 0 ? dot / Math.sqrt(nrm) : NaN;
    const centroidOk = centroidCosine >= SPLIT_TREE.centroidMinCosine;
    const split = coverage >= SPLIT_TREE.splitCoverage && maxCo <= SPLIT_TREE.splitMaxCoActivation;
    let notSplit: string | undefined;
    if (!split) {
      const pairCos = co.a >= 0 ? cosine(L, co.a, L, co.b) : NaN;
      notSplit = coverage < SPLIT_TREE.splitCoverage ? `the children cover only ${Math.round(100 * coverage)}% of its firings`
        : pairCos >= SPLIT_TREE.duplicateCosine ? `children ${co.a} and ${co.b} are duplicates (cos ${pairCos.toFixed(2)}) firing together on ${Math.round(100 * maxCo)}% of rows`
          : `children ${co.a} and ${co.b} (cos ${pairCos.toFixed(2)}) fire together at comparable strength on ${Math.round(100 * maxCo)}% of rows (e.g. rows of the parent feature alone, or a parent-like child under partial absorption)`;
    }
    const node = nodeS.get(i)!;
    nodes[node]!.tags.push('split');
    if (split) nodes[node]!.tags.push('strict-split', centroidOk ? 'centroid-ok' : 'centroid-off');
    splits.push({ node, children: children.map((c) => nodeL.get(c.j)!), coverage, maxCoActivation: maxCo, maxCoFiring, centroidCosine, centroidOk, split, ...(notSplit ? { notSplit } : {}),
      ...(Number.isFinite(centroidCosine) ? {} : { reason: 'the children never fire with this latent: no centroid' }) });
  }
  return { edges, splits, merges, novel, unlinked, sharedInit: links.sharedInit };
}

/** Matryoshka prefix levels: a later-level latent's parent is the earlier-level latent containing it most. */
function matryoshkaEdges(p: Prepared, nodeOf: Map<number, number>, widths: number[], nodes: TreeNode[]): TreeEdge[] {
  const levelOf = new Int32Array(p.width).fill(widths.length);
  for (let i = 0; i < p.width; i++) { const k = widths.findIndex((w) => i < w); levelOf[i] = k < 0 ? widths.length : k; }
  for (const [i, node] of nodeOf) nodes[node]!.tags.push(`level:${levelOf[i]}`);
  const cand = coFiringCandidates(p.input.codes, p.cols, SPLIT_TREE.matryoshkaMinContainment - 0.2);
  const pairs: number[] = [];
  for (let j = 0; j < p.width; j++) {
    if (p.counts[j]! < SPLIT_TREE.minFirings || levelOf[j] === 0) continue;
    for (const i of cand[j]!) if (levelOf[i]! < levelOf[j]! && cosine(p, i, p, j) >= SPLIT_TREE.dagMinCosine) pairs.push(j, i);
  }
  const stats = pairStats(p.input.codes, p.cols, Int32Array.from(pairs));
  const best = new Map<number, { i: number; containment: number }>();
  for (let t = 0; t < pairs.length / 2; t++) {
    const j = pairs[2 * t]!, i = pairs[2 * t + 1]!;
    const containment = stats.both[t]! / p.counts[j]!;
    if (containment < SPLIT_TREE.matryoshkaMinContainment) continue;
    const cur = best.get(j);
    if (!cur || containment > cur.containment) best.set(j, { i, containment });
  }
  return [...best].map(([j, { i, containment }]) => ({ kind: 'matryoshka' as const, from: nodeOf.get(i)!, to: nodeOf.get(j)!, cosine: cosine(p, i, p, j), containment }));
}
