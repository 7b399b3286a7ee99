/**
 * The backward phase: each own latent's gradients (sparse lists, the dense path, or the gate mechanism),
 * applied by Adam as soon as they are complete; the skip transcoder's W_skip.
 */
import { ADAM, jsAdam } from '../compute/gemm';
import { DENSE_BLOCK, S } from './layout';
import { now, Slot } from './profile';
import { decoderNorm, rangeOf, rowNorm } from './stepThread';
import type { StepThread } from './stepThread';

interface BackwardCtx {
  lambda: number; capture: boolean; weighted: boolean; bDecPart: Float32Array;
  /** lr/(1 − β1^t) and √(1 − β2^t), Adam's bias corrections as its kernel takes them; b_dec's input-path part's float offset */
  step: number; sbc2: number; bDecPartOff: number;
}

/** Adam on one scalar parameter p[i] (b_enc, log θ, the gate's b_mag and r_mag). */
function adamScalar(p: Float32Array, m: Float32Array, v: Float32Array, i: number, grad: number, c: BackwardCtx): void {
  scalarGrad[0] = grad;
  jsAdam(p, i, m, i, v, i, scalarGrad, 0, 1, c.step, c.sbc2);
}

const scalarGrad = new Float32Array(1);

/**
 * The end of one latent's backward pass, shared by the sparse and dense paths, on its gradient rows in the
 * arena (float offsets gradDec, d_out long, and gradEnc, d_in long): the L1 term of the decoder row, b_dec's
 * input-path part, the unit-norm projection, Adam (or capture), renormalisation, statistics — each a
 * kernel call over the row (./compute/gemm.ts). Returns how many rows the latent fired on.
 */
function finishLatent(t: StepThread, c: BackwardCtx, i: number, gradDec: number, gradEnc: number, gb: number, gTheta: number, sumF: number, gu = gb): number {
  const { cfg, v, gemm, mem, off } = t;
  const { dIn, dOut, batch: B } = cfg;
  const learnsThreshold = cfg.selection === 'threshold';
  const f = v.f32;
  const d = i * dOut, e = i * dIn, j = i - t.l0;
  const dOff = off.wDec + d, eOff = off.wEncT + e;
  if (c.weighted && sumF !== 0) {
    // ∂/∂d_i of λ/B Σ_n f_i Σ_g ‖d_i^g‖ = λ/B · Σ_n f_i · d_i^g/‖d_i^g‖, block by block
    const G = cfg.normGroups, w = dOut / G;
    for (let g = 0; g < G; g++) {
      const norm = rowNorm(t, dOff + g * w, w);
      gemm.axpy(mem, ((c.lambda / B) * sumF) / (norm || 1), dOff + g * w, gradDec + g * w, w);
    }
  }
  // b_dec enters through x − b_dec: its gradient gets −Σ_n dz_{n,i} w_enc,i (with the pre-update W_enc)
  // (gu: Σ_n ∂L/∂z_{n,i}, which is b_enc's gradient except for the gate, whose b_gate sees only the gate path)
  const prof = t.prof;
  let t0 = prof ? now() : 0;
  if (gu !== 0 && cfg.bDecInput) gemm.axpy(mem, -gu, eOff, c.bDecPartOff, dIn);
  if (prof) { const t1 = now(); prof[Slot.BDecPart]! += t1 - t0; t0 = t1; }
  // the unit-norm decoder: the gradient's component along the row is removed
  if (cfg.unitNormDecoder) gemm.axpy(mem, -gemm.dot(mem, gradDec, dOff, dOut), dOff, gradDec, dOut);
  if (prof) { const t1 = now(); prof[Slot.Norm]! += t1 - t0; t0 = t1; }
  if (c.capture) {
    f.gradWDec!.set(mem.subarray(gradDec, gradDec + dOut), d); f.gradWEncT!.set(mem.subarray(gradEnc, gradEnc + dIn), e); f.gradBEnc![i] = gb;
    if (learnsThreshold) f.gradLogTheta![i] = gTheta;
  } else {
    const sq = gemm.adam(mem, dOff, off.mWDec + d, off.vWDec + d, gradDec, dOut, c.step, c.sbc2);
    gemm.adam(mem, eOff, off.mWEncT + e, off.vWEncT + e, gradEnc, dIn, c.step, c.sbc2);
    adamScalar(f.bEnc!, f.m_bEnc!, f.v_bEnc!, i, gb, c);
    if (learnsThreshold) adamScalar(f.logTheta!, f.m_logTheta!, f.v_logTheta!, i, gTheta, c);
    if (prof) { const t1 = now(); prof[Slot.Adam]! += t1 - t0; t0 = t1; }
    // and renormalised after the update (Adam returned the row's squared norm)
    if (cfg.unitNormDecoder) gemm.scale(mem, 1 / Math.max(Math.sqrt(sq), 1e-12), dOff, dOut);
    if (prof) prof[Slot.Norm]! += now() - t0;
  }
  const fired = t.act.ptr[j + 1]! - t.act.ptr[j]!;
  const since = v.f64.tokensSinceFired!, fires = v.f64.windowFires!;
  since[i] = fired > 0 ? 0 : since[i]! + B;
  fires[i] = fires[i]! + fired;
  return fired;
}

