/**
 * The "Ground truth" card of the dictionary overview and the report: when an SAE was trained on synthetic
 * data (`sae-workbench synth`, the demo), ground_truth.safetensors sits beside the activation file. It is
 * looked up beside the evaluation activations, then beside the activations the training log names; the
 * metrics are src/metrics/groundTruth.ts's on the first rows of the activation file beside it (the rows
 * the ground-truth codes describe), so L_GT is aligned.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fastMatmulBT } from '../compute/fastMatmul';
import { normalizeRows } from '../compute/linalg';
import { readActivationRows } from '../diagnostics/files';
import { InputError } from '../errors';
import { checkGroundTruth, groundTruthMetrics } from '../metrics/groundTruth';
import type { Sae } from '../sae/types';
import { GROUND_TRUTH_FILE, readGroundTruth } from '../synthetic';
import type { GroundTruth } from '../synthetic';
import type { FeatureModel, GroundTruthModel } from '../protocol/viewModels';
import { TRAINING_LOG_FILE, trainingActivations } from './trainingLog';

/** Rows the metrics read (as `eval --ground-truth` and the demo). */
export const GROUND_TRUTH_ROWS = 4096;

/** Where the ground truth is: beside the evaluation activations, else beside the training log's first file. */
export function findGroundTruth(saeDir: string, activations?: string): { groundTruth: string; activations: string; foundBy: GroundTruthModel['foundBy'] } | { reason: string } {
  const looked: string[] = [];
  const beside = (acts: string): string => join(dirname(acts), GROUND_TRUTH_FILE);
  if (activations) {
    if (existsSync(beside(activations))) return { groundTruth: beside(activations), activations, foundBy: 'evaluation activations' };
    looked.push(dirname(activations));
  }
  const trained = trainingActivations(join(saeDir, TRAINING_LOG_FILE))[0];
  if (trained) {
    if (existsSync(beside(trained))) {
      if (!existsSync(trained)) return { reason: `${beside(trained)} is there but the activations it describes (${trained}, named in ${TRAINING_LOG_FILE}) are not` };
      return { groundTruth: beside(trained), activations: trained, foundBy: 'training log' };
    }
    if (!looked.includes(dirname(trained))) looked.push(dirname(trained));
  }
  const where = looked.length ? `beside the activations (${looked.join(', ')})` : 'to look in (no activation file given, no training log naming one)';
  return { reason: `no ${GROUND_TRUTH_FILE} ${where}; ground truth is known for synthetic data (sae-workbench synth, demo)` };
}

/** Per latent: the ground-truth feature its decoder row is closest to by cosine. */
export function latentBestMatch(sae: Sae, gt: GroundTruth): { bestCos: Float32Array; bestFeature: Int32Array } {
  const m = sae.cfg.dSae, d = gt.d, f = gt.nFeatures;
  const dec = Float32Array.from(sae.wDec.subarray(0, m * d)), feats = Float32Array.from(gt.features);
  const norms = normalizeRows(dec, m, d);
  normalizeRows(feats, f, d);
  const cos = fastMatmulBT(dec, feats, m, d, f);
  const bestCos = new Float32Array(m).fill(NaN), bestFeature = new Int32Array(m).fill(-1);
  for (let i = 0; i < m; i++) {
    if (!(norms[i]! > 0)) continue;
    for (let a = 0; a < f; a++) {
      const c = cos[i * f + a]!;
      if (bestFeature[i]! < 0 || c > bestCos[i]!) { bestCos[i] = c; bestFeature[i] = a; }
    }
  }
  return { bestCos, bestFeature };
}

/**
 * The card's model for `sae` (folder `saeDir`, evaluated on `activations`). Never throws on a missing or
 * unfitting ground truth: the model then carries the one-line reason.
 */
export function groundTruthModel(sae: Sae, saeDir: string, activations?: string): GroundTruthModel {
  const found = findGroundTruth(saeDir, activations);
  if ('reason' in found) return { groundTruthPath: '', activationsPath: activations ?? '', foundBy: '', reason: found.reason };
  const base = { groundTruthPath: found.groundTruth, activationsPath: found.activations, foundBy: found.foundBy };
  try {
    const gt = readGroundTruth(found.groundTruth);
    checkGroundTruth(sae, gt, found.groundTruth);
    const { x, n } = readActivationRows(found.activations, gt.d, GROUND_TRUTH_ROWS);
    const g = groundTruthMetrics(sae, gt, x, n);
    const num = (v: number | null): number => (v === null ? NaN : v);
    return {
      ...base,
      metrics: {
        features: g.features, liveLatents: g.liveLatents, rows: n, mmcs: g.mmcs,
        recovery90: g.recovery['0.9']!, recovery95: g.recovery['0.95']!, recoveryHungarian90: g.recoveryHungarian['0.9']!, recoveryHungarian95: g.recoveryHungarian['0.95']!,
        meanHungarianCos: g.meanHungarianCos, lGT: num(g.lGT), aaf: g.aaf, polysemanticFraction: g.polysemanticFraction, encoderMaxAbsCos: g.encoderMaxAbsCos,
        verdict: g.verdict, reasons: g.reason,
      },
      ...latentBestMatch(sae, gt),
    };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ...base, reason: e.message };
  }
}

/** The feature page's line: latent `latent`'s closest ground-truth feature, when the card has one. */
export function latentGroundTruth(gt: GroundTruthModel | undefined, latent: number): FeatureModel['groundTruth'] {
  if (!gt?.bestCos || !gt.bestFeature || !gt.metrics || latent < 0 || latent >= gt.bestCos.length || gt.bestFeature[latent]! < 0) return undefined;
  return { feature: gt.bestFeature[latent]!, cosine: gt.bestCos[latent]!, features: gt.metrics.features };
}
