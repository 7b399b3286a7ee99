/**
 * Progress of a training run, as the trainer (in a worker) reports it to its caller (the extension host
 * or the CLI) and as the training monitor panel receives it. Type-only module.
 */
import type { EnginePreference } from '../compute/engine';
import type { Activation } from '../sae/types';
export interface TrainingProgress {
  runId: string;
  step: number;
  totalSteps: number;
  tokens: number;
  totalTokens: number;
  /** Loss parts by name, e.g. { mse: 0.12, l1: 0.03, auxk: 0.001 }. */
  loss: Record<string, number>;
  explainedVariance: number;
  l0: number;
  deadFraction: number;
  tokensPerSecond: number;
  /** Seconds to the end at the current rate. */
  etaSeconds: number;
  /** The GEMM engine in use ('wasm-simd', 'tfjs-node', 'js', ...). */
  engine: string;
}

export type TrainingEvent =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'checkpoint'; runId: string; step: number; path: string }
  | { type: 'done'; runId: string; outDir: string; summary: Record<string, unknown> }
  | { type: 'error'; runId: string; message: string; lastCheckpoint?: string }
  | { type: 'cancelled'; runId: string; lastCheckpoint?: string };

/** b_dec's starting point (SAELens b_dec_init_method): the geometric median or the mean of a sample of rows, or 0. */
export type BDecInit = 'geometric_median' | 'mean' | 'zeros';

/** A training run's options as the caller gives them (CLI, extension, tests); src/train/options.ts resolves them. */
export interface TrainOptions {
  /** Activation file(s): .npy or .safetensors holding [tokens, d_in] float rows. */
  activations: string[];
  /** Output SAELens v6 folder. */
  outDir: string;
  arch: Activation;
  width: number;
  k?: number;
  /** Sparsity coefficient (relu: L1 λ; jumprelu: L0 coefficient). */
  l1?: number;
  tokens?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  threads?: number;
  /** GEMM engine preference. */
  engine?: EnginePreference;
  /** Continue from the last checkpoint in outDir. */
  resume?: boolean;
  checkpointEvery?: number;
  /** What to do with NaN/Inf rows: skip and count them, or stop with an error. */
  onNonFinite?: 'skip' | 'stop';
  /** Memory budget for activations, bytes. */
  memoryBudget?: number;
  runId?: string;
  // ---- additions of the training engine (all optional; defaults in resolveOptions below)
  /** Name of the 2-D tensor in a .safetensors activation file holding several. */
  tensorName?: string;
  lrWarmupSteps?: number;
  /** Linear decay to 0 over the last N steps. */
  lrDecaySteps?: number;
  /** Linear warm-up of the sparsity coefficient over the first N steps. */
  sparsityWarmupSteps?: number;
  /** relu: unit-norm decoder variant (docs/theory.md §A2) instead of the decoder-norm-weighted L1 (A1); topk: unit-norm decoder rows throughout instead of free ones. */
  unitNormDecoder?: boolean;
  decoderInitNorm?: number;
  /** Where b_dec starts: the geometric median (default) or the mean of a sample of rows, or zeros (SAELens b_dec_init_method). */
  bDecInit?: BDecInit;
  /** Scale activations to mean norm √d_in while training (expected_average_only_in), folded into the saved weights. */
  normalize?: boolean;
  /** A latent is dead after this many tokens without firing. */
  deadTokens?: number;
  /** Resample dead latents every N steps (0: never). */
  resampleEvery?: number;
  /** JumpReLU STE bandwidth and initial threshold. */
  bandwidth?: number;
  initThreshold?: number;
  /** TopK/BatchTopK aux-k loss on dead latents (default on). */
  auxK?: boolean;
  // ---- weighted SAE (docs/theory.md §A7; src/train/weighting.ts)
  /** Per-input-dimension reconstruction weights Γ: none (default), variance (γ = Var^α), oracle (NNLS on the ground-truth mixing). */
  weighting?: 'none' | 'variance' | 'oracle';
  /** Exponent α of the variance weights (default −0.5; see docs/family.md for why negative). */
  weightAlpha?: number;
  /** oracle: a synthetic folder or its ground_truth.safetensors (the mixing matrix W_p). */
  groundTruth?: string;
  // ---- the rest of the family (the same loop and engine; kinds and row-aligned streams in src/train/feeds.ts)
  /** Transcoder: target rows (site B, row-aligned with the single activation file, any width d_out). */
  target?: string;
  /** Transcoder: skip connection ŷ = f W_dec + b_dec + x W_skipᵀ (relu only: SAELens skip_transcoder). */
  skip?: boolean;
  /** Crosscoder: the activation files are L row-aligned sources with shared codes (not more rows). */
  crosscoder?: boolean;
  /** Matryoshka BatchTopK: prefix widths (the full width is appended when missing). */
  matryoshkaWidths?: number[];
  // ---- what the rows are (recorded in cfg.json with the activation files: src/data/saeData.ts)
  /** The model's hook the activations were captured at (SAELens metadata.hook_name). */
  hookName?: string;
  /** The model they come from (SAELens metadata.model_name). */
  modelName?: string;
}

// The trainer worker's channel (src/train/api.ts ↔ src/workers/trainer.worker.ts).
/** What the trainer worker starts with. */
export interface TrainerWorkerData { opts: TrainOptions; cancelFlag: Int32Array }

/** Events the trainer worker sends (MessageHandler event envelopes). */
export interface TrainerWorkerEvents extends Record<string, unknown> {
  training: TrainingEvent;
  result: Record<string, unknown>;
  failure: { name: string; source?: string; problem?: string; message: string; stack?: string };
}
