/**
 * One training step of a sparse autoencoder, cut into phases that T threads run over disjoint ranges of
 * latents (or rows), with the coordinator (thread 0) doing the small merges between them. With T = 1 the
 * same phases run in order on one thread. The objectives are those of ../sae/objectives.ts.
 *
 * Sparse-aware: only the encoder's pre-activations Z = (x − b_dec)·W_encᵀ are a dense GEMM. The decoder
 * forward, the decoder gradient and the encoder gradient walk each latent's list of active rows, and Adam
 * is applied to a latent's rows as soon as its gradient is accumulated (nothing of the size of W is ever
 * stored as a gradient). Model-parallel by latents: each thread owns W_enc/W_dec rows, Adam state and
 * statistics of its latent range, so the only cross-thread traffic is per-row top-k candidates and one
 * partial reconstruction per thread.
 *
 * The phases by concern: selection of k-sparse codes in ./select.ts, activation (lists, dense mask, partial
 * reconstructions) in ./activate.ts, gradients and Adam in ./backward.ts, a thread's state in
 * ./stepThread.ts; encode and the residual are here.
 */
import { activate, positiveFirstPass } from './activate';
import { backward } from './backward';
import { S } from './layout';
import { now, Slot } from './profile';
import { batchFirstPass, histogram, localTopK } from './select';
import type { StepThread } from './stepThread';

export const enum Phase { Encode = 1, Hist2 = 2, Activate = 3, Residual = 4, Backward = 5, Hist1 = 6 }

/** Runs one phase on this thread's range. */
export function runPhase(t: StepThread, phase: Phase): void {
  t.prof = t.v.f64.scalars![S.profile] === 1 ? t.timing : undefined;
  const t0 = t.prof ? now() : 0;
  runOne(t, phase);
  if (t.prof) {
    const dt = now() - t0;
    t.prof[Slot.Busy]! += dt;
    if (phase === Phase.Hist1 || phase === Phase.Hist2) t.prof[Slot.Hist]! += dt;
    else if (phase === Phase.Activate) t.prof[Slot.Activate]! += dt;
    else if (phase === Phase.Residual) t.prof[Slot.Residual]! += dt;
    else if (phase === Phase.Encode) t.prof[Slot.Select]! += dt - t.prof[Slot.EncodeGemm]!;
    // backward's own slots hold its Adam, norm and b_dec parts; the rest is the gradients
    else t.prof[Slot.Grad]! += dt - t.prof[Slot.Adam]! - t.prof[Slot.Norm]! - t.prof[Slot.BDecPart]!;
  }
}

function runOne(t: StepThread, phase: Phase): void {
  if (phase === Phase.Encode) encode(t);
  else if (phase === Phase.Hist1) histogram(t, 1);
  else if (phase === Phase.Hist2) histogram(t, 2);
  else if (phase === Phase.Activate) activate(t);
  else if (phase === Phase.Residual) residual(t);
  else backward(t);
}

function encode(t: StepThread): void {
  const { cfg, v, l0, l1 } = t;
  const { dIn, dSae, batch: B } = cfg;
  const z = v.f32.z!, bEnc = v.f32.bEnc!;
  const reg = t.layout.regions;
  const t0 = t.prof ? now() : 0;
  t.gemm.abt(t.mem, B, l1 - l0, dIn, reg.get('xc')!.offset / 4, dIn, reg.get('wEncT')!.offset / 4 + l0 * dIn, dIn, reg.get('z')!.offset / 4 + l0, dSae);
  if (t.prof) t.prof[Slot.EncodeGemm]! += now() - t0;
  // + b_enc, in the same pass as TopK's selection, BatchTopK's candidates or first histogram (src/compute/topk.ts)
  // or ReLU's active list;
  // the gate mechanism keeps Z = x′W_enc without a bias: its gate and magnitude paths add their own
  if (cfg.selection === 'row-topk') localTopK(t, cfg.k, v.f32.candVal!, v.i32.candIdx!, false);
  else if (cfg.selection === 'batch-topk') batchFirstPass(t);
  else if (cfg.selection === 'positive') positiveFirstPass(t);
  else if (cfg.selection !== 'gate') for (let n = 0; n < B; n++) {
    const row = n * dSae;
    for (let i = l0; i < l1; i++) z[row + i]! += bEnc[i]!;
  }
  // skip transcoder: this thread's rows of x·W_skipᵀ (a dense term of ŷ, beside the codes' part)
  if (cfg.skip) t.gemm.abt(t.mem, t.r1 - t.r0, cfg.dOut, dIn, t.off.x + t.r0 * dIn, dIn, t.off.wSkip, dIn, t.off.skipOut + t.r0 * cfg.dOut, cfg.dOut);
  const sc = v.f64.scalars!;
  const deadTokens = sc[S.deadTokens]!;
  const since = v.f64.tokensSinceFired!;
  for (let i = l0; i < l1; i++) t.dead[i - l0] = cfg.auxK && since[i]! >= deadTokens ? 1 : 0;
  if (cfg.auxK && sc[S.nDead]! > 0) localTopK(t, cfg.kAux, v.f32.auxVal!, v.i32.auxIdx!, true);
}

