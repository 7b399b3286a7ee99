/**
 * Split trees as the diagnostics module describes them — {saes?, nodes: [{sae, latent, density, label?}],
 * edges: [{kind, from, to, cosine, containment}]} — turned into the panels' columnar SplitTreeModel.
 * `from`/`to` may be node indices or {sae, latent}; `sae` may be an index or a name. Node kinds (split,
 * merge, novel, absorbed) are derived from the edges when the nodes do not carry them.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors';
import { buildSplitTree, treeInputFromSae } from '../diagnostics/splitTree';
import type { SplitTreeReport } from '../diagnostics/splitTree';
import { ANALYSIS_SAMPLE, readSampledRows } from '../diagnostics/files';
import { loadSae } from '../formats';
import { basename, resolve } from 'node:path';
import type { Provenance, SplitTreeModel } from '../protocol/viewModels';
import { EDGE_KIND, FLAG, NODE_KIND } from '../protocol/viewModels';

interface NodeIn { sae: number | string; latent: number; density?: number; label?: string; kind?: string | string[] }
interface EdgeIn { kind?: string; from: number | { sae: number | string; latent: number }; to: number | { sae: number | string; latent: number }; cosine?: number; containment?: number }
export interface SplitTreeIn { saes?: ({ name?: string; width?: number; path?: string } | string)[]; nodes: NodeIn[]; edges: EdgeIn[] }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function splitTreeModel(input: unknown, source: string, provenance: Provenance = 'diagnostics'): SplitTreeModel {
  if (!isObj(input) || !Array.isArray(input.nodes) || !Array.isArray(input.edges)) throw new InputError(source, 'a split tree needs "nodes" and "edges" arrays');
  const t = input as unknown as SplitTreeIn;
  const saeNames: string[] = [];
  const saeIndex = (s: unknown, where: string): number => {
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0 && s < 256) { while (saeNames.length <= s) saeNames.push(String(saeNames.length)); return s; }
    if (typeof s === 'string') { let i = saeNames.indexOf(s); if (i < 0) { i = saeNames.length; saeNames.push(s); } return i; }
    throw new InputError(source, `${where}: "sae" must be an index or a name`);
  };
  (t.saes ?? []).forEach((s, i) => { saeNames[i] = typeof s === 'string' ? s : s.name ?? String(i); });
  const n = t.nodes.length;
  const sae = new Uint8Array(n), latent = new Int32Array(n), density = new Float32Array(n), kind = new Uint8Array(n);
  const labels: string[] = [];
  const byKey = new Map<string, number>();
  t.nodes.forEach((node, i) => {
    if (!isObj(node) || !Number.isInteger(node.latent)) throw new InputError(source, `nodes[${i}]: needs an integer "latent"`);
    sae[i] = saeIndex(node.sae, `nodes[${i}]`);
    latent[i] = node.latent;
    density[i] = typeof node.density === 'number' ? node.density : NaN;
    labels.push(typeof node.label === 'string' ? node.label : '');
    for (const k of [node.kind ?? []].flat()) if (k in NODE_KIND) kind[i]! |= NODE_KIND[k as keyof typeof NODE_KIND];
    byKey.set(`${sae[i]}:${latent[i]}`, i);
  });
  const ref = (r: EdgeIn['from'], where: string): number => {
    if (typeof r === 'number' && Number.isInteger(r) && r >= 0 && r < n) return r;
    if (isObj(r)) { const i = byKey.get(`${saeIndex(r.sae, where)}:${r.latent}`); if (i !== undefined) return i; }
    throw new InputError(source, `${where}: does not name a node`);
  };
  const m = t.edges.length;
  const from = new Int32Array(m), to = new Int32Array(m), cosine = new Float32Array(m), containment = new Float32Array(m), ekind = new Uint8Array(m);
  const outDeg = new Int32Array(n), inDeg = new Int32Array(n);
  t.edges.forEach((e, k) => {
    if (!isObj(e)) throw new InputError(source, `edges[${k}]: not an object`);
    from[k] = ref(e.from, `edges[${k}].from`);
    to[k] = ref(e.to, `edges[${k}].to`);
    cosine[k] = typeof e.cosine === 'number' ? e.cosine : NaN;
    containment[k] = typeof e.containment === 'number' ? e.containment : NaN;
    ekind[k] = e.kind === 'merge' ? EDGE_KIND.merge : e.kind === 'absorbed' ? EDGE_KIND.absorbed : EDGE_KIND.child;
    outDeg[from[k]!]! += 1; inDeg[to[k]!]! += 1;
    if (ekind[k] === EDGE_KIND.absorbed) kind[to[k]!]! |= NODE_KIND.absorbed;
  });
  const minSae = n ? Math.min(...sae) : 0;
  for (let i = 0; i < n; i++) {
    if (outDeg[i]! >= 2) kind[i]! |= NODE_KIND.split;
    if (inDeg[i]! >= 2) kind[i]! |= NODE_KIND.merge;
    if (inDeg[i] === 0 && sae[i] !== minSae) kind[i]! |= NODE_KIND.novel;
  }
  const widths = saeNames.map((_, s) => sae.reduce((c, v) => c + (v === s ? 1 : 0), 0));
  return {
    saes: saeNames.map((name, s) => {
      const meta = t.saes?.[s];
      return { name, width: isObj(meta) && typeof meta.width === 'number' ? meta.width : widths[s]!, path: isObj(meta) && typeof meta.path === 'string' ? meta.path : '' };
    }),
    nodes: { sae, latent, density, kind, labels },
    edges: { from, to, cosine, containment, kind: ekind },
    source: provenance,
  };
}

/** A split tree file: `sae-workbench tree --json` output (the module's report), or the plain {saes, nodes, edges} shape. */
export function readSplitTree(path: string): SplitTreeModel {
  let json: unknown;
  try { json = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(path, `not readable JSON (${(e as Error).message.split('\n')[0]})`); }
  if (isModuleReport(json)) return splitTreeFromReport(json);
  return splitTreeModel(json, path);
}

