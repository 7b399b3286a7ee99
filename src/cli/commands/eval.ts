import type { Command } from 'commander';
import { loadSae } from '../../formats/index';
import { openRowReader } from '../../io/rowReader';
import { evaluateReconstruction } from '../../metrics/reconstruction';
import { describeSae } from '../../sae/types';
import { action, emit, globals, InputError, intOption } from '../common';

interface EvalCliOptions { sae: string; activations: string[]; maxTokens?: number; batch: number; tensor?: string; nonFinite: string }

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('reconstruction and sparsity metrics of an SAE on activations (EV conventional and legacy, L0, dead/dense, MSE, cosine, l2 ratio, shrinkage)')
    .requiredOption('--sae <dir>', 'an SAE in any supported format')
    .requiredOption('--activations <files...>', '.npy or .safetensors file(s) of [tokens, d_in] rows')
    .option('--max-tokens <n>', 'evaluate at most this many tokens', intOption('max-tokens'))
    .option('--batch <b>', 'rows per batch (also the batch of the legacy per-token EV)', intOption('batch'), 1024)
    .option('--tensor <name>', 'which 2-D tensor of a .safetensors file holds the activations')
    .option('--non-finite <mode>', 'rows with NaN/Inf: skip or stop', 'skip')
    .action(action((o: EvalCliOptions, cmd: Command) => {
      const g = globals(cmd);
      if (o.nonFinite !== 'skip' && o.nonFinite !== 'stop') throw new InputError('--non-finite', `expected skip or stop, got '${o.nonFinite}'`);
      const sae = loadSae(o.sae);
      const reader = openRowReader(o.activations, { tensorName: o.tensor, shuffle: false, loop: false, onNonFinite: o.nonFinite });
      try {
        if (reader.dIn !== sae.cfg.dIn) throw new InputError(o.activations[0]!, `rows have d_in ${reader.dIn}, the SAE expects ${sae.cfg.dIn}`);
        const m = evaluateReconstruction(sae, reader, { maxTokens: o.maxTokens, batch: o.batch });
        const { density, ...scalars } = m;
        const report = { sae: o.sae, architecture: describeSae(sae), ...scalars, skippedRows: reader.skippedRows };
        emit(g, report, () => [
          `${describeSae(sae)} on ${m.tokens} tokens${reader.skippedRows ? ` (${reader.skippedRows} NaN/Inf rows skipped)` : ''}`,
          `explained variance        ${m.explainedVariance.toFixed(4)}   (1 − E‖e‖² / (E‖x‖² − ‖E x‖²))`,
          `explained variance legacy ${m.explainedVarianceLegacy.toFixed(4)}   (mean per-token ratio, batches of ${m.legacyBatchSize})`,
          `L0 ${m.l0.toFixed(2)}   L1 ${m.l1.toPrecision(4)}`,
          `dead ${(m.deadFraction * 100).toFixed(2)}%   dense (>10%) ${(m.denseFraction * 100).toFixed(2)}%   >1% ${(m.freqOver1Percent * 100).toFixed(2)}%`,
          `SSE per token ${m.ssePerToken.toPrecision(5)}   MSE per element ${m.msePerElement.toPrecision(5)}`,
          `cosine ${m.cosine.toFixed(4)}   l2 ratio ${m.l2Ratio.toFixed(4)}   relative reconstruction bias ${m.relativeReconstructionBias.toFixed(4)}`,
        ].join('\n'));
        void density;
      } finally {
        reader.close();
      }
    }));
}