/**
 * Rows of this thread: reconstruction, residual, the loss gradient with respect to x̂ (and the aux one).
 * Matryoshka: ŷ_p = base + Σ_{s ≤ p} (segment s's part) for every prefix p; the loss sums ‖Γ(ŷ_p − y)‖², and
 * segment s's latents see Σ_{p ≥ s} ∂L/∂ŷ_p, a suffix sum over prefixes. One prefix: the plain loss.
 */
function residual(t: StepThread): void {
  const { cfg, v, r0, r1, worker, threads: T } = t;
  const { dOut, batch: B } = cfg;
  const P = cfg.prefixes.length;
  const tgt = cfg.target ? v.f32.y! : v.f32.x!;
  const bDec = v.f32.bDec!, g = v.f32.g!, part = v.f32.xhatPart!, mean = v.f32.xMean!;
  const skipOut = cfg.skip ? v.f32.skipOut! : undefined;
  const sc = v.f64.scalars!;
  const gate = cfg.selection === 'gate';
  const useAux = (cfg.auxK && sc[S.nDead]! > 0) || gate;
  const auxFactor = (2 * cfg.auxCoef * sc[S.auxScale]!) / B;
  // WSAE: the loss is Σ γ_q² e_q², so every residual's gradient is scaled by γ² (the reported sse stays plain)
  const gamma2 = cfg.reconWeighted ? v.f32.gamma2! : undefined;
  const es = new Float64Array(P);
  const seg = B * dOut;
  let sse = 0, tot = 0, auxSse = 0, wsse = 0;
  for (let n = r0; n < r1; n++) {
    const o = n * dOut;
    for (let q = 0; q < dOut; q++) {
      const gw = gamma2 ? gamma2[q]! : 1;
      const y = tgt[o + q]!;
      let xh = bDec[q]! + (skipOut ? skipOut[o + q]! : 0);
      for (let s = 0; s < P; s++) {
        for (let w = 0; w < T; w++) xh += part[(w * P + s) * seg + o + q]!;
        const e = xh - y;
        es[s] = e;
        wsse += gw * e * e;
      }
      const e = es[P - 1]!;
      sse += e * e;
      tot += (y - mean[q]!) ** 2;
      let acc = 0;
      for (let s = P - 1; s >= 0; s--) { acc += (2 * gw * es[s]!) / B; g[s * seg + o + q] = acc; }
      if (useAux) {
        // aux-k's target is the residual y − ŷ (a constant): ea = D f_aux − (y − ŷ) = D f_aux + e;
        // the gate's is y itself through the detached decoder: ea = D ReLU(π_gate) + b_dec − y
        let xa = 0;
        for (let w = 0; w < T; w++) xa += v.f32.xauxPart![w * seg + o + q]!;
        const ea = gate ? xa + bDec[q]! - y : xa + e;
        auxSse += gw * ea * ea;
        v.f32.gAux![o + q] = auxFactor * gw * ea;
      }
    }
  }
  const sums = v.f64.sums!;
  sums[worker * 16 + 0] = sse;
  sums[worker * 16 + 1] = tot;
  sums[worker * 16 + 2] = auxSse;
  sums[worker * 16 + 6] = wsse;
}
