/**
 * `sae-workbench demo`: the built-in main job. Generates a synthetic dataset with known hierarchy and a
 * dense direction, trains an SAE family of three widths on it with the real trainer, builds the split
 * tree across the widths, diagnoses the widest SAE, and writes the self-contained HTML report, printing
 * where it is and what it found.
 *
 * The data: docs/theory.md §G has no single generator with both structures, so the demo composes two on the
 * same d — G2 (parents with exclusive children, the hierarchy that splits across widths) plus G3 (sparse
 * independent features and one dense Gaussian direction) — by adding their rows. The ground truth is the
 * union: G2's features first (its hierarchy indices unchanged), then G3's, and G3's dense direction.
 */
import { ensureFolder } from '../../io/atomic';
import { relu } from '../../sae/arch/relu';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { loadSae } from '../../formats';
import { buildSplitTree, treeInputFromSae } from '../../diagnostics/splitTree';
import type { SplitTreeReport } from '../../diagnostics/splitTree';
import { readSampledRows } from '../../diagnostics/files';
import { formatGroundTruthMetrics, groundTruthMetrics } from '../../metrics/groundTruth';
import { generate, readGroundTruth, writeSynthetic } from '../../synthetic';
import type { SyntheticDataset } from '../../synthetic';
import { startTraining } from '../../train/api';
import { writeReport } from '../../views/html';
import type { SplitTreeModel } from '../../protocol/viewModels';
import { NODE_KIND } from '../../protocol/viewModels';
import { buildReport } from '../../views/buildReport';
import { splitTreeFromReport } from '../../views/splitTreePanel';
import { action, emit, globals, intOption } from '../common';

export interface DemoOptions {
  outDir: string;
  seed: number;
  /** SAE widths, narrowest first. */
  widths: number[];
  /** Activation dimension d. */
  d: number;
  /** Rows of synthetic activations. */
  rows: number;
  /** Training tokens per SAE. */
  trainTokens: number;
  /** Evaluation tokens for the report and diagnostics. */
  tokens: number;
  onProgress?: (what: string) => void;
}

/** Small enough that the whole demo takes a few minutes on 2 cores (measured in docs/panels.md). */
export const DEMO_DEFAULTS: Omit<DemoOptions, 'outDir' | 'seed'> = { widths: [12, 48, 128], d: 64, rows: 32768, trainTokens: 6_000_000, tokens: 4096 };

export interface DemoSteps {
  /** Writes activations (and their ground truth) under dir; returns the activation .npy path. */
  synthesize(dir: string, o: DemoOptions): Promise<string>;
  /** Trains one SAE per width on the activations; returns the SAE folders, narrowest first. */
  trainFamily(activations: string, dir: string, o: DemoOptions): Promise<string[]>;
  /** The split tree across the family (the report runs the diagnostics of the widest SAE itself). */
  diagnose(saeDirs: string[], activations: string, o: DemoOptions): Promise<{ splitTree?: SplitTreeModel; tree?: SplitTreeReport }>;
}

/** G2 (hierarchy) + G3 (sparse features and a dense direction) on the same d, rows added. */
export function composeHierarchyAndDense(o: { seed: number; d: number; rows: number }): SyntheticDataset {
  const g2 = generate('g2', { seed: o.seed, tokens: o.rows, dIn: o.d, parents: 6, children: 3, parentRate: 0.15, childRate: 0.8 });
  const g3 = generate('g3', { seed: o.seed + 1, tokens: o.rows, dIn: o.d, features: 16, sparsity: 0.95, denseScale: 0.7 });
  const n = o.rows, d = o.d, f2 = g2.nFeatures, f3 = g3.nFeatures, f = f2 + f3;
  const x = new Float32Array(n * d);
  for (let t = 0; t < n * d; t++) x[t] = g2.x[t]! + g3.x[t]!;
  const features = new Float32Array(f * d);
  features.set(g2.features, 0);
  features.set(g3.features, f2 * d);
  let codes: Float32Array | undefined;
  if (g2.codes && g3.codes) {
    codes = new Float32Array(n * f);
    for (let r = 0; r < n; r++) {
      codes.set(g2.codes.subarray(r * f2, (r + 1) * f2), r * f);
      codes.set(g3.codes.subarray(r * f3, (r + 1) * f3), r * f + f2);
    }
  }
  const bias = Float32Array.from(g2.bias, (b, j) => b + g3.bias[j]!);
  return {
    kind: 'g2', x, n, d, features, nFeatures: f, bias, codes, hierarchy: g2.hierarchy, denseDirection: g3.denseDirection,
    meta: { ...g3.meta, composed: 'g2 (hierarchy: features 0..' + (f2 - 1) + ') + g3 (sparse features ' + f2 + '..' + (f - 1) + ' and the dense direction)', g2: g2.meta },
  };
}

/** What the demo's SAEs record as their source: there is no model, so the names say what the rows are. */
export const DEMO_HOOK = 'synthetic.hook_hierarchy_dense';
const DEMO_MODEL = 'synthetic (hierarchy + dense direction)';

