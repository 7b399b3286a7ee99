/**
 * The training objectives of the trainable architectures (docs/theory.md §A, A1–A4), as the trainer's
 * step implements them. Everything the trainer, the checkpoint and the diagnostics need to agree on —
 * which loss, which sparsity term, which decoder-norm convention, which λ_e — is decided here.
 *
 * Loss convention (all architectures): L = mean_n ‖x_n − x̂_n‖² + sparsity, i.e. the per-token sum of
 * squares averaged over the batch (SAELens: `per_item_mse.sum(-1).mean()`), so λ_e = λ/2 (docs/theory.md §1).
 *
 * - relu (A1):     + λ · mean_n Σ_i ‖d_i‖ f_{n,i}; free decoder norms. With unitNormDecoder (A2) the
 *                  decoder rows are renormalised after every step, the gradient component parallel to d_i
 *                  is removed first, and the penalty is λ · mean_n Σ_i f_{n,i}.
 * - topk (A3):     f = ReLU(TopK_k(z)); unit-norm decoder; aux-k: α·scale·mean_n ‖D f_aux,n − (x_n − x̂_n)‖²
 *                  over the top k_aux pre-activations of dead latents (no ReLU, no b_dec: docs/theory.md §A3 and
 *                  sparsify; SAELens adds b_dec to the aux reconstruction), k_aux = min(d_out/2, #dead)
 *                  (d_out = d_in except for transcoders), scale = min(#dead/k_aux, 1), α = 1/32. The residual is a constant (detached).
 * - batchtopk:     the top k·B values of ReLU(z) over the whole batch; otherwise as topk. A global
 *                  threshold θ is tracked (EMA of the smallest kept value, rate 0.01, SAELens
 *                  topk_threshold) and exported as a JumpReLU threshold.
 * - jumprelu (A4): f = z·H(z − θ), θ = exp(t); + λ · mean_n Σ_i H(z_{n,i} − θ_i); straight-through
 *                  estimators with the rectangle kernel K(u) = 1[|u| < ½] and bandwidth ε:
 *                  ∂f/∂θ := −(θ/ε)K((z−θ)/ε), ∂H/∂θ := −(1/ε)K((z−θ)/ε), ∂f/∂z = H(z − θ), ∂H/∂z = 0.
 */
import { trainFacts } from './arch/registry';
import type { ArchName } from './arch/registry';
import { unitNormDecoderOf } from './arch/spec';
import type { TrainFacts } from './arch/spec';

export interface ModelConfig {
  arch: ArchName;
  /** The step's mechanisms for this architecture (its spec's training facts; plain data, it crosses to kernel workers). */
  selection: TrainFacts['selection'];
  penalty: TrainFacts['penalty'];
  dIn: number;
  dSae: number;
  /** Rows per step. */
  batch: number;
  /** Active latents per row for k-sparse selections (0 otherwise). */
  k: number;
  /** Unit-norm decoder rows: the architecture's rule (always, never, or the option: relu's A2). */
  unitNormDecoder: boolean;
  /** JumpReLU STE bandwidth ε. */
  bandwidth: number;
  /** Whether the aux-k loss is on (architectures with aux-k, unless turned off). */
  auxK: boolean;
  kAux: number;
  auxCoef: number;
  /** Rate of BatchTopK's threshold EMA. */
  thresholdLr: number;
  /**
   * relu/jumprelu: a thread switches its latents to the dense decoder path (GEMMs instead of per-latent
   * lists) when more than this fraction of its (row, latent) pairs is active. Infinity: never; 0: always.
   */
  denseThreshold: number;
  /** Tests: write gradients to capture buffers instead of updating parameters. */
  captureGrads?: boolean;
  /**
   * Weighted SAE (WSAE, docs/theory.md §A7): every reconstruction term (the main one and aux-k) is ‖Γ(·)‖² with
   * per-input-dimension weights Γ, held in the arena's `gamma2` region as γ². Off: plain ‖·‖².
   */
  reconWeighted?: boolean;
  // ---- the family (docs/theory.md §A5, A6, A3 Matryoshka; src/train/options.ts, src/train/feeds.ts). Defaults give a plain SAE.
  /** Width of the reconstruction target and of decoder rows (transcoder: d_out; otherwise d_in). */
  dOut: number;
  /** The target is a separate row stream (transcoder) rather than the input itself. */
  target: boolean;
  /** The encoder sees x − b_dec (SAEs, Matryoshka); transcoders and crosscoders see x as it is. */
  bDecInput: boolean;
  /**
   * relu's decoder-norm weight is Σ_g ‖d_i^g‖ over this many equal blocks of a decoder row: 1 is A1, the
   * number of sources L is the crosscoder's group lasso λ Σ_i f_i Σ_l ‖d_i^l‖ (A6).
   */
  normGroups: number;
  /** Matryoshka prefix widths m_1 < … < m_P = d_sae (the loss sums the reconstruction of every prefix); [d_sae] otherwise. */
  prefixes: number[];
  /** Transcoder skip connection ŷ += W_skip x, W_skip [d_out, d_in]. */
  skip: boolean;
}