/** Gradients of own latents, each applied by Adam as soon as it is complete. */
export function backward(t: StepThread): void {
  const { cfg, v, worker } = t;
  const { dOut } = cfg;
  const sc = v.f64.scalars!;
  const adamT = sc[S.adamT]!;
  const c: BackwardCtx = {
    lambda: sc[S.sparsityCoef]!,
    capture: !!cfg.captureGrads, weighted: cfg.penalty === 'l1' && !cfg.unitNormDecoder,
    bDecPart: v.f32.bDecPart!.subarray(worker * dOut, (worker + 1) * dOut),
    step: sc[S.lr]! / (1 - ADAM.beta1 ** adamT), sbc2: Math.sqrt(1 - ADAM.beta2 ** adamT), bDecPartOff: t.off.bDecPart,
  };
  c.bDecPart.fill(0);
  const penalty = cfg.selection === 'gate' ? backwardGate(t, c) : t.dense ? backwardDense(t, c) : backwardSparse(t, c);
  v.f64.sums![worker * 16 + 5] = cfg.penalty === 'l0-step' ? penalty : 0;
  if (cfg.skip) backwardSkip(t, c);
}

/**
 * Skip transcoder: ∂W_skip = G₀ᵀ·x (G₀ = Σ_p ∂L/∂ŷ_p, [B, d_out]), a dense GEMM over this thread's range of
 * output rows of W_skip [d_out, d_in], then Adam on those rows.
 */
function backwardSkip(t: StepThread, c: BackwardCtx): void {
  const { cfg, gemm, mem, off, worker, threads } = t;
  const { dIn, dOut, batch: B } = cfg;
  const [o0, o1] = rangeOf(dOut, threads, worker);
  if (o1 === o0) return;
  const f = t.v.f32;
  const grad = f.gradWSkip!;
  if (dIn % 4 === 0) gemm.ab(mem, o1 - o0, dIn, B, off.g + o0, 1, dOut, off.x, dIn, off.gradWSkip + o0 * dIn, dIn);
  else {
    grad.fill(0, o0 * dIn, o1 * dIn);
    const g = f.g!;
    for (let n = 0; n < B; n++) for (let o = o0; o < o1; o++) gemm.axpy(mem, g[n * dOut + o]!, off.x + n * dIn, off.gradWSkip + o * dIn, dIn);
  }
  if (!c.capture) jsAdam(f.wSkip!, o0 * dIn, f.m_wSkip!, o0 * dIn, f.v_wSkip!, o0 * dIn, grad, o0 * dIn, (o1 - o0) * dIn, c.step, c.sbc2);
}

