/**
 * JumpReLU SAE (Rajamanoharan et al. 2024b; docs/theory.md §A4; SAELens `jumprelu`): f = z·H(z − θ) with
 * learned per-latent θ = exp(t), trained with λ·Σ_i H(z_i − θ_i) through straight-through estimators.
 */
import { defineArch, thresholdInPlace } from './spec';

export const jumprelu = defineArch({
  name: 'jumprelu',
  summary: 'JumpReLU: learned per-latent thresholds, L0 penalty',
  usesK: false,
  codeKind: 'l0',
  offThreshold: 'threshold',
  ranksByDecoderNorm: false,
  addsEncoderBias: true,
  activate: (sae, h, n) => thresholdInPlace(h, n, sae.threshold!),
  saeLens: {
    architecture: () => 'jumprelu',
    reads: ['jumprelu'],
    encoderBias: 'b_enc',
    latentTensors: [{ tensor: 'threshold', field: 'threshold', required: true }],
    configFields: () => ({}),
    transcoder: { reads: ['jumprelu_transcoder'], architecture: () => 'jumprelu_transcoder' },
  },
  train: {
    selection: 'threshold',
    penalty: 'l0-step',
    decoderNorm: 'free',
    auxK: false,
    densePath: true,
    penaltyLabel: 'l0',
    defaultSparsityCoef: 1,
    penaltyName: () => 'l0_step',
    decoderInitNorm: () => 1,
  },
});
