/**
 * The canonical in-memory SAE: SAELens orientation (activations are rows; W_enc [d_in, d_sae];
 * W_dec [d_sae, d_out], row i is atom i), Float32 throughout. Every loader produces this and every
 * consumer (trainer, eval, diagnostics, panels) reads it. Crosscoders have their own type.
 */
import type { ArchName } from './arch/registry';

/** The architecture of an SAE: one of the registered ones (src/sae/arch/registry.ts). */
export type Activation = ArchName;

export type Normalization = 'none' | 'expected_average_only_in' | 'constant_norm_rescale' | 'layer_norm';

export interface SaeConfig {
  activation: Activation;
  dIn: number;
  dSae: number;
  /** Width of the reconstruction target: d_in for SAEs, d_out for transcoders. */
  dOut: number;
  /** Transcoders map input activations at one site to targets at another; b_dec is never subtracted. */
  transcoder: boolean;
  /** TopK / BatchTopK: active latents per row. */
  k?: number;
  applyBDecToInput: boolean;
  normalizeActivations: Normalization;
  /** TopK: pre-activations are ranked after multiplying by the decoder norms (SAELens option). */
  rescaleActsByDecoderNorm: boolean;
  hookName?: string;
  hookNameOut?: string;
  modelName?: string;
  /** Matryoshka prefix widths (cumulative), when the SAE has them. */
  matryoshkaWidths?: number[];
  /** The dtype the SAE was stored in ("float32", "bfloat16", ...). */
  dtype: string;
  /**
   * Training facts kept with the SAE: sparsity coefficient, loss convention (for λ_e, docs/theory.md §1),
   * tokens trained, engine. Free-form; written to cfg.json under `sae_workbench`.
   */
  training?: Record<string, unknown>;
  /** Everything else in the source config, kept so that load → save round-trips. */
  metadata: Record<string, unknown>;
  /** Where it was loaded from. */
  source?: { format: string; path: string };
}

export interface Sae {
  cfg: SaeConfig;
  /** [dIn, dSae] row-major. */
  wEnc: Float32Array;
  /** [dSae]; for architectures with a gate path this is the gate's bias (SAELens b_gate). */
  bEnc: Float32Array;
  /** [dSae, dOut] row-major: row i is atom i. */
  wDec: Float32Array;
  /** [dOut]. */
  bDec: Float32Array;
  /** [dSae]: JumpReLU thresholds, or BatchTopK's inference threshold broadcast. */
  threshold?: Float32Array;
  /** Architectures with a separate magnitude path: its bias and log-scale (SAELens b_mag, r_mag). */
  bMag?: Float32Array;
  rMag?: Float32Array;
  /** Skip transcoders: [dOut, dIn], used as x @ W_skipᵀ. */
  wSkip?: Float32Array;
  /** Optional per-latent log10 firing density (SAELens sparsity.safetensors). */
  logDensity?: Float32Array;
}

export function describeSae(s: Sae): string {
  const a = s.cfg.activation + (s.cfg.k !== undefined ? ` k=${s.cfg.k}` : '');
  return `${s.cfg.transcoder ? 'transcoder' : 'SAE'} ${a}, d_in ${s.cfg.dIn}, d_sae ${s.cfg.dSae}` +
    (s.cfg.transcoder ? `, d_out ${s.cfg.dOut}` : '') + (s.cfg.hookName ? `, hook ${s.cfg.hookName}` : '');
}
