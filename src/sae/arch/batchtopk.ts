/**
 * BatchTopK SAE (Bussmann et al. 2024; SAELens `batchtopk`): in training the k·B largest ReLU(z) over the
 * batch, with a global threshold θ tracked as the EMA of the smallest kept value; at inference that θ
 * (saved per latent) acts as a JumpReLU threshold, which is how SAELens saves it. Without a saved θ it
 * falls back to per-row TopK.
 */
import { defineArch, thresholdInPlace } from './spec';
import { kConfigFields, kSparseTrainFacts, topkRows } from './topk';

export const batchtopk = defineArch({
  name: 'batchtopk',
  summary: 'BatchTopK: k active per token on average',
  usesK: true,
  codeKind: 'l0',
  offThreshold: 'threshold',
  ranksByDecoderNorm: true,
  addsEncoderBias: true,
  activate: (sae, h, n, norms) => (sae.threshold ? thresholdInPlace(h, n, sae.threshold) : topkRows(sae, h, n, norms)),
  saeLens: {
    architecture: (sae) => (sae.threshold ? 'jumprelu' : 'topk'),
    reads: ['batchtopk', 'matryoshka_batchtopk'],
    encoderBias: 'b_enc',
    latentTensors: [{ tensor: 'threshold', field: 'threshold', required: false }],
    configFields: kConfigFields,
    // SAELens saves a BatchTopK transcoder as a JumpReLU transcoder with the global threshold
    transcoder: { reads: [], architecture: () => 'jumprelu_transcoder' },
  },
  train: kSparseTrainFacts('batch-topk', 'unit'),
});
