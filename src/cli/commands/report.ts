import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildReport } from '../../views/buildReport';
import { writeReport } from '../../views/html';
import { neuronpediaBatch, writeNeuronpedia } from '../../views/neuronpedia';
import { readSplitTree, splitTreeForSaes } from '../../views/splitTreePanel';
import { DEFAULT_PASS_ROWS, parsePassRows } from '../../views/featurePass';
import { action, emit, globals, intOption, InputError } from '../common';

interface ReportCliOptions { sae: string; activations?: string; out: string; maxTokens: number; features: number; pageRows: number | 'auto'; pageSeed: number; title?: string; tree?: string; treeSae?: string[]; neuronpedia?: string }

/** `sae-workbench report`: one self-contained HTML file with the panels' views of an SAE. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report (overview, latents, feature pages, diagnostics, training) that opens in any browser')
    .requiredOption('--sae <dir>', 'SAE folder (SAELens v6)')
    .option('--activations <file>', 'activation .npy ([tokens, d] or [sequences, context, d]), .safetensors, or a capture folder (<folder>#<site>: token contexts from its token ids); without it only the decoder geometry is shown')
    .requiredOption('--out <file>', 'output .html file')
    .option('--max-tokens <n>', 'tokens of the activation file to evaluate on', intOption('max-tokens', 1, 1 << 22), 4096)
    .option('--features <n>', 'feature pages to include', intOption('features', 0, 10000), 48)
    .option('--page-rows <n|all|auto>', 'rows the feature pages\' pass reads: every row up to n, above it a seeded uniform sample of n rows (all or 0: every row; auto: a cap scaled to the SAE\'s size, at least 16,384)', (v: string) => parsePassRows(v, '--page-rows'), DEFAULT_PASS_ROWS.maxRows)
    .option('--page-seed <n>', 'seed of the feature pages\' sample', intOption('page-seed', 0), DEFAULT_PASS_ROWS.seed)
    .option('--title <text>', 'report title')
    .option('--tree <file>', 'a split tree JSON to show: `sae-workbench tree --json` output, or {saes, nodes, edges}')
    .option('--neuronpedia <file>', 'also write the feature pages as Neuronpedia feature dashboards (JSON)')
    .option('--tree-sae <dir>', 'build the split tree across --sae and this SAE folder (repeat for more widths) on --activations', (v: string, prev: string[] = []) => [...prev, v])
    .action(action((o: ReportCliOptions, cmd: Command) => {
      const g = globals(cmd);
      if (!o.out.toLowerCase().endsWith('.html')) throw new InputError(o.out, 'the report is an .html file');
      if (o.tree && o.treeSae) throw new InputError('--tree', 'give either --tree FILE or --tree-sae DIR, not both');
      if (o.treeSae && !o.activations) throw new InputError('--tree-sae', 'building a split tree needs --activations (the rows the SAEs share)');
      const progress = g.json ? undefined : (what: string): void => { process.stderr.write(`${what}…\n`); };
      if (o.treeSae) progress?.(`building the split tree across ${o.treeSae.length + 1} SAEs`);
      const splitTree = o.tree ? readSplitTree(o.tree) : o.treeSae ? splitTreeForSaes([o.sae, ...o.treeSae], o.activations!) : undefined;
      const model = buildReport({
        saeDir: o.sae, activations: o.activations, maxTokens: o.maxTokens, features: o.features, title: o.title,
        splitTree, onProgress: progress, pageRows: { maxRows: o.pageRows, seed: o.pageSeed },
      });
      const bytes = writeReport(o.out, model);
      if (o.neuronpedia) {
        const card = model.dictionary.card;
        const computedOn = model.features[0]?.pass?.describe ?? 'no activations';
        writeNeuronpedia(o.neuronpedia, neuronpediaBatch(model.features, { modelId: card.modelName, layer: card.hookName, computedOn }));
        progress?.(`wrote ${resolve(o.neuronpedia)} (${model.features.length} feature dashboards, Neuronpedia's shape)`);
      }
      const out = resolve(o.out);
      const pagesOver = model.features[0]?.pass?.describe;
      emit(g, { out, bytes, features: model.features.length, tokens: model.dictionary.metrics.tokens, pagesOver },
        () => `wrote ${out} (${(bytes / 1e6).toFixed(1)} MB, ${model.features.length} feature pages) — open it in any browser${pagesOver ? `\nfeature pages over ${pagesOver}` : ''}`);
    }));
}
