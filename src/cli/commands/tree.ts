/**
 * `sae-workbench tree --sae DIR [--sae DIR ...] --activations FILE [--rows N] [--json]`: feature-split
 * trees (docs/theory.md §C C4) within each SAE and across widths, sorted by width. Human output is an indented
 * tree of the splits; --json gives {saes, nodes, edges, splits, merges, novel}. Activations: .npy or
 * .safetensors; the rows are the analysis sample `diagnose` and the report use (a uniform seeded sample of
 * --rows rows, src/io/rowSample.ts), and the output states it.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { loadSae } from '../../formats';
import { ANALYSIS_SAMPLE, readSampledRows } from '../../diagnostics/files';
import { buildSplitTree, treeInputFromSae } from '../../diagnostics/splitTree';
import type { SplitTreeReport } from '../../diagnostics/splitTree';
import { SPLIT_TREE } from '../../diagnostics/thresholds';
import { action, emit, globals, intOption, warn } from '../common';

/** Fewer rows than this cannot estimate the conditional firing frequencies the tree is built from. [H] */
export const TREE_MIN_ROWS = 100;

export function registerTree(program: Command): void {
  program
    .command('tree')
    .description('feature-split trees: co-activation DAG within each SAE, and parents, splits, merges and novel latents across widths (docs/theory.md §C4)')
    .requiredOption('--sae <dir>', 'an SAE folder (repeat for several widths)', (v: string, prev: string[] = []) => [...prev, v])
    .requiredOption('--activations <file>', 'activation rows (.npy or .safetensors, [rows, d_in], or a capture folder <folder>#<site>) shared by all SAEs')
    .option('--rows <n>', `rows of the uniform seeded sample, the same as diagnose's (default ${ANALYSIS_SAMPLE.rows}; all when the file has fewer)`, intOption('rows'))
    .action(action((opts: { sae: string[]; activations: string; rows?: number }, cmd: Command) => {
      const g = globals(cmd);
      const saes = opts.sae.map((dir) => ({ dir, sae: loadSae(dir) }));
      const sample = readSampledRows(opts.activations, undefined, opts.rows ?? ANALYSIS_SAMPLE.rows);
      const { x, n, d, total: totalRows } = sample;
      if (n < TREE_MIN_ROWS) throw new InputError(opts.activations, `split trees need at least ${TREE_MIN_ROWS} rows to estimate conditional firing frequencies (got ${n})`);
      for (const { dir, sae } of saes) {
        if (sae.cfg.dIn !== d) throw new InputError(dir, `d_in ${sae.cfg.dIn} does not match the ${d} columns of ${opts.activations}`);
      }
      const dOut = saes[0]!.sae.cfg.dOut;
      for (const { dir, sae } of saes) if (sae.cfg.dOut !== dOut) throw new InputError(dir, `d_out ${sae.cfg.dOut} differs from ${saes[0]!.dir}'s ${dOut}: atoms cannot be compared`);
      if (opts.rows !== undefined && totalRows < opts.rows) warn(`${opts.activations}: has ${totalRows} rows, fewer than --rows ${opts.rows}`);
      const inputs = saes.map(({ dir, sae }) => treeInputFromSae(sae, x, n, dir));
      const report = { ...buildSplitTree(inputs), sample: sample.description };
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
  lines.push(`split trees on ${r.sample ?? `${r.rows} rows`}`);
  r.saes.forEach((s, i) => lines.push(`  SAE ${i}: ${s.name}  (${s.width} latents, ${s.live} live, λ_e ${fmt(s.lambdaE, 4)})${s.reason ? `  — ${s.reason}` : ''}`));
  type Child = { to: number; cosine: number; containment: number; confidence?: number; label?: string };
  const children = new Map<number, Child[]>();
  const hasParent = new Set<number>();
  for (const e of r.edges) {
    if (e.kind !== 'width') continue;
    let list = children.get(e.from);
    if (!list) children.set(e.from, (list = []));
    list.push({ to: e.to, cosine: e.cosine, containment: e.containment, confidence: e.confidence, label: e.label });
    hasParent.add(e.to);
  }
  const splitOf = new Map(r.splits.map((s) => [s.node, s]));
  let truncated = 0;
  const push = (line: string): void => { if (lines.length < MAX_LINES) lines.push(line); else truncated++; };
  const walk = (k: number, depth: number, edge?: Child): void => {
    const nd = r.nodes[k]!;
    const s = splitOf.get(k);
    const tags = nd.tags.filter((t) => !t.startsWith('level:'));
    let text = `${'  '.repeat(depth + 1)}${nodeName(k)}${nd.label ? ` "${nd.label}"` : ''}  density ${fmt(nd.density, 4)}`;
    if (edge) text += `  ${edge.label ? `${edge.label}, confidence ${fmt(edge.confidence ?? NaN)}: ` : ''}cos ${fmt(edge.cosine)}  containment ${fmt(edge.containment)}`;
    if (s) text += `  ${s.children.length} children, strict split test ${s.split ? 'passed' : 'not passed'} (coverage ${fmt(s.coverage)}, co-activation ${fmt(s.maxCoActivation)} (co-firing at any strength ${fmt(s.maxCoFiring)}), centroid cos ${fmt(s.centroidCosine)})${s.notSplit ? ` — not a split: ${s.notSplit}` : ''}`;
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
    for (const nv of r.novel) {
      if (!nv.nodes.length) continue;
      push(`  novel in SAE ${nv.large} (no parent in SAE ${nv.small} reaches confidence ${SPLIT_TREE.edgeConfidence}): ${nv.nodes.length} latents${nv.nodes.length <= 20 ? ': ' + nv.nodes.map(nodeName).join(', ') : ''}`);
      if (nv.reason) push(`    ${nv.reason}`);
      for (const b of nv.bestParents.slice(0, 20)) push(`    ${nodeName(b.node)}: best candidate ${nodeName(b.parent)}, confidence ${fmt(b.confidence)} (cos ${fmt(b.cosine)}, containment ${fmt(b.containment)})`);
    }
  }
  const within = r.edges.filter((e) => e.kind === 'coactivation');
  lines.push('', `within-dictionary co-activation edges: ${within.length} (${within.filter((e) => e.basis === 'direction').length} by the parent's direction on the child's rows, the parent silent there; ${within.filter((e) => e.nonStationary).length} certified non-stationary by V_ij > 0)`);
  for (const e of within) push(`  ${nodeName(e.from)} → ${nodeName(e.to)}  cos ${fmt(e.cosine)}  P(parent|child) ${fmt(e.containment)}  P(child|parent) ${fmt(e.reverseContainment ?? NaN)}${e.basis === 'direction' ? `  direction ${fmt(e.directionForward ?? NaN)} / ${fmt(e.directionReverse ?? NaN)}` : ''}  V ${fmt(e.certificate ?? NaN, 3)} (robust ${fmt(e.certificateRobust ?? NaN, 3)})`);
  const mat = r.edges.filter((e) => e.kind === 'matryoshka');
  if (mat.length) {
    lines.push('', `Matryoshka prefix-level edges: ${mat.length}`);
    for (const e of mat) push(`  ${nodeName(e.from)} → ${nodeName(e.to)}  cos ${fmt(e.cosine)}  containment ${fmt(e.containment)}`);
  }
  if (truncated) lines.push(`… ${truncated} more lines (use --json for everything)`);
  return lines.join('\n');
}
