/**
 * The reference forward pass of every SAE architecture (SAELens v6 semantics, docs/formats.md §1).
 * This is the single definition of encode/decode: loaders' equivalence tests, eval and diagnostics call
 * it; the trainer's fast kernels are tested against it. Rows are Float32, row-major.
 */
import { fastMatmul as matmul } from '../compute/fastMatmul';
import { archSpec } from './arch/registry';
import type { Sae } from './types';

/** Per-row statistics of input normalisation, needed to undo it on the output. */
export interface NormState {
  mean?: Float32Array;
  scale: Float32Array;
  /**
   * Per-row factor that undoes the normalisation on the output, when it is not 1/scale: layer_norm
   * divides by (σ + 1e-5) on the way in but multiplies by σ on the way out (SAELens and OpenAI alike).
   */
  outScale?: Float32Array;
}

/** Applies the SAE's input normalisation in place; returns what decode needs to invert it. */
export function normalizeInput(sae: Sae, x: Float32Array, n: number): NormState {
  const d = sae.cfg.dIn;
  const scale = new Float32Array(n).fill(1);
  const mode = sae.cfg.normalizeActivations;
  if (mode === 'constant_norm_rescale') {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[r * d + j]! ** 2;
      const f = Math.sqrt(d) / Math.max(Math.sqrt(s), 1e-12);
      scale[r] = f;
      for (let j = 0; j < d; j++) x[r * d + j]! *= f;
    }
    return { scale };
  }
  if (mode === 'layer_norm') {
    const mean = new Float32Array(n);
    const outScale = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let mu = 0;
      for (let j = 0; j < d; j++) mu += x[r * d + j]!;
      mu /= d;
      let v = 0;
      for (let j = 0; j < d; j++) v += (x[r * d + j]! - mu) ** 2;
      const sigma = Math.sqrt(v / Math.max(d - 1, 1));
      mean[r] = mu;
      scale[r] = 1 / (sigma + 1e-5);
      outScale[r] = sigma;
      for (let j = 0; j < d; j++) x[r * d + j] = (x[r * d + j]! - mu) * scale[r]!;
    }
    return { mean, scale, outScale };
  }
  if (mode === 'expected_average_only_in') {
    const f = Number(sae.cfg.training?.activationScale ?? 1);
    for (let i = 0; i < n * d; i++) x[i]! *= f;
    scale.fill(f);
  }
  return { scale };
}

/** Row norms of W_dec, [dSae]. */
export function decoderNorms(sae: Sae): Float32Array {
  const { dSae, dOut } = sae.cfg;
  const out = new Float32Array(dSae);
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let j = 0; j < dOut; j++) s += sae.wDec[i * dOut + j]! ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/**
 * Pre-activations h = x'·W_enc + b_enc for already-normalised rows x' (b_dec subtraction included here).
 * `withBias` false leaves b_enc out, for a caller that adds it in its own pass over h (the sparse encoder's
 * fused TopK selection, src/diagnostics/encoderCodes.ts). `out` ([n, dSae], overwritten) lets a caller that
 * encodes block after block reuse one buffer instead of faulting in a fresh one per block.
 */
export function preActivations(sae: Sae, xNorm: Float32Array, n: number, withBias = true, out?: Float32Array): Float32Array {
  const { dIn, dSae } = sae.cfg;
  let input = xNorm;
  if (sae.cfg.applyBDecToInput && !sae.cfg.transcoder) {
    input = new Float32Array(xNorm.length);
    for (let r = 0; r < n; r++) for (let j = 0; j < dIn; j++) input[r * dIn + j] = xNorm[r * dIn + j]! - sae.bDec[j]!;
  }
  const h = matmul(input, sae.wEnc, n, dIn, dSae, out);
  if (!withBias || !archSpec(sae.cfg.activation).addsEncoderBias) return h; // the activation applies its own biases
  for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) h[r * dSae + i]! += sae.bEnc[i]!;
  return h;
}

/** Codes from pre-activations, in place: the architecture's own activation (src/sae/arch). */
export function applyActivation(sae: Sae, h: Float32Array, n: number, norms?: Float32Array): Float32Array {
  const spec = archSpec(sae.cfg.activation);
  const rank = spec.ranksByDecoderNorm && sae.cfg.rescaleActsByDecoderNorm ? (norms ?? decoderNorms(sae)) : undefined;
  spec.activate(sae, h, n, rank);
  return h;
}

/** Codes f [n, dSae] for raw input rows x [n, dIn] (x is not modified). */
export function encode(sae: Sae, x: Float32Array, n: number): { codes: Float32Array; norm: NormState } {
  const xNorm = x.slice(0, n * sae.cfg.dIn);
  const norm = normalizeInput(sae, xNorm, n);
  const h = preActivations(sae, xNorm, n);
  return { codes: applyActivation(sae, h, n), norm };
}

/**
 * Reconstruction [n, dOut] from codes. `xIn` (raw input rows) is needed by skip transcoders; `norm`
 * (from encode) undoes input normalisation on the output for SAEs.
 */
export function decode(sae: Sae, codes: Float32Array, n: number, norm?: NormState, xIn?: Float32Array): Float32Array {
  const { dSae, dOut, dIn } = sae.cfg;
  let f = codes;
  if (archSpec(sae.cfg.activation).ranksByDecoderNorm && sae.cfg.rescaleActsByDecoderNorm) {
    const norms = decoderNorms(sae);
    f = codes.slice();
    for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) f[r * dSae + i]! /= norms[i]! || 1;
  }
  const out = matmul(f, sae.wDec, n, dSae, dOut);
  for (let r = 0; r < n; r++) for (let j = 0; j < dOut; j++) out[r * dOut + j]! += sae.bDec[j]!;
  if (sae.wSkip) {
    if (!xIn) throw new Error('skip transcoder decode needs the input rows');
    for (let r = 0; r < n; r++) for (let o = 0; o < dOut; o++) {
      let s = 0;
      for (let j = 0; j < dIn; j++) s += xIn[r * dIn + j]! * sae.wSkip[o * dIn + j]!;
      out[r * dOut + o]! += s;
    }
  }
  if (norm && !sae.cfg.transcoder && sae.cfg.normalizeActivations !== 'none') {
    for (let r = 0; r < n; r++) {
      const mu = norm.mean ? norm.mean[r]! : 0;
      const back = norm.outScale ? norm.outScale[r]! : 1 / norm.scale[r]!;
      for (let j = 0; j < dOut; j++) out[r * dOut + j] = out[r * dOut + j]! * back + mu;
    }
  }
  return out;
}

/** Codes and reconstruction in one call. */
export function forward(sae: Sae, x: Float32Array, n: number): { codes: Float32Array; recon: Float32Array } {
  const { codes, norm } = encode(sae, x, n);
  return { codes, recon: decode(sae, codes, n, norm, x) };
}