export const DEFAULT_DEMO_STEPS: DemoSteps = {
  synthesize: async (dir, o) => writeSynthetic(composeHierarchyAndDense(o), dir).activations,
  trainFamily: async (activations, dir, o) => {
    const out: string[] = [];
    for (const [w, width] of o.widths.entries()) {
      const outDir = join(dir, `width-${width}`);
      o.onProgress?.(`training relu SAE of width ${width} on ${o.trainTokens.toLocaleString('en-US')} tokens`);
      // ReLU (L1) SAEs: every diagnostic applies (λ_e, exact codes, width gap); TopK would leave those out.
      // Each width from its own seed: with one seed every width starts from the same first atoms, and the
      // tree would find edges that are only the shared initialisation.
      const handle = startTraining({ activations: [activations], outDir, arch: relu.name, width, tokens: o.trainTokens, seed: o.seed + 1000 * w, l1: 3, hookName: DEMO_HOOK, modelName: DEMO_MODEL }, () => undefined);
      await handle.done;
      out.push(outDir);
    }
    return out;
  },
  diagnose: async (saeDirs, activations, o) => {
    o.onProgress?.(`building the split tree across widths ${o.widths.join(', ')}`);
    const saes = saeDirs.map((dir) => loadSae(dir));
    // the analysis sample `tree`, `diagnose` and the report use
    const { x, n, description } = readSampledRows(activations, saes[0]!.cfg.dIn);
    const tree = { ...buildSplitTree(saes.map((sae) => treeInputFromSae(sae, x, n, `width ${sae.cfg.dSae}`)), { skipWithin: true }), sample: description };
    return { tree, splitTree: splitTreeFromReport(tree, saeDirs) };
  },
};

export interface DemoResult {
  report: string;
  saeDirs: string[];
  activations: string;
  bytes: number;
  /** One sentence per finding, most important first. */
  summary: string[];
}

export async function runDemo(o: DemoOptions, steps: DemoSteps = DEFAULT_DEMO_STEPS): Promise<DemoResult> {
  const say = o.onProgress ?? (() => undefined);
  if (o.widths.length === 0) throw new InputError('demo', 'no widths to train');
  ensureFolder(o.outDir);
  say('generating a synthetic dataset with a known hierarchy (G2) and a dense direction (G3)');
  const dataDir = join(o.outDir, 'data');
  const activations = await steps.synthesize(dataDir, o);
  const saeDirs = await steps.trainFamily(activations, join(o.outDir, 'saes'), o);
  if (saeDirs.length === 0) throw new InputError('demo', 'training produced no SAE');
  const { splitTree, tree } = await steps.diagnose(saeDirs, activations, o);
  say('diagnosing the widest SAE and writing the report');
  const widest = saeDirs[saeDirs.length - 1]!;
  // the pages' default row cap scales with the SAE: the demo's (at most 128 latents over d 64) read every row
  const model = buildReport({ saeDir: widest, activations, splitTree, maxTokens: o.tokens, title: 'SAE Workbench demo', onProgress: say });
  const summary: string[] = [];
  // Ground truth: how well each width recovered the generating features (src/metrics/groundTruth).
  try {
    const gt = readGroundTruth(dataDir);
    const { x, n } = readSampledRows(activations, gt.d, Math.min(o.tokens, 4096));
    for (const dir of saeDirs) {
      const sae = loadSae(dir);
      const g = groundTruthMetrics(sae, gt, x, n);
      const line = `width ${sae.cfg.dSae}: ${formatGroundTruthMetrics(g)[1]!.trim()}`;
      summary.push(line);
      // the reported (widest) SAE has its own ground-truth card; the narrower widths are noted beside it
      if (dir !== widest) model.diagnostics?.notes.push(`ground truth, ${line}`);
    }
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    summary.push(`ground-truth metrics not computed: ${e.message}`);
  }
  if (tree && splitTree) {
    const marked = splitTree.nodes.kind.reduce((c, k) => c + (k & NODE_KIND.split ? 1 : 0), 0);
    const strict = tree.splits.filter((s) => s.split).length;
    summary.push(`split tree across widths ${tree.saes.map((s) => s.width).join(' → ')}: ${marked} latents have two or more children at the next width (${strict} pass the module's strict split test), ${tree.merges.length} merges, ${tree.novel.reduce((c, v) => c + v.nodes.length, 0)} latents novel at their width`);
  }
  const order = { problem: 0, warning: 1, info: 2 } as const;
  const findings = [...(model.diagnostics?.findings ?? [])].sort((a, b) => order[a.severity] - order[b.severity]);
  for (const f of findings.slice(0, 6)) summary.push(`${f.severity}: ${f.message}`);
  const report = join(o.outDir, 'report.html');
  const bytes = writeReport(report, model);
  return { report: resolve(report), saeDirs, activations, bytes, summary };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate synthetic data with known structure, train an SAE family of three widths, diagnose it and write the HTML report')
    .option('--out <dir>', 'output folder', 'sae-workbench-demo')
    .option('--seed <n>', 'random seed', intOption('seed', 0), 0)
    .option('--tokens <n>', 'evaluation tokens for the report', intOption('tokens', 64, 1 << 20), DEMO_DEFAULTS.tokens)
    .action(action(async (opts: { out: string; seed: number; tokens: number }, cmd: Command) => {
      const g = globals(cmd);
      const r = await runDemo({ ...DEMO_DEFAULTS, outDir: opts.out, seed: opts.seed, tokens: opts.tokens, onProgress: g.json ? undefined : (w) => process.stderr.write(`${w}…\n`) });
      emit(g, r, () => [`report: ${r.report}`, 'open it in any browser (one self-contained file)', '', 'findings:', ...r.summary.map((s) => `  - ${s}`)].join('\n'));
    }));
}
