import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildReport } from '../../report/report';
import { writeReport } from '../../report/html';
import { readSplitTree } from '../../report/splitTree';
import { action, emit, globals, intOption, InputError } from '../common';

interface ReportCliOptions { sae: string; activations?: string; out: string; maxTokens: number; features: number; title?: string; tree?: string }

/** `sae-workbench report`: one self-contained HTML file with the panels' views of an SAE. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report (overview, latents, feature pages, diagnostics, training) that opens in any browser')
    .requiredOption('--sae <dir>', 'SAE folder (SAELens v6)')
    .option('--activations <file>', 'activation .npy ([tokens, d] or [sequences, context, d]); without it only the decoder geometry is shown')
    .requiredOption('--out <file>', 'output .html file')
    .option('--max-tokens <n>', 'tokens of the activation file to evaluate on', intOption('max-tokens', 1, 1 << 22), 4096)
    .option('--features <n>', 'feature pages to include', intOption('features', 0, 10000), 48)
    .option('--title <text>', 'report title')
    .option('--tree <file>', 'a split tree JSON ({saes, nodes, edges}, narrowest SAE first, the --sae one first) to show in the report')
    .action(action((o: ReportCliOptions, cmd: Command) => {
      const g = globals(cmd);
      if (!o.out.toLowerCase().endsWith('.html')) throw new InputError(o.out, 'the report is an .html file');
      const model = buildReport({
        saeDir: o.sae, activations: o.activations, maxTokens: o.maxTokens, features: o.features, title: o.title,
        splitTree: o.tree ? readSplitTree(o.tree) : undefined,
        onProgress: g.json ? undefined : (what) => process.stderr.write(`${what}…\n`),
      });
      const bytes = writeReport(o.out, model);
      const out = resolve(o.out);
      emit(g, { out, bytes, features: model.features.length, tokens: model.dictionary.metrics.tokens }, () => `wrote ${out} (${(bytes / 1e6).toFixed(1)} MB, ${model.features.length} feature pages) — open it in any browser`);
    }));
}
