/**
 * `sae-workbench tree --sae DIR [--sae DIR ...] --activations FILE [--rows N] [--json]`: feature-split
 * trees (THEORY.md §4 C4) within each SAE and across widths, sorted by width. Human output is an indented
 * tree of the splits; --json gives {saes, nodes, edges, splits, merges, novel}. Activations: .npy or
 * .safetensors, read through the streaming row reader (only --rows rows are held).
 */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { loadSae } from '../../formats';
import { readActivationRows } from '../../diagnostics/files';
import { buildSplitTree, treeInputFromSae } from '../../diagnostics/splitTree';
import type { SplitTreeReport } from '../../diagnostics/splitTree';
import { action, emit, globals, intOption, warn } from '../common';

/** Fewer rows than this cannot estimate the conditional firing frequencies the tree is built from. [H] */
export const TREE_MIN_ROWS = 100;

export function registerTree(program: Command): void {
  program
    .command('tree')
    .description('feature-split trees: co-activation DAG within each SAE, and parents, splits, merges and novel latents across widths (THEORY.md C4)')
    .requiredOption('--sae <dir>', 'an SAE folder (repeat for several widths)', (v: string, prev: string[] = []) => [...prev, v])
    .requiredOption('--activations <file>', 'activation rows (.npy or .safetensors, [rows, d_in], or a capture folder <folder>#<site>) shared by all SAEs')
    .option('--rows <n>', 'use at most this many rows', intOption('rows'))
    .action(action((opts: { sae: string[]; activations: string; rows?: number }, cmd: Command) => {
      const g = globals(cmd);
      const saes = opts.sae.map((dir) => ({ dir, sae: loadSae(dir) }));
      const { x, n, d, total: totalRows } = readActivationRows(opts.activations, undefined, opts.rows);
      if (n < TREE_MIN_ROWS) throw new InputError(opts.activations, `split trees need at least ${TREE_MIN_ROWS} rows to estimate conditional firing frequencies (got ${n})`);
      for (const { dir, sae } of saes) {
        if (sae.cfg.dIn !== d) throw new InputError(dir, `d_in ${sae.cfg.dIn} does not match the ${d} columns of ${opts.activations}`);
      }
      const dOut = saes[0]!.sae.cfg.dOut;
      for (const { dir, sae } of saes) if (sae.cfg.dOut !== dOut) throw new InputError(dir, `d_out ${sae.cfg.dOut} differs from ${saes[0]!.dir}'s ${dOut}: atoms cannot be compared`);
      if (opts.rows !== undefined && totalRows < opts.rows) warn(`${opts.activations}: has ${totalRows} rows, fewer than --rows ${opts.rows}`);
      const inputs = saes.map(({ dir, sae }) => treeInputFromSae(sae, x, n, dir));
      const report = buildSplitTree(inputs);
      const dead = report.saes.filter((s) => s.live === 0);
      for (const s of dead) warn(`${s.name}: every latent is dead on these ${n} rows`);
      if (dead.length === report.saes.length) throw new InputError(opts.activations, `every latent of every SAE is dead on these ${n} rows: nothing to build a tree from`);
      emit(g, report, () => formatTree(report));
    }));
}

const MAX_LINES = 400;

