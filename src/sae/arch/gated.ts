/**
 * Gated SAE (Rajamanoharan et al. 2024, "Improving Dictionary Learning with Gated Sparse Autoencoders";
 * SAELens `gated`; dictionary_learning's GatedAutoEncoder). One encoder matrix, two paths:
 *
 *   z = (x − b_dec)W_enc                       (no bias)
 *   π_gate = z + b_gate                         which latents fire: 1[π_gate > 0]
 *   π_mag  = e^{r_mag} ⊙ z + b_mag             how strongly: ReLU(π_mag)
 *   f = 1[π_gate > 0] ⊙ ReLU(π_mag),  x̂ = f W_dec + b_dec
 *
 * Training loss (the paper's L_gated, SAELens's GatedTrainingSAE):
 *   ‖x − x̂‖² + λ Σ_i ReLU(π_gate)_i ‖d_i‖ + ‖x − (ReLU(π_gate) sg(W_dec) + sg(b_dec))‖²
 * The step function passes no gradient, so the gate path learns only from the L1 term and the auxiliary
 * reconstruction, whose decoder is detached (sg): it trains the gate to reconstruct, not the dictionary.
 * The engine's `gate` mechanism (src/train/step.ts) implements these gradients; b_gate is stored in b_enc.
 */
import type { Sae } from '../types';
import { defineArch } from './spec';

/** Gated codes from z = (x − b_dec)W_enc (no bias), in place. */
function gatedCodes(sae: Sae, h: Float32Array, n: number): void {
  const { dSae } = sae.cfg;
  const bGate = sae.bEnc, bMag = sae.bMag!, rMag = sae.rMag!;
  const scale = Float32Array.from(rMag, Math.exp);
  for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) {
    const z = h[r * dSae + i]!;
    const mag = z * scale[i]! + bMag[i]!;
    h[r * dSae + i] = z + bGate[i]! > 0 && mag > 0 ? mag : 0;
  }
}

export const gated = defineArch({
  name: 'gated',
  summary: 'Gated: a gate path picks latents, a magnitude path sets them (L1 on the gate)',
  usesK: false,
  // the magnitudes are not shrunk by the penalty (it acts on the gate), but which latents fire is an L1
  // decision at λ: diagnostics treat the codes as L1 codes, with λ_e estimated from them
  codeKind: 'l1',
  offThreshold: 'lambda',
  ranksByDecoderNorm: false,
  addsEncoderBias: false,
  activate: gatedCodes,
  saeLens: {
    architecture: () => 'gated',
    reads: ['gated'],
    encoderBias: 'b_gate',
    latentTensors: [
      { tensor: 'b_mag', field: 'bMag', required: true },
      { tensor: 'r_mag', field: 'rMag', required: true },
    ],
    configFields: () => ({}),
  },
  train: {
    selection: 'gate',
    penalty: 'l1',
    decoderNorm: 'free',
    auxK: false,
    densePath: false,
    penaltyLabel: 'l1',
    defaultSparsityCoef: 5,
    penaltyName: () => 'l1_gate_decoder_norm_weighted',
    decoderInitNorm: () => 0.1,
  },
});