/** Per latent, over its active rows only (three kernel calls per active pair). */
function backwardSparse(t: StepThread, c: BackwardCtx): number {
  const { cfg, l0, l1, act, aux, ker, theta, gradDec, gradEnc, gemm, mem, off } = t;
  const { dIn, dOut, batch: B, selection } = cfg;
  let fired = 0;
  for (let i = l0; i < l1; i++) {
    const j = i - l0, d = i * dOut;
    // Matryoshka: this latent's segment sees the sum of the gradients of every prefix that contains it
    const gOff = off.g + t.segOf[j]! * B * dOut;
    gradDec.fill(0); gradEnc.fill(0);
    let gb = 0, gTheta = 0;
    const norm = c.weighted ? decoderNorm(t, off.wDec + d, dOut, cfg.normGroups) : 1;
    const l1Grad = cfg.penalty === 'l1' ? (c.lambda / B) * norm : 0;
    let sumF = 0;
    // per pair: df = λ/B·‖d_i‖ + g_n·d_i, d_i's gradient += f·g_n, e_i's += df·x′_n (one kernel call)
    for (let p = act.ptr[j]!; p < act.ptr[j + 1]!; p++) {
      const fv = act.val[p]!, n = act.row[p]!;
      gb += gemm.pairGrad(mem, gOff + n * dOut, off.wDec + d, t.gradDecOff, fv, l1Grad, dOut, off.xc + n * dIn, t.gradEncOff, dIn);
      sumF += fv;
    }
    for (let p = aux.ptr[j]!; p < aux.ptr[j + 1]!; p++) {
      const n = aux.row[p]!;
      gb += gemm.pairGrad(mem, off.gAux + n * dOut, off.wDec + d, t.gradDecOff, aux.val[p]!, 0, dOut, off.xc + n * dIn, t.gradEncOff, dIn);
    }
    if (selection === 'threshold') {
      const th = theta[j]!, eps = cfg.bandwidth;
      for (let p = ker.ptr[j]!; p < ker.ptr[j + 1]!; p++) {
        const df = gemm.dot(mem, gOff + ker.row[p]! * dOut, off.wDec + d, dOut);
        gTheta += -(th / eps) * df - (c.lambda / B) / eps;
      }
      gTheta *= th; // d/dt with θ = exp(t)
    }
    fired += finishLatent(t, c, i, t.gradDecOff, t.gradEncOff, gb, gTheta, sumF);
  }
  return fired;
}

/**
 * The gate mechanism (Gated SAE, src/sae/arch/gated.ts), per latent over its lists: the code rows (f > 0:
 * ∂π_mag = g·d_i, into d_i, b_mag, r_mag and the encoder through e^{r}) and the gate rows (π_gate > 0:
 * ∂π_gate = λ/B·‖d_i‖ + g_aux·d_i, into b_gate and the encoder; the aux reconstruction's decoder is detached).
 */
function backwardGate(t: StepThread, c: BackwardCtx): number {
  const { cfg, l0, l1, act, aux, theta, gradDec, gradEnc, gemm, mem, off } = t;
  const { dIn, dOut, batch: B } = cfg;
  const f = t.v.f32;
  const bMag = f.bMag!;
  let fired = 0;
  for (let i = l0; i < l1; i++) {
    const j = i - l0, d = i * dOut, er = theta[j]!;
    gradDec.fill(0); gradEnc.fill(0);
    let gMag = 0, gR = 0, gGate = 0, gu = 0, sumA = 0;
    for (let p = act.ptr[j]!; p < act.ptr[j + 1]!; p++) {
      const fv = act.val[p]!, n = act.row[p]!;
      const dMag = gemm.dot(mem, off.g + n * dOut, off.wDec + d, dOut);
      gemm.axpy(mem, fv, off.g + n * dOut, t.gradDecOff, dOut);
      gemm.axpy(mem, dMag * er, off.xc + n * dIn, t.gradEncOff, dIn);
      gMag += dMag; gR += dMag * (fv - bMag[i]!); gu += dMag * er;
    }
    const l1Grad = (c.lambda / B) * (c.weighted ? decoderNorm(t, off.wDec + d, dOut, cfg.normGroups) : 1);
    for (let p = aux.ptr[j]!; p < aux.ptr[j + 1]!; p++) {
      const n = aux.row[p]!;
      const dGate = l1Grad + gemm.dot(mem, off.gAux + n * dOut, off.wDec + d, dOut);
      gemm.axpy(mem, dGate, off.xc + n * dIn, t.gradEncOff, dIn);
      gGate += dGate; gu += dGate; sumA += aux.val[p]!;
    }
    if (c.capture) { f.gradBMag![i] = gMag; f.gradRMag![i] = gR; }
    else { adamScalar(f.bMag!, f.m_bMag!, f.v_bMag!, i, gMag, c); adamScalar(f.rMag!, f.m_rMag!, f.v_rMag!, i, gR, c); }
    fired += finishLatent(t, c, i, t.gradDecOff, t.gradEncOff, gGate, 0, sumA, gu);
  }
  return fired;
}

