/**
 * Options and set-up of the weighted SAE (WSAE, THEORY.md A7): which Γ a run trains with. The weights
 * themselves are src/train/weighting.ts; the weighted loss and its gradients are in the step (γ² scales the
 * residual's gradient, src/train/step.ts `residual`).
 */
import { InputError } from '../errors';
import { readGroundTruth } from '../synthetic';
import type { TrainOptions } from './api';
import { oracleWeights, varianceWeights } from './weighting';

export type WeightingMode = 'none' | 'variance' | 'oracle';
export const WEIGHTING_MODES: readonly WeightingMode[] = ['none', 'variance', 'oracle'];
/**
 * Default exponent of the variance weights. Negative: Var(x_i) = Σ_j W_ij² Var(s_j) grows with the number
 * of features sharing dimension i, so α > 0 would up-weight exactly the polysemantic dimensions the WSAE
 * principle says to down-weight; the G5 bench (docs/family.md) measures both signs.
 */
export const DEFAULT_WEIGHT_ALPHA = -0.5;

export function resolveWeighting(o: TrainOptions): { weighting: WeightingMode; weightAlpha: number; groundTruth?: string } {
  const weighting = o.weighting ?? 'none';
  if (!WEIGHTING_MODES.includes(weighting)) throw new InputError('--weighting', `expected one of ${WEIGHTING_MODES.join(', ')}, got '${String(weighting)}'`);
  const weightAlpha = o.weightAlpha ?? DEFAULT_WEIGHT_ALPHA;
  if (!Number.isFinite(weightAlpha)) throw new InputError('--weight-alpha', `expected a finite number, got ${weightAlpha}`);
  if (weighting === 'oracle' && !o.groundTruth) throw new InputError('--ground-truth', 'oracle weighting needs the synthetic folder (or its ground_truth.safetensors) holding the mixing matrix');
  if (weighting !== 'oracle' && o.groundTruth) throw new InputError('--ground-truth', 'only used with --weighting oracle');
  return { weighting, weightAlpha, ...(o.groundTruth ? { groundTruth: o.groundTruth } : {}) };
}

/** Γ for a run: from the (scaled) sample rows for `variance`, from the ground truth's W_p for `oracle`. */
export function computeReconWeights(o: { weighting: WeightingMode; weightAlpha: number; groundTruth?: string }, sample: Float32Array, rows: number, dIn: number): Float32Array {
  if (o.weighting === 'variance') return varianceWeights(sample, rows, dIn, o.weightAlpha);
  if (o.weighting === 'oracle') {
    const gt = readGroundTruth(o.groundTruth!);
    if (gt.d !== dIn) throw new InputError(o.groundTruth!, `the ground truth's features have d = ${gt.d}, the activations d_in = ${dIn}`);
    // W_p [d, F]: column f is feature f's direction (gt.features holds them as rows [F, d])
    const wp = new Float32Array(dIn * gt.nFeatures);
    for (let f = 0; f < gt.nFeatures; f++) for (let q = 0; q < dIn; q++) wp[q * gt.nFeatures + f] = gt.features[f * dIn + q]!;
    const gamma = oracleWeights(wp, dIn, gt.nFeatures);
    let ms = 0;
    for (const g of gamma) ms += g * g;
    ms /= dIn;
    if (!(ms > 0)) throw new InputError(o.groundTruth!, 'the oracle weights are all zero (the mixing matrix has no usable rows)');
    // rescaled to mean γ² = 1 like the variance weights: Γ's overall scale only trades off against the
    // sparsity coefficient, and --l1 should mean the same thing whichever Γ a run uses
    const s = 1 / Math.sqrt(ms);
    for (let q = 0; q < dIn; q++) gamma[q]! *= s;
    return gamma;
  }
  return new Float32Array(dIn).fill(1);
}