function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** The indented human form: width trees from each smallest-SAE root, then merges, novel latents and DAGs. */
export function formatTree(r: SplitTreeReport): string {
  const lines: string[] = [];
  const nodeName = (k: number): string => `${r.nodes[k]!.sae}:${r.nodes[k]!.latent}`;
  lines.push(`split trees on ${r.rows} rows`);
  r.saes.forEach((s, i) => lines.push(`  SAE ${i}: ${s.name}  (${s.width} latents, ${s.live} live, λ_e ${fmt(s.lambdaE, 4)})${s.reason ? `  — ${s.reason}` : ''}`));
  const children = new Map<number, { to: number; cosine: number; containment: number }[]>();
  const hasParent = new Set<number>();
  for (const e of r.edges) {
    if (e.kind !== 'width') continue;
    let list = children.get(e.from);
    if (!list) children.set(e.from, (list = []));
    list.push({ to: e.to, cosine: e.cosine, containment: e.containment });
    hasParent.add(e.to);
  }
  const splitOf = new Map(r.splits.map((s) => [s.node, s]));
  let truncated = 0;
  const push = (line: string): void => { if (lines.length < MAX_LINES) lines.push(line); else truncated++; };
  const walk = (k: number, depth: number, edge?: { cosine: number; containment: number }): void => {
    const nd = r.nodes[k]!;
    const s = splitOf.get(k);
    const tags = nd.tags.filter((t) => !t.startsWith('level:'));
    let text = `${'  '.repeat(depth + 1)}${nodeName(k)}${nd.label ? ` "${nd.label}"` : ''}  density ${fmt(nd.density, 4)}`;
    if (edge) text += `  cos ${fmt(edge.cosine)}  containment ${fmt(edge.containment)}`;
    if (s) text += `  ${s.split ? 'SPLIT' : 'children'} ${s.children.length} (coverage ${fmt(s.coverage)}, co-activation ${fmt(s.maxCoActivation)} (co-firing at any strength ${fmt(s.maxCoFiring)}), centroid cos ${fmt(s.centroidCosine)})${s.notSplit ? ` — not a split: ${s.notSplit}` : ''}`;
    if (tags.length) text += `  [${tags.join(', ')}]`;
    push(text);
    for (const c of (children.get(k) ?? []).sort((a, b) => r.nodes[b.to]!.density - r.nodes[a.to]!.density)) walk(c.to, depth + 1, c);
  };
  if (r.saes.length > 1) {
    lines.push('', 'across widths (roots: latents of the smallest SAE that have children):');
    const roots = r.nodes.map((_, k) => k).filter((k) => r.nodes[k]!.sae === 0 && children.has(k)).sort((a, b) => r.nodes[b]!.density - r.nodes[a]!.density);
    for (const k of roots) walk(k, 0);
    // Latents of larger SAEs that have children but no parent of their own start their own trees.
    const inner = r.nodes.map((_, k) => k).filter((k) => r.nodes[k]!.sae > 0 && children.has(k) && !hasParent.has(k));
    for (const k of inner) walk(k, 0);
    for (const m of r.merges) push(`  merge: ${nodeName(m.node)} ← ${m.parents.map(nodeName).join(', ')}`);
    for (const nv of r.novel) if (nv.nodes.length) push(`  novel in SAE ${nv.large} (no parent in SAE ${nv.small}): ${nv.nodes.length} latents${nv.nodes.length <= 20 ? ': ' + nv.nodes.map(nodeName).join(', ') : ''}`);
  }
  const within = r.edges.filter((e) => e.kind === 'coactivation');
  lines.push('', `within-dictionary co-activation edges: ${within.length} (${within.filter((e) => e.nonStationary).length} certified non-stationary by V_ij > 0)`);
  for (const e of within) push(`  ${nodeName(e.from)} → ${nodeName(e.to)}  cos ${fmt(e.cosine)}  P(parent|child) ${fmt(e.containment)}  P(child|parent) ${fmt(e.reverseContainment ?? NaN)}  V ${fmt(e.certificate ?? NaN, 3)} (robust ${fmt(e.certificateRobust ?? NaN, 3)})`);
  const mat = r.edges.filter((e) => e.kind === 'matryoshka');
  if (mat.length) {
    lines.push('', `Matryoshka prefix-level edges: ${mat.length}`);
    for (const e of mat) push(`  ${nodeName(e.from)} → ${nodeName(e.to)}  cos ${fmt(e.cosine)}  containment ${fmt(e.containment)}`);
  }
  if (truncated) lines.push(`… ${truncated} more lines (use --json for everything)`);
  return lines.join('\n');
}