/**
 * Dense decoder path (relu/jumprelu while many latents fire): Z holds F (from activate). Three GEMMs over
 * own latents — Fᵀ·g (W_dec's gradient), g·W_decᵀ (dF, written over F), dZᵀ·x′ in blocks (W_enc's
 * gradient) — instead of walking lists that would re-read the batch once per latent.
 */
function backwardDense(t: StepThread, c: BackwardCtx): number {
  const { cfg, l0, l1, ker, theta, gemm, mem, off, mask } = t;
  const { dIn, dOut, dSae, batch: B, selection } = cfg;
  const f = t.v.f32;
  const z = f.z!;
  const nLat = l1 - l0;
  const norms = new Float64Array(nLat);
  const sumF = t.sumF;
  for (let j = 0; j < nLat; j++) norms[j] = c.weighted ? decoderNorm(t, off.wDec + (l0 + j) * dOut, dOut, cfg.normGroups) : 1;
  for (const [s, a, b] of t.segs) {
    const gOff = off.g + s * B * dOut;
    gemm.ab(mem, b - a, dOut, B, off.z + a, 1, dSae, gOff, dOut, off.denseGrad + a * dOut, dOut);
    gemm.abt(mem, B, b - a, dOut, gOff, dOut, off.wDec + a * dOut, dOut, off.z + a, dSae);
  }
  const gTheta = new Float64Array(nLat);
  if (selection === 'threshold') {
    for (let j = 0; j < nLat; j++) {
      const th = theta[j]!, eps = cfg.bandwidth;
      let s = 0;
      for (let p = ker.ptr[j]!; p < ker.ptr[j + 1]!; p++) s += -(th / eps) * z[ker.row[p]! * dSae + l0 + j]! - (c.lambda / B) / eps;
      gTheta[j] = s * th;
    }
  }
  const gb = new Float64Array(nLat);
  for (let n = 0; n < B; n++) {
    const row = n * dSae + l0, mrow = n * nLat;
    for (let j = 0; j < nLat; j++) {
      if (mask[mrow + j]) {
        const dz = z[row + j]! + (cfg.penalty === 'l1' ? (c.lambda / B) * norms[j]! : 0);
        z[row + j] = dz;
        gb[j]! += dz;
      } else z[row + j] = 0;
    }
  }
  let fired = 0;
  for (let b0 = 0; b0 < nLat; b0 += DENSE_BLOCK) {
    const nb = Math.min(DENSE_BLOCK, nLat - b0);
    gemm.ab(mem, nb, dIn, B, off.z + l0 + b0, 1, dSae, off.xc, dIn, off.denseEnc, dIn);
    for (let j = b0; j < b0 + nb; j++) {
      const i = l0 + j;
      fired += finishLatent(t, c, i, off.denseGrad + i * dOut, off.denseEnc + (j - b0) * dIn, gb[j]!, gTheta[j]!, sumF[j]!);
    }
  }
  return fired;
}
