/**
 * The dense reference of the objectives of the sparse-dictionary family (docs/theory.md §A, issue #5): transcoders
 * (A5: input x at site A, target y at site B, optional skip W_skip), crosscoders (A6: sources concatenated,
 * group-lasso penalty over the per-source decoder blocks) and Matryoshka BatchTopK (nested prefixes, summed
 * prefix losses), each with optional per-target-dimension weights Γ (WSAE, A7).
 *
 *   x′ = x − b_dec (only when the input is the target: plain SAEs / Matryoshka), else x′ = x
 *   z = x′W_enc + b_enc,  f = act(z),
 *   ŷ_p = f[:, :m_p] W_dec[:m_p] + b_dec + x W_skipᵀ    for every prefix width m_1 < … < m_P = d_sae
 *   L = Σ_p mean_n ‖Γ(ŷ_p − y)‖² + sparsity
 * Sparsity: relu  λ·mean_n Σ_i f_i Σ_g ‖d_i^g‖ (g over the G equal blocks of a decoder row: G = 1 is A1,
 *           G = L sources is the crosscoder's λ Σ_i f_i Σ_l ‖d_i^l‖);
 *           jumprelu λ·mean_n Σ_i H(z_i − θ_i) with the rectangle-kernel STE of A4;
 *           topk / batchtopk: none (unit-norm decoder rows: the gradient's component along the row is
 *           removed and rows renormalised after the step, as for SAEs).
 * No aux-k here (the engine's aux-k is the SAE one, checked on its own).
 *
 * Dense batch math (every (row, latent) pair is touched), written to be read, not run at scale: training
 * goes through the sparse-aware engine (src/train/step.ts, ModelConfig's dOut/normGroups/prefixes/skip),
 * and test/unit/train/gradients.test.ts checks this function and the engine against the same TensorFlow.js
 * autodiff loss on small shapes.
 */
import { matmul, matmulBT } from '../../src/compute/matmul';
import { trainFacts } from '../../src/sae/arch/registry';
import type { ArchName } from '../../src/sae/arch/registry';

export interface FamilyConfig {
  /** A trainable architecture; its training facts (src/sae/arch) pick the selection and the penalty. */
  arch: ArchName;
  dIn: number;
  dSae: number;
  dOut: number;
  /** TopK / BatchTopK: active latents per row (per row on average over the batch for BatchTopK). */
  k: number;
  /** Prefix widths m_1 < … < m_P = dSae (Matryoshka); [dSae] otherwise. */
  prefixes: number[];
  /** Number of equal blocks of a decoder row the relu penalty takes the norm of (crosscoder: sources). */
  normGroups: number;
  /** Subtract b_dec from the input (only when input and target are the same activations). */
  bDecInput: boolean;
  skip: boolean;
  unitNormDecoder: boolean;
  bandwidth: number;
  /** γ² per target dimension (WSAE), or undefined for the plain loss. */
  gamma2?: Float32Array;
}

export interface FamilyParams {
  /** [dIn, dSae] */ wEnc: Float32Array;
  /** [dSae] */ bEnc: Float32Array;
  /** [dSae, dOut] */ wDec: Float32Array;
  /** [dOut] */ bDec: Float32Array;
  /** [dSae] log θ (jumprelu) */ logTheta?: Float32Array;
  /** [dOut, dIn] */ wSkip?: Float32Array;
}

export type FamilyGrads = FamilyParams;

export interface FamilyStepResult {
  /** Total loss and its parts. */
  loss: number;
  recon: number;
  sparsity: number;
  /** Plain (unweighted) SSE of the full-width reconstruction, per row; and Σ‖y − ȳ‖² per row. */
  sse: number;
  sst: number;
  l0: number;
  /** Rows each latent fired on in this batch. */
  fires: Float64Array;
  /** BatchTopK: the smallest kept value (the threshold's EMA target). */
  minKept: number;
  codes: Float32Array;
}

/** Codes f [B, dSae] (and pre-activations z) for a batch; the selection is the architecture's. */
export function familyEncode(cfg: FamilyConfig, p: FamilyParams, x: Float32Array, n: number): { z: Float32Array; f: Float32Array; minKept: number } {
  const { dIn, dSae } = cfg;
  let xc = x;
  if (cfg.bDecInput) {
    xc = new Float32Array(x.length);
    for (let r = 0; r < n; r++) for (let q = 0; q < dIn; q++) xc[r * dIn + q] = x[r * dIn + q]! - p.bDec[q]!;
  }
  const z = matmul(xc, p.wEnc, n, dIn, dSae);
  for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) z[r * dSae + i]! += p.bEnc[i]!;
  const f = new Float32Array(n * dSae);
  let minKept = Infinity;
  const { selection } = trainFacts(cfg.arch);
  if (selection === 'positive') {
    for (let j = 0; j < z.length; j++) f[j] = z[j]! > 0 ? z[j]! : 0;
  } else if (selection === 'threshold') {
    for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) {
      const v = z[r * dSae + i]!;
      if (v > Math.exp(p.logTheta![i]!)) f[r * dSae + i] = v;
    }
  } else if (selection === 'row-topk') {
    const idx = Array.from({ length: dSae }, (_, i) => i);
    for (let r = 0; r < n; r++) {
      const row = z.subarray(r * dSae, (r + 1) * dSae);
      idx.sort((a, b) => row[b]! - row[a]!);
      for (let j = 0; j < cfg.k; j++) { const i = idx[j]!; if (row[i]! > 0) f[r * dSae + i] = row[i]!; }
    }
  } else if (selection === 'batch-topk') {
    // BatchTopK: the k·B largest ReLU(z) of the batch (ties with the cut all kept)
    const pos = Float32Array.from(z, (v) => (v > 0 ? v : 0));
    const sorted = pos.slice().sort().reverse();
    const cut = sorted[Math.min(cfg.k * n, sorted.length) - 1]!;
    for (let j = 0; j < pos.length; j++) if (pos[j]! > 0 && pos[j]! >= cut) { f[j] = pos[j]!; minKept = Math.min(minKept, pos[j]!); }
  } else throw new Error(`the family reference has no ${selection} selection`);
  return { z, f, minKept };
}

