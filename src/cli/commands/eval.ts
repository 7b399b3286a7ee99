import type { Command } from 'commander';
import { loadSae } from '../../formats/index';
import { openRowReader } from '../../io/rowReader';
import { evaluateReconstruction } from '../../metrics/reconstruction';
import { formatGroundTruthMetrics, groundTruthMetrics } from '../../metrics/groundTruth';
import type { GroundTruthMetrics } from '../../metrics/groundTruth';
import { readGroundTruth } from '../../synthetic';
import type { Sae } from '../../sae/types';
import { describeSae } from '../../sae/types';
import { action, emit, globals, InputError, intOption } from '../common';

interface EvalCliOptions { sae: string; activations: string[]; maxTokens?: number; batch: number; tensor?: string; nonFinite: string; groundTruth?: string }

/** Rows (from the start, in file order) the ground-truth metrics use: L_GT and EV need a forward pass on them. */
const GROUND_TRUTH_ROWS = 65536;

/** Ground-truth metrics on the first rows of the activations, which align with the generator's codes. */
function groundTruthOf(o: EvalCliOptions, sae: Sae): GroundTruthMetrics {
  const gt = readGroundTruth(o.groundTruth!);
  // NaN rows cannot be skipped here: the codes are aligned row by row with the activations
  const reader = openRowReader(o.activations, { tensorName: o.tensor, shuffle: false, loop: false, onNonFinite: 'stop' });
  try {
    const rows = Math.min(gt.n ?? GROUND_TRUTH_ROWS, GROUND_TRUTH_ROWS, reader.totalRows, o.maxTokens ?? Infinity);
    const x = new Float32Array(rows * sae.cfg.dIn);
    const got = reader.next(x, rows);
    return groundTruthMetrics(sae, gt, x.subarray(0, got * sae.cfg.dIn), got);
  } finally {
    reader.close();
  }
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('reconstruction and sparsity metrics of an SAE on activations (EV conventional and legacy, L0, dead/dense, MSE, cosine, l2 ratio, shrinkage)')
    .requiredOption('--sae <dir>', 'an SAE in any supported format')
    .requiredOption('--activations <files...>', '.npy or .safetensors file(s) of [tokens, d_in] rows, or a capture folder (<folder>#<site>)')
    .option('--max-tokens <n>', 'evaluate at most this many tokens', intOption('max-tokens'))
    .option('--batch <b>', 'rows per batch (also the batch of the legacy per-token EV)', intOption('batch'), 1024)
    .option('--tensor <name>', 'which 2-D tensor of a .safetensors file (or which site of a capture folder) holds the activations')
    .option('--non-finite <mode>', 'rows with NaN/Inf: skip or stop', 'skip')
    .option('--ground-truth <file>', `ground_truth.safetensors (or its folder) from \`synth\`: adds MMCS, recovery@0.9/0.95 (max-cosine and one-to-one), L_GT, AAF and encoder |cos| (on the first ${GROUND_TRUTH_ROWS} rows at most)`)
    .action(action((o: EvalCliOptions, cmd: Command) => {
      const g = globals(cmd);
      if (o.nonFinite !== 'skip' && o.nonFinite !== 'stop') throw new InputError('--non-finite', `expected skip or stop, got '${o.nonFinite}'`);
      const sae = loadSae(o.sae);
      const reader = openRowReader(o.activations, { tensorName: o.tensor, shuffle: false, loop: false, onNonFinite: o.nonFinite });
      try {
        if (reader.dIn !== sae.cfg.dIn) throw new InputError(o.activations[0]!, `rows have d_in ${reader.dIn}, the SAE expects ${sae.cfg.dIn}`);
        const m = evaluateReconstruction(sae, reader, { maxTokens: o.maxTokens, batch: o.batch });
        const { density, ...scalars } = m;
        const gtm = o.groundTruth ? groundTruthOf(o, sae) : undefined;
        const groundTruth = gtm ? { ...gtm, perFeature: { bestLatent: Array.from(gtm.perFeature.bestLatent), bestCos: Array.from(gtm.perFeature.bestCos), matchedLatent: Array.from(gtm.perFeature.matchedLatent), matchedCos: Array.from(gtm.perFeature.matchedCos) } } : undefined;
        const report = { sae: o.sae, architecture: describeSae(sae), ...scalars, skippedRows: reader.skippedRows, ...(groundTruth ? { groundTruth } : {}) };
        emit(g, report, () => [
          `${describeSae(sae)} on ${m.tokens} tokens${reader.skippedRows ? ` (${reader.skippedRows} NaN/Inf rows skipped)` : ''}`,
          `explained variance        ${m.explainedVariance.toFixed(4)}   (1 − E‖e‖² / (E‖x‖² − ‖E x‖²))`,
          `explained variance legacy ${m.explainedVarianceLegacy.toFixed(4)}   (mean per-token ratio, batches of ${m.legacyBatchSize})`,
          `L0 ${m.l0.toFixed(2)}   L1 ${m.l1.toPrecision(4)}`,
          `dead ${(m.deadFraction * 100).toFixed(2)}%   dense (>10%) ${(m.denseFraction * 100).toFixed(2)}%   >1% ${(m.freqOver1Percent * 100).toFixed(2)}%`,
          `SSE per token ${m.ssePerToken.toPrecision(5)}   MSE per element ${m.msePerElement.toPrecision(5)}`,
          `cosine ${m.cosine.toFixed(4)}   l2 ratio ${m.l2Ratio.toFixed(4)}   relative reconstruction bias ${m.relativeReconstructionBias.toFixed(4)}`,
          ...(gtm ? formatGroundTruthMetrics(gtm) : []),
        ].join('\n'));
        void density;
      } finally {
        reader.close();
      }
    }));
}