function isModuleReport(v: unknown): v is SplitTreeReport {
  if (!isObj(v) || !Array.isArray(v.nodes) || !Array.isArray(v.edges) || !Array.isArray(v.splits) || !Array.isArray(v.saes)) return false;
  const nodes: unknown[] = v.nodes, count = nodes.length;
  return nodes.every((n) => isObj(n) && Array.isArray(n.tags) && Number.isInteger(n.sae) && Number.isInteger(n.latent))
    && (v.edges as unknown[]).every((e) => isObj(e) && Number.isInteger(e.from) && Number.isInteger(e.to) && (e.from as number) < count && (e.to as number) < count);
}

const MIN_TREE_ROWS = 100;

/**
 * The split tree across 2+ SAE folders of different widths (or one Matryoshka SAE) on the same
 * activations: buildSplitTree from the diagnostics module, mapped to the panel model.
 */
export function splitTreeForSaes(saeDirs: string[], activations: string, rows: number = ANALYSIS_SAMPLE.rows): SplitTreeModel {
  if (saeDirs.length === 0) throw new InputError('split tree', 'no SAE folders given');
  const saes = saeDirs.map((dir) => ({ dir, sae: loadSae(dir) }));
  if (saes.length === 1 && !(saes[0]!.sae.cfg.matryoshkaWidths && saes[0]!.sae.cfg.matryoshkaWidths.length > 1)) {
    throw new InputError(saeDirs[0]!, 'a split tree needs two or more SAEs of different widths, or one Matryoshka SAE (this one has no prefix widths)');
  }
  const first = saes[0]!;
  for (const { dir, sae } of saes) {
    if (sae.cfg.dIn !== first.sae.cfg.dIn) throw new InputError(dir, `d_in ${sae.cfg.dIn} differs from ${first.dir}'s ${first.sae.cfg.dIn}: the SAEs must read the same activations`);
    if (sae.cfg.dOut !== first.sae.cfg.dOut) throw new InputError(dir, `d_out ${sae.cfg.dOut} differs from ${first.dir}'s ${first.sae.cfg.dOut}: atoms cannot be compared`);
  }
  // the analysis sample `tree` and `diagnose` use, so the report's tree is `tree`'s
  const { x, n, description } = readSampledRows(activations, first.sae.cfg.dIn, rows);
  if (n < MIN_TREE_ROWS) throw new InputError(activations, `split trees need at least ${MIN_TREE_ROWS} rows to estimate conditional firing frequencies (got ${n})`);
  const names = saes.map(({ dir, sae }) => `${basename(dir)} (${sae.cfg.dSae})`);
  const report = { ...buildSplitTree(saes.map(({ sae }, i) => treeInputFromSae(sae, x, n, names[i]!)), { skipWithin: true }), sample: description };
  if (report.saes.every((s) => s.live === 0)) throw new InputError(activations, `every latent of every SAE is dead on these ${n} rows: nothing to build a tree from`);
  // buildSplitTree sorts by width: give each column its folder back by name.
  const paths = report.saes.map((s) => saes[names.indexOf(s.name)]?.dir ?? '');
  return splitTreeFromReport(report, paths);
}