/** Per-latent penalty weight Σ_g ‖d_i^g‖ (relu), or 1 (unit-norm decoder). */
function groupNorms(cfg: FamilyConfig, wDec: Float32Array): Float64Array {
  const { dSae, dOut, normGroups: G } = cfg;
  const w = dOut / G;
  const out = new Float64Array(dSae * G);
  for (let i = 0; i < dSae; i++) for (let g = 0; g < G; g++) {
    let s = 0;
    for (let q = g * w; q < (g + 1) * w; q++) s += wDec[i * dOut + q]! ** 2;
    out[i * G + g] = Math.sqrt(s);
  }
  return out;
}

/**
 * Loss and gradients of one batch (x [n, dIn] input rows, y [n, dOut] targets). Gradients are written into
 * `grads` (same shapes as the parameters), already projected for the unit-norm decoder.
 */
export function familyLossAndGrads(cfg: FamilyConfig, p: FamilyParams, x: Float32Array, y: Float32Array, n: number, lambda: number, grads: FamilyGrads): FamilyStepResult {
  const { dIn, dSae, dOut, prefixes } = cfg;
  const G = cfg.normGroups, gw = dOut / G;
  const { z, f, minKept } = familyEncode(cfg, p, x, n);
  // base: b_dec + skip
  const base = new Float32Array(n * dOut);
  for (let r = 0; r < n; r++) base.set(p.bDec, r * dOut);
  if (cfg.skip) matmulBT(x, p.wSkip!, n, dIn, dOut, base.fill(0));
  if (cfg.skip) for (let r = 0; r < n; r++) for (let q = 0; q < dOut; q++) base[r * dOut + q]! += p.bDec[q]!;
  // prefix reconstructions, built segment by segment; gOut accumulates Σ_p ∂L/∂ŷ_p, gSeg[s] = Σ_{p ≥ s} ∂L/∂ŷ_p
  const nP = prefixes.length;
  const gSeg: Float32Array[] = [];
  let recon = 0, sse = 0;
  const yhat = base.slice();
  const scale = 2 / n;
  const perPrefixGrad: Float32Array[] = [];
  for (let s = 0; s < nP; s++) {
    const lo = s === 0 ? 0 : prefixes[s - 1]!, hi = prefixes[s]!;
    for (let r = 0; r < n; r++) for (let i = lo; i < hi; i++) {
      const c = f[r * dSae + i]!;
      if (c === 0) continue;
      const o = r * dOut, d = i * dOut;
      for (let q = 0; q < dOut; q++) yhat[o + q]! += c * p.wDec[d + q]!;
    }
    const g = new Float32Array(n * dOut);
    for (let j = 0; j < n * dOut; j++) {
      const e = yhat[j]! - y[j]!;
      const w = cfg.gamma2 ? cfg.gamma2[j % dOut]! : 1;
      recon += (w * e * e) / n;
      g[j] = scale * w * e;
      if (s === nP - 1) sse += e * e;
    }
    perPrefixGrad.push(g);
  }
  for (let s = nP - 1; s >= 0; s--) {
    const acc = perPrefixGrad[s]!.slice();
    if (s < nP - 1) for (let j = 0; j < acc.length; j++) acc[j]! += gSeg[0]![j]!;
    gSeg.unshift(acc);
  }
  const gAll = gSeg[0]!; // Σ_p ∂L/∂ŷ_p: what b_dec and W_skip see
  // sparsity
  const { penalty, selection } = trainFacts(cfg.arch);
  const norms = penalty === 'l1' && !cfg.unitNormDecoder ? groupNorms(cfg, p.wDec) : undefined;
  let sparsity = 0, l0 = 0;
  const fires = new Float64Array(dSae);
  for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) {
    const c = f[r * dSae + i]!;
    if (c !== 0) { l0++; fires[i]!++; }
    if (penalty === 'l1') {
      let w = 1;
      if (norms) { w = 0; for (let g = 0; g < G; g++) w += norms[i * G + g]!; }
      sparsity += (lambda * w * c) / n;
    } else if (penalty === 'l0-step' && c !== 0) sparsity += lambda / n;
  }
  // dF = Σ_{p: i < m_p} g_p d_iᵀ = gSeg[segment of i] · d_i, plus the relu penalty's λ/n·w_i
  grads.wDec.fill(0); grads.bEnc.fill(0); grads.wEnc.fill(0); grads.bDec.fill(0);
  const dZ = new Float32Array(n * dSae);
  const eps = cfg.bandwidth;
  if (grads.logTheta) grads.logTheta.fill(0);
  for (let s = 0; s < nP; s++) {
    const lo = s === 0 ? 0 : prefixes[s - 1]!, hi = prefixes[s]!;
    const g = gSeg[s]!;
    for (let i = lo; i < hi; i++) {
      const d = i * dOut;
      let wi = 1;
      if (norms) { wi = 0; for (let gg = 0; gg < G; gg++) wi += norms[i * G + gg]!; }
      const theta = selection === 'threshold' ? Math.exp(p.logTheta![i]!) : 0;
      let sumF = 0, gTheta = 0;
      for (let r = 0; r < n; r++) {
        const c = f[r * dSae + i]!;
        const zv = z[r * dSae + i]!;
        const o = r * dOut;
        let df = 0;
        for (let q = 0; q < dOut; q++) df += g[o + q]! * p.wDec[d + q]!;
        if (penalty === 'l1') df += (lambda * wi) / n;
        if (c !== 0) {
          sumF += c;
          for (let q = 0; q < dOut; q++) grads.wDec[d + q]! += c * g[o + q]!;
        }
        if (selection === 'threshold') {
          // STE: ∂f/∂θ = −(θ/ε)K, ∂H/∂θ = −K/ε, K = 1[|z − θ| < ε/2]; ∂f/∂z = H
          if (Math.abs(zv - theta) < eps / 2) gTheta += -(theta / eps) * df - lambda / (n * eps);
          dZ[r * dSae + i] = c !== 0 ? df : 0;
        } else dZ[r * dSae + i] = c !== 0 ? df : 0;
      }
      if (norms && sumF !== 0) {
        // ∂/∂d_i of λ/n Σ_n f_i Σ_g ‖d_i^g‖ = λ/n·Σ_n f_i · d_i^g/‖d_i^g‖
        for (let gg = 0; gg < G; gg++) {
          const nn = norms[i * G + gg]!;
          if (nn === 0) continue;
          for (let q = gg * gw; q < (gg + 1) * gw; q++) grads.wDec[d + q]! += ((lambda * sumF) / n) * (p.wDec[d + q]! / nn);
        }
      }
      if (grads.logTheta) grads.logTheta[i] = gTheta * theta;
    }
  }
  // encoder: ∂W_enc = x′ᵀ dZ, ∂b_enc = Σ_n dZ
  const xc = cfg.bDecInput ? Float32Array.from(x, (v, j) => v - p.bDec[j % dIn]!) : x;
  const xcT = new Float32Array(dIn * n);
  for (let r = 0; r < n; r++) for (let q = 0; q < dIn; q++) xcT[q * n + r] = xc[r * dIn + q]!;
  matmul(xcT, dZ, dIn, n, dSae, grads.wEnc);
  for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) grads.bEnc[i]! += dZ[r * dSae + i]!;
  // b_dec: output path Σ_n gAll, input path −Σ_n dZ W_encᵀ
  for (let r = 0; r < n; r++) for (let q = 0; q < dOut; q++) grads.bDec[q]! += gAll[r * dOut + q]!;
  if (cfg.bDecInput) {
    const back = matmulBT(dZ, p.wEnc, n, dSae, dIn);
    for (let r = 0; r < n; r++) for (let q = 0; q < dIn; q++) grads.bDec[q]! -= back[r * dIn + q]!;
  }
  if (cfg.skip) {
    // ∂W_skip [dOut, dIn] = gAllᵀ x
    const gT = new Float32Array(dOut * n);
    for (let r = 0; r < n; r++) for (let q = 0; q < dOut; q++) gT[q * n + r] = gAll[r * dOut + q]!;
    matmul(gT, x, dOut, n, dIn, grads.wSkip!);
  }
  if (cfg.unitNormDecoder) {
    for (let i = 0; i < dSae; i++) {
      const d = i * dOut;
      let par = 0;
      for (let q = 0; q < dOut; q++) par += grads.wDec[d + q]! * p.wDec[d + q]!;
      for (let q = 0; q < dOut; q++) grads.wDec[d + q]! -= par * p.wDec[d + q]!;
    }
  }
  let sst = 0;
  const mean = new Float64Array(dOut);
  for (let r = 0; r < n; r++) for (let q = 0; q < dOut; q++) mean[q]! += y[r * dOut + q]! / n;
  for (let r = 0; r < n; r++) for (let q = 0; q < dOut; q++) sst += (y[r * dOut + q]! - mean[q]!) ** 2;
  return { loss: recon + sparsity, recon, sparsity, sse: sse / n, sst: sst / n, l0: l0 / n, fires, minKept, codes: f };
}
