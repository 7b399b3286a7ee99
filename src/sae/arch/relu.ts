/**
 * ReLU SAE (docs/theory.md §A1/A2; SAELens `standard`): f = ReLU(z), z = (x − b_dec)W_enc + b_enc. Trained with
 * λ·Σ_i f_i‖d_i‖ (free decoder norms, A1) or λ·Σ_i f_i with unit-norm decoder rows (A2).
 */
import { defineArch, reluInPlace } from './spec';

export const relu = defineArch({
  name: 'relu',
  summary: 'ReLU with an L1 penalty',
  usesK: false,
  codeKind: 'l1',
  offThreshold: 'lambda',
  ranksByDecoderNorm: false,
  addsEncoderBias: true,
  activate: (_sae, h) => reluInPlace(h),
  saeLens: {
    architecture: () => 'standard',
    reads: ['standard', 'relu'],
    encoderBias: 'b_enc',
    latentTensors: [],
    configFields: () => ({}),
    transcoder: { reads: ['transcoder', 'skip_transcoder'], architecture: (sae) => (sae.wSkip ? 'skip_transcoder' : 'transcoder') },
  },
  train: {
    selection: 'positive',
    penalty: 'l1',
    decoderNorm: 'option',
    auxK: false,
    densePath: true,
    penaltyLabel: 'l1',
    defaultSparsityCoef: 5,
    penaltyName: (unit) => (unit ? 'l1_unit_norm_decoder' : 'l1_decoder_norm_weighted'),
    decoderInitNorm: (unit) => (unit ? 1 : 0.1),
  },
});
