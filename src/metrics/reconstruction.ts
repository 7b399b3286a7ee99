/**
 * Reconstruction and sparsity metrics of an SAE on activation rows (docs/metrics.md), accumulated
 * over batches in float64 so that they do not depend on the batch size — except the legacy per-token EV,
 * which is batch-dependent by definition and is labelled so.
 *
 * Mistakes avoided: the conventional EV centres the denominator with the mean vector of x, not of x²
 * (SAELens evals.py ≤ 6.18 / SAEBench bug); MSE is reported per token (sum over d) and per element, never
 * divided by the batch size a second time; the numerator and denominator are averaged separately.
 */
import { forward } from '../sae/forward';
import type { Sae } from '../sae/types';
import type { RowReader } from '../io/rowReader';

export interface ReconstructionMetrics {
  tokens: number;
  /** 1 − E‖x − x̂‖² / (E‖x‖² − ‖E x‖²), numerator and denominator averaged separately over all tokens. */
  explainedVariance: number;
  /** mean_n [1 − ‖e_n‖² / ‖x_n − x̄_batch‖²] (SAEBench paper / Neuronpedia), with x̄ the mean of each batch. */
  explainedVarianceLegacy: number;
  legacyBatchSize: number;
  /** mean_n ‖x_n − x̂_n‖² (sum over dimensions). */
  ssePerToken: number;
  /** sse per token / d. */
  msePerElement: number;
  /** mean_n #{i : f_i > 0}. */
  l0: number;
  /** mean_n Σ_i f_i. */
  l1: number;
  /** mean cos(x, x̂). */
  cosine: number;
  /** mean ‖x̂‖ / ‖x‖. */
  l2Ratio: number;
  /** E‖x̂‖² / E⟨x, x̂⟩ (Gated-SAE paper eq. 10; below 1 means shrinkage). */
  relativeReconstructionBias: number;
  /** Fraction of latents that never fired on these tokens. */
  deadFraction: number;
  /** Fraction of latents firing on more than 10% of tokens (docs/theory.md §C1 'dense'); also over 1%. */
  denseFraction: number;
  freqOver1Percent: number;
  freqOver10Percent: number;
  /** Per-latent firing frequency. */
  density: Float64Array;
}

export class ReconstructionAccumulator {
  private tokens = 0;
  private sse = 0;
  private sumSq = 0;
  private readonly sumX: Float64Array;
  private legacy = 0;
  private legacyTokens = 0;
  private nnz = 0;
  private l1 = 0;
  private cos = 0;
  private ratio = 0;
  private normRows = 0;
  private xhatSq = 0;
  private xDotXhat = 0;
  private readonly fires: Float64Array;
  private legacyBatch = 0;

  constructor(private readonly dIn: number, private readonly dSae: number) {
    this.sumX = new Float64Array(dIn);
    this.fires = new Float64Array(dSae);
  }

  /** Adds n rows: inputs x [n, d], reconstructions [n, d], codes [n, dSae]. */
  add(x: Float32Array, recon: Float32Array, codes: Float32Array, n: number): void {
    const d = this.dIn, m = this.dSae;
    const mean = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j]! += x[r * d + j]! / n;
    this.legacyBatch = Math.max(this.legacyBatch, n);
    for (let r = 0; r < n; r++) {
      let e2 = 0, x2 = 0, xc2 = 0, h2 = 0, xh = 0;
      for (let j = 0; j < d; j++) {
        const xv = x[r * d + j]!, hv = recon[r * d + j]!;
        e2 += (xv - hv) ** 2; x2 += xv * xv; h2 += hv * hv; xh += xv * hv;
        xc2 += (xv - mean[j]!) ** 2;
        this.sumX[j]! += xv;
      }
      this.sse += e2; this.sumSq += x2; this.xhatSq += h2; this.xDotXhat += xh;
      if (xc2 > 0) { this.legacy += 1 - e2 / xc2; this.legacyTokens++; }
      if (x2 > 0) {
        this.cos += h2 > 0 ? xh / Math.sqrt(x2 * h2) : 0;
        this.ratio += Math.sqrt(h2 / x2);
        this.normRows++;
      }
      for (let i = 0; i < m; i++) {
        const f = codes[r * m + i]!;
        if (f > 0) { this.nnz++; this.fires[i]!++; }
        this.l1 += Math.abs(f);
      }
    }
    this.tokens += n;
  }

  result(): ReconstructionMetrics {
    const N = Math.max(this.tokens, 1);
    let meanSq = 0;
    for (let j = 0; j < this.dIn; j++) meanSq += (this.sumX[j]! / N) ** 2;
    const variance = this.sumSq / N - meanSq;
    const density = this.fires.map((c) => c / N);
    let dead = 0, over1 = 0, over10 = 0;
    for (const p of density) { if (p === 0) dead++; if (p > 0.01) over1++; if (p > 0.1) over10++; }
    return {
      tokens: this.tokens,
      explainedVariance: variance > 0 ? 1 - this.sse / N / variance : NaN,
      explainedVarianceLegacy: this.legacyTokens ? this.legacy / this.legacyTokens : NaN,
      legacyBatchSize: this.legacyBatch,
      ssePerToken: this.sse / N,
      msePerElement: this.sse / N / this.dIn,
      l0: this.nnz / N,
      l1: this.l1 / N,
      cosine: this.normRows ? this.cos / this.normRows : NaN,
      l2Ratio: this.normRows ? this.ratio / this.normRows : NaN,
      relativeReconstructionBias: this.xDotXhat !== 0 ? this.xhatSq / this.xDotXhat : NaN,
      deadFraction: dead / this.dSae,
      denseFraction: over10 / this.dSae,
      freqOver1Percent: over1 / this.dSae,
      freqOver10Percent: over10 / this.dSae,
      density,
    };
  }
}

/** Runs the SAE (reference forward pass) over up to maxTokens rows of the reader. */
export function evaluateReconstruction(sae: Sae, reader: RowReader, opts: { maxTokens?: number; batch?: number; onProgress?: (tokens: number) => void } = {}): ReconstructionMetrics {
  const d = sae.cfg.dIn;
  const batch = opts.batch ?? 1024;
  const maxTokens = opts.maxTokens ?? Infinity;
  const acc = new ReconstructionAccumulator(d, sae.cfg.dSae);
  const x = new Float32Array(batch * d);
  let done = 0;
  while (done < maxTokens) {
    const want = Math.min(batch, maxTokens - done);
    const n = reader.next(x, want);
    if (n === 0) break;
    const rows = x.subarray(0, n * d);
    const { codes, recon } = forward(sae, rows, n);
    acc.add(rows, recon, codes, n);
    done += n;
    opts.onProgress?.(done);
    if (n < want) break;
  }
  return acc.result();
}
