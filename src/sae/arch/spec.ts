/**
 * What one SAE architecture is, in one object: its inference activation, what diagnostics read from its
 * codes, how SAELens stores it, and (when it can be trained) the facts the training step and the saved
 * config take from it. One module per architecture beside this file exports its spec; ./registry.ts lists
 * them, and every layer (forward pass, formats, trainer, diagnostics, CLI, wizard, settings) reads the
 * registry instead of naming architectures.
 */
import type { Sae } from '../types';

type Json = Record<string, unknown>;

/** Per-latent tensors an architecture keeps beside W_enc, b_enc, W_dec, b_dec (fields of the canonical Sae). */
export type LatentField = 'threshold' | 'bMag' | 'rMag';

export interface SaeLensMapping {
  /** The `architecture` written to cfg.json for this SAE (BatchTopK with a threshold is saved as a JumpReLU). */
  architecture(sae: Sae): string;
  /** `architecture` values of (non-transcoder) SAELens configs that load as this architecture. */
  reads: readonly string[];
  /** The tensor name of the encoder bias (b_enc, or Gated's b_gate). */
  encoderBias: string;
  /** Per-latent tensors of shape [d_sae]: loaded into `field`, required or optional, saved when present. */
  latentTensors: readonly { tensor: string; field: LatentField; required: boolean }[];
  /** cfg.json fields of this architecture beyond the common ones. */
  configFields(sae: Sae): Json;
  /** Its transcoder form in SAELens, when there is one: the names read, and the name written. */
  transcoder?: { reads: readonly string[]; architecture(sae: Sae): string };
}

/**
 * How the training step treats an architecture. Mechanism names, not architecture names: the step keeps one
 * fast kernel per mechanism, and a new architecture reuses them or adds its own.
 */
export interface TrainFacts {
  /**
   * Which (row, latent) pairs are active: `positive` z > 0; `threshold` z > θ with a learned θ = exp(t);
   * `row-topk` the k largest per row; `batch-topk` the k·B largest over the batch; `gate` a gate path
   * (π_gate = z + b_gate > 0) that selects and a magnitude path (e^{r_mag}·z + b_mag) that sets the value,
   * with the L1 on ReLU(π_gate) and its aux reconstruction through the detached decoder.
   */
  selection: 'positive' | 'threshold' | 'row-topk' | 'batch-topk' | 'gate';
  /** The sparsity term: λ·Σ f‖d‖ (L1, decoder-norm weighted unless unit-norm), λ·Σ H(z − θ) (L0 step), or none. */
  penalty: 'l1' | 'l0-step' | 'none';
  /** Decoder rows: free norms, unit norm always, or the user's choice (unitNormDecoder, free by default; unitNormDecoderOf). */
  decoderNorm: 'free' | 'unit' | 'option';
  /** The aux-k loss on dead latents (on by default, --no-aux-k turns it off). */
  auxK: boolean;
  /** The dense decoder path may take over while many latents fire. */
  densePath: boolean;
  /** The loss's name for its sparsity term in progress events and the log (l1, l0). */
  penaltyLabel?: string;
  /** Default sparsity coefficient (0 for architectures without a penalty). */
  defaultSparsityCoef: number;
  /** The stored name of the penalty in cfg.training.sparsityPenalty, given the decoder-norm choice. */
  penaltyName(unitNormDecoder: boolean): string;
  /** Initial decoder rows from uniform entries (SAELens's Kaiming-uniform, normalised) instead of Gaussian ones. */
  uniformInit?: boolean;
  /** Default norm of the initial decoder rows, given the decoder-norm choice. */
  decoderInitNorm(unitNormDecoder: boolean): number;
}

export interface ArchSpec<N extends string = string> {
  readonly name: N;
  /** One line for the wizard, --help and the settings' enum descriptions. */
  readonly summary: string;
  /** Codes per row are set by k (TopK, BatchTopK). */
  readonly usesK: boolean;
  /**
   * Which optimality conditions its codes obey (docs/theory.md): `l1` codes shrunk by a penalty (KKT with λ),
   * `l0` codes with fitted magnitudes (TopK, BatchTopK, JumpReLU).
   */
  readonly codeKind: 'l1' | 'l0';
  /**
   * Below which value a latent is off, for diagnostics: `lambda` (λ_e, L1 codes), `threshold` (the SAE's
   * per-latent θ when it has one, else the row's smallest kept code), `row-min` (the row's smallest kept code).
   */
  readonly offThreshold: 'lambda' | 'threshold' | 'row-min';
  /** Honours cfg.rescaleActsByDecoderNorm (ranks pre-activations by z·‖d‖, SAELens TopK option). */
  readonly ranksByDecoderNorm: boolean;
  /** b_enc is added to the pre-activations before `activate` (false: `activate` applies its own biases). */
  readonly addsEncoderBias: boolean;
  /** Codes from pre-activations h [n, d_sae], in place (SAELens inference semantics). `norms`: decoder row norms when ranking by them. */
  activate(sae: Sae, h: Float32Array, n: number, norms?: Float32Array): void;
  readonly saeLens: SaeLensMapping;
  /** Present when the engine can train it. */
  readonly train?: TrainFacts;
}

export function defineArch<N extends string>(spec: ArchSpec<N>): ArchSpec<N> {
  return spec;
}

/** ReLU in place. */
export function reluInPlace(h: Float32Array): void {
  for (let i = 0; i < h.length; i++) if (!(h[i]! > 0)) h[i] = 0;
}

/** Keeps entries above their latent's threshold (and positive), zeroing the rest. */
export function thresholdInPlace(h: Float32Array, n: number, threshold: Float32Array): void {
  const m = threshold.length;
  for (let r = 0; r < n; r++) for (let i = 0; i < m; i++) {
    const v = h[r * m + i]!;
    if (!(v > threshold[i]! && v > 0)) h[r * m + i] = 0;
  }
}

/** Whether an architecture trains with unit-norm decoder rows, given the caller's choice (undefined: its default). */
export function unitNormDecoderOf(t: TrainFacts, given: boolean | undefined): boolean {
  return t.decoderNorm === 'unit' || (t.decoderNorm === 'option' && !!given);
}