export interface FamilyShape { dOut?: number; target?: boolean; bDecInput?: boolean; normGroups?: number; prefixes?: number[]; skip?: boolean }

export function modelConfig(arch: ArchName, dIn: number, dSae: number, batch: number, o: { k?: number; unitNormDecoder?: boolean; bandwidth?: number; auxK?: boolean; captureGrads?: boolean; denseThreshold?: number; reconWeighted?: boolean } & FamilyShape = {}): ModelConfig {
  const t = trainFacts(arch);
  const isTopk = t.selection === 'row-topk' || t.selection === 'batch-topk';
  const dOut = o.dOut ?? dIn;
  const bDecInput = o.bDecInput ?? !o.target;
  if (bDecInput && dOut !== dIn) throw new Error(`b_dec can only be subtracted from the input when d_out = d_in (${dOut} ≠ ${dIn})`);
  const normGroups = o.normGroups ?? 1;
  if (dOut % normGroups !== 0) throw new Error(`d_out ${dOut} is not a multiple of the ${normGroups} decoder-norm groups`);
  const prefixes = o.prefixes ?? [dSae];
  if (prefixes.at(-1) !== dSae || prefixes.some((m, i) => !(m > (i ? prefixes[i - 1]! : 0)))) throw new Error(`prefixes ${prefixes.join(',')} must increase to d_sae ${dSae}`);
  return {
    arch, selection: t.selection, penalty: t.penalty, dIn, dSae, batch, dOut, target: !!o.target, bDecInput, normGroups, prefixes, skip: !!o.skip,
    k: isTopk ? (o.k ?? 32) : 0,
    unitNormDecoder: unitNormDecoderOf(t, o.unitNormDecoder),
    bandwidth: o.bandwidth ?? 0.05,
    auxK: t.auxK && (o.auxK ?? true),
    // half the reconstructed width: d_in for an SAE, the target's d_out for a transcoder
    kAux: Math.max(1, Math.min(dSae, Math.floor(dOut / 2))),
    // aux-k's α; the gate mechanism's aux reconstruction enters the loss with weight 1 (Rajamanoharan et al. 2024)
    auxCoef: t.selection === 'gate' ? 1 : 1 / 32,
    thresholdLr: 0.01,
    // early in relu training about half the latents fire and a list walk per latent then re-reads the
    // batch once per latent; above ~10% active the GEMM path is faster (docs/architecture.md)
    denseThreshold: o.denseThreshold ?? 0.1,
    captureGrads: o.captureGrads,
    reconWeighted: o.reconWeighted ?? false,
  };
}

/** Whether the loss has an auxiliary reconstruction: aux-k's on dead latents, or the gate mechanism's. */
export function hasAuxReconstruction(cfg: Pick<ModelConfig, 'auxK' | 'selection'>): boolean {
  return cfg.auxK || cfg.selection === 'gate';
}

/** What goes into cfg.training so that diagnostics can recover λ_e (docs/theory.md §1). */
export function lossFacts(cfg: ModelConfig, sparsityCoef: number, activationScale: number): Record<string, unknown> {
  const facts: Record<string, unknown> = {
    lossConvention: 'sum_of_squares',
    sparsityCoefficient: sparsityCoef,
    sparsityPenalty: trainFacts(cfg.arch).penaltyName(cfg.unitNormDecoder),
    unitNormDecoder: cfg.unitNormDecoder,
  };
  // λ_e is the KKT value of <d̂_i, r>: λ/2 under the sum-of-squares convention, in training units. The
  // saved weights have the activation scale folded in (residuals shrink by 1/scale), so λ_e does too.
  if (cfg.penalty === 'l1' && cfg.normGroups > 1) facts.sparsityPenalty = 'l1_group_decoder_norm_over_sources';
  if (cfg.prefixes.length > 1) facts.matryoshkaPrefixLosses = 'sum';
  // λ_e as the plain KKT value holds for one decoder-norm group and one reconstruction term
  if (cfg.penalty === 'l1' && cfg.selection === 'positive' && !cfg.reconWeighted && cfg.normGroups === 1 && cfg.prefixes.length === 1) facts.lambdaE = sparsityCoef / 2 / activationScale;
  if (cfg.penalty === 'l0-step') { facts.l0Coefficient = sparsityCoef; facts.bandwidth = cfg.bandwidth; }
  if (cfg.auxK) { facts.auxKCoefficient = cfg.auxCoef; facts.kAux = cfg.kAux; }
  // under ‖Γ(x − x̂)‖² the relu KKT condition reads ⟨d_i, Γ²r⟩ = λ/2, so λ/2 is no longer the plain residual
  // correlation diagnostics take λ_e to be: no lambdaE is stored (they estimate it from data) and the
  // convention says why
  if (cfg.reconWeighted) facts.lossConvention = 'weighted_sum_of_squares';
  return facts;
}