/**
 * The diagnostics module's buildSplitTree report → the panel model. Only the across-width edges (and
 * Matryoshka prefix edges) form the tree; the within-dictionary co-activation DAG is left out. A single
 * Matryoshka SAE becomes one column per prefix level (its `level:<k>` tags), so the tree reads the same
 * as across separate SAEs.
 */
export function splitTreeFromReport(r: SplitTreeReport, paths: string[] = []): SplitTreeModel {
  const matryoshka = r.saes.length === 1 && r.edges.some((e) => e.kind === 'matryoshka');
  const levelOf = (tags: string[]): number => Number(tags.find((t) => t.startsWith('level:'))?.slice(6) ?? 0);
  const widths = matryoshka ? r.nodes.reduce((acc, n) => { const k = levelOf(n.tags); acc[k] = (acc[k] ?? 0) + 1; return acc; }, [] as number[]) : [];
  const saes = matryoshka
    ? widths.map((w, k) => ({ name: `${r.saes[0]!.name} level ${k}`, width: w ?? 0, path: paths[0] ?? '' }))
    : r.saes.map((s, i) => ({ name: s.name, width: s.width, path: paths[i] ?? '' }));
  const input: SplitTreeIn = {
    saes,
    nodes: r.nodes.map((n) => ({ sae: matryoshka ? levelOf(n.tags) : n.sae, latent: n.latent, density: n.density, label: n.label, kind: n.tags.filter((t) => t === 'split' || t === 'merge' || t === 'novel') })),
    edges: r.edges.filter((e) => e.kind !== 'coactivation').map((e) => ({ kind: 'child', from: e.from, to: e.to, cosine: e.cosine, containment: e.containment })),
  };
  const model = splitTreeModel(input, 'split tree', 'diagnostics');
  return r.sample ? { ...model, sample: r.sample } : model;
}

/**
 * The latents of one SAE that the tree marks split (NODE_KIND.split, as the tree panel shows them), for the
 * per-latent FLAG.split. The SAE is found in the tree by its folder (every column with that folder: a
 * Matryoshka SAE has one per prefix level), else by its width when exactly one tree SAE has it; [] when
 * the tree does not contain it.
 */
export function splitLatentsOf(tree: SplitTreeModel, saeDir: string, width: number): number[] {
  let cols = treeColumnsOf(tree, saeDir);
  if (cols.length === 0) {
    const same = tree.saes.map((t, i) => (t.width === width ? i : -1)).filter((i) => i >= 0);
    if (same.length !== 1) return [];
    cols = same;
  }
  const out: number[] = [];
  const { sae, latent, kind } = tree.nodes;
  for (let i = 0; i < sae.length; i++) if (cols.includes(sae[i]!) && kind[i]! & NODE_KIND.split && latent[i]! < width) out.push(latent[i]!);
  return out;
}

/** The tree's columns whose SAE folder is `saeDir`. */
export function treeColumnsOf(tree: SplitTreeModel, saeDir: string): number[] {
  const dir = resolve(saeDir);
  return tree.saes.map((t, i) => (t.path !== '' && resolve(t.path) === dir ? i : -1)).filter((i) => i >= 0);
}

/** ORs FLAG.split into `flags` for the latents `tree` marks split in the SAE at `saeDir` (splitLatentsOf). */
export function markSplitLatents(flags: Uint8Array, tree: SplitTreeModel | undefined, saeDir: string): void {
  if (!tree) return;
  for (const l of splitLatentsOf(tree, saeDir, flags.length)) flags[l]! |= FLAG.split;
}
