/**
 * The activate phase: which (row, latent) pairs are active under the run's selection mechanism, as
 * per-latent lists (sparse path) or a mask over Z (dense path), and this thread's partial reconstruction.
 */
import { S } from './layout';
import { collectRows } from './select';
import { decoderNorm } from './stepThread';
import type { StepThread } from './stepThread';

/**
 * ReLU (the positive selection), in encode: adds b_enc to this thread's columns of Z and, in the same pass,
 * collects the positive values as (latent, row, value) in row order into the active list — until there are
 * more than the dense decoder path's threshold, past which activate takes the dense path (t.positiveDense)
 * and the rest of the pass only adds the bias. Z is then read once before activate instead of three times.
 */
export function positiveFirstPass(t: StepThread): void {
  const { cfg, l0, l1 } = t;
  const { dSae, batch: B } = cfg;
  const limit = t.v.f32.denseGrad!.length > 0 ? cfg.denseThreshold * B * (l1 - l0) : Infinity;
  collectRows(t.filter, t.off.z + l0, dSae, B, l1 - l0, t.off.bEnc + l0, 0, true, 0, t.flatAct, limit);
  t.positiveDense = t.flatAct.size > limit;
}

/** Builds this thread's per-latent active lists and its partial reconstruction Σ f·d_i. */
export function activate(t: StepThread): void {
  const { cfg, v, l0, l1, act, aux, ker, theta, worker } = t;
  const { dSae, dOut, batch: B, selection } = cfg;
  const z = v.f32.z!;
  const nLat = l1 - l0;
  const sc = v.f64.scalars!;
  const useAuxK = cfg.auxK && sc[S.nDead]! > 0;
  // the aux reconstruction: aux-k's dead latents, or the gate mechanism's ReLU(π_gate) through the detached decoder
  const useAux = useAuxK || selection === 'gate';
  const tau = v.f32.tau!, tauIdx = v.i32.tauIdx!, candVal = v.f32.candVal!, candIdx = v.i32.candIdx!;
  const auxTau = v.f32.auxTau, auxTauIdx = v.i32.auxTauIdx;
  const bTau = sc[S.bTopkTau]!;
  const fromCands = sc[S.bTopkFromCands] === 1, C = t.batchCands;
  let c = 0;
  const halfBand = cfg.bandwidth / 2;
  if (selection === 'threshold') {
    const lt = v.f32.logTheta!;
    for (let i = l0; i < l1; i++) theta[i - l0] = Math.exp(lt[i]!);
  }
  // gate: theta holds the magnitude path's scale e^{r_mag}
  const bGate = v.f32.bEnc!, bMag = v.f32.bMag!;
  if (selection === 'gate') for (let i = l0; i < l1; i++) theta[i - l0] = Math.exp(v.f32.rMag![i]!);
  // ReLU's active list was collected in encode (positiveFirstPass), with whether it passed the dense threshold;
  // the threshold selection counts first. Past the threshold the lists are not built at all (dense decoder path)
  const collected = selection === 'positive';
  if (collected && v.f32.denseGrad!.length > 0) {
    t.dense = t.positiveDense;
    if (t.dense) { activateDense(t); return; }
  } else if (v.f32.denseGrad!.length > 0) {
    let count = 0;
    for (let n = 0; n < B; n++) {
      const row = n * dSae;
      for (let i = l0; i < l1; i++) if (z[row + i]! > theta[i - l0]!) count++;
    }
    t.dense = count > cfg.denseThreshold * B * nLat;
    if (t.dense) { activateDense(t); return; }
  } else t.dense = false;
  // one scan of Z, specialised per architecture, collects (latent, row, value) in row order ...
  const A = t.flatAct, X = t.flatAux, K = t.flatKer;
  if (!collected) A.size = 0;
  X.size = 0; K.size = 0;
  for (let n = 0; n < B; n++) {
    const row = n * dSae;
    if (selection === 'positive') {
      // collected in encode
    } else if (selection === 'threshold') {
      for (let i = l0; i < l1; i++) {
        const val = z[row + i]!, th = theta[i - l0]!;
        if (val > th) A.push(i - l0, n, val);
        if (Math.abs(val - th) < halfBand) K.push(i - l0, n, val);
      }
    } else if (selection === 'row-topk') {
      // the row's global top k among own latents are among this thread's k candidates
      const tn = tau[n]!, ti = tauIdx[n]!, base = (worker * B + n) * cfg.k;
      for (let j = 0; j < cfg.k; j++) {
        const i = candIdx[base + j]!, val = candVal[base + j]!;
        if (val > 0 && (val > tn || (val === tn && i <= ti))) A.push(i - l0, n, val);
      }
    } else if (selection === 'batch-topk') {
      const cut = Math.max(bTau, Number.MIN_VALUE);
      // the cut came from the candidates above the guess: they hold every value at or above it, in row order
      if (fromCands) for (; c < C.size && C.row[c] === n; c++) { const val = C.val[c]!; if (val >= cut) A.push(C.lat[c]! - l0, n, val); }
      else for (let i = l0; i < l1; i++) { const val = z[row + i]!; if (val >= cut) A.push(i - l0, n, val); }
    } else {
      // gate: f = 1[π_gate > 0]·ReLU(π_mag), π_gate = z + b_gate, π_mag = e^{r}·z + b_mag; the gate list holds ReLU(π_gate)
      for (let i = l0; i < l1; i++) {
        const u = z[row + i]!, gate = u + bGate[i]!;
        if (!(gate > 0)) continue;
        X.push(i - l0, n, gate);
        const mag = u * theta[i - l0]! + bMag[i]!;
        if (mag > 0) A.push(i - l0, n, mag);
      }
    }
    if (useAuxK) {
      const tn = auxTau![n]!, ti = auxTauIdx![n]!;
      for (let i = l0; i < l1; i++) {
        if (t.dead[i - l0] !== 1) continue;
        const val = z[row + i]!;
        if (val > tn || (val === tn && i <= ti)) X.push(i - l0, n, val);
      }
    }
  }
  // ... then a counting sort by latent (rows stay ascending within each latent, so sums run in a fixed order)
  act.sortFrom(A, nLat); aux.sortFrom(X, nLat); ker.sortFrom(K, nLat);
  let l1sum = 0;
  const weightedL1 = cfg.penalty === 'l1' && !cfg.unitNormDecoder;
  // the gate mechanism's L1 is on ReLU(π_gate) (the gate list), not on the codes
  const penalised = selection === 'gate' ? aux : act;
  for (let j = 0; j < nLat && weightedL1; j++) {
    const norm = decoderNorm(t, t.off.wDec + (l0 + j) * dOut, dOut, cfg.normGroups);
    for (let p = penalised.ptr[j]!; p < penalised.ptr[j + 1]!; p++) l1sum += penalised.val[p]! * norm;
  }
  if (!weightedL1) for (let p = 0; p < penalised.ptr[nLat]!; p++) l1sum += penalised.val[p]!;
  // partial reconstructions: Σ_i f_{n,i} d_i over own latents, one per Matryoshka segment
  const P = cfg.prefixes.length;
  v.f32.xhatPart!.fill(0, worker * P * B * dOut, (worker + 1) * P * B * dOut);
  for (let j = 0; j < nLat; j++) {
    const d = (l0 + j) * dOut, part = t.off.part + t.segOf[j]! * B * dOut;
    for (let p = act.ptr[j]!; p < act.ptr[j + 1]!; p++) t.gemm.axpy(t.mem, act.val[p]!, t.off.wDec + d, part + act.row[p]! * dOut, dOut);
  }
  if (useAux) {
    v.f32.xauxPart!.fill(0, worker * B * dOut, (worker + 1) * B * dOut);
    for (let j = 0; j < nLat; j++) {
      const d = (l0 + j) * dOut;
      for (let p = aux.ptr[j]!; p < aux.ptr[j + 1]!; p++) t.gemm.axpy(t.mem, aux.val[p]!, t.off.wDec + d, t.off.xaux + aux.row[p]! * dOut, dOut);
    }
  }
  const sums = v.f64.sums!;
  sums[worker * 16 + 3] = act.ptr[nLat]!;
  sums[worker * 16 + 4] = l1sum;
}

/**
 * Dense decoder path of activate: one pass over own columns of Z builds the active mask, zeroes inactive
 * entries (Z becomes F), counts firings and sums codes per latent, and collects JumpReLU's kernel rows;
 * then one GEMM F·W_dec gives this thread's partial reconstruction.
 */
function activateDense(t: StepThread): void {
  const { cfg, v, l0, l1, act, aux, ker, theta, worker } = t;
  const { dSae, dOut, batch: B, selection } = cfg;
  const z = v.f32.z!;
  const nLat = l1 - l0;
  const halfBand = cfg.bandwidth / 2;
  if (t.mask.length < B * nLat) t.mask = new Uint8Array(B * nLat);
  if (t.sumF.length < nLat) t.sumF = new Float64Array(nLat);
  const mask = t.mask, sumF = t.sumF;
  sumF.fill(0);
  act.ptr.fill(0); aux.ptr.fill(0);
  const K = t.flatKer;
  K.size = 0;
  for (let n = 0; n < B; n++) {
    const row = n * dSae + l0, mrow = n * nLat;
    for (let j = 0; j < nLat; j++) {
      const val = z[row + j]!;
      let on: boolean;
      if (selection === 'positive') on = val > 0;
      else {
        const th = theta[j]!;
        on = val > th;
        if (Math.abs(val - th) < halfBand) K.push(j, n, val);
      }
      if (on) { mask[mrow + j] = 1; act.ptr[j + 1]!++; sumF[j]! += val; }
      else { mask[mrow + j] = 0; z[row + j] = 0; }
    }
  }
  for (let j = 0; j < nLat; j++) act.ptr[j + 1]! += act.ptr[j]!;
  ker.sortFrom(K, nLat);
  let l1sum = 0;
  const weighted = cfg.penalty === 'l1' && !cfg.unitNormDecoder;
  for (let j = 0; j < nLat; j++) l1sum += sumF[j]! * (weighted ? decoderNorm(t, t.off.wDec + (l0 + j) * dOut, dOut, cfg.normGroups) : 1);
  for (const [s, a, b] of t.segs) t.gemm.ab(t.mem, B, dOut, b - a, t.off.z + a, dSae, 1, t.off.wDec + a * dOut, dOut, t.off.part + s * B * dOut, dOut);
  // segments without own latents still hold last step's sums
  for (let s = 0; s < cfg.prefixes.length; s++) if (!t.segs.some(([q]) => q === s)) v.f32.xhatPart!.fill(0, (worker * cfg.prefixes.length + s) * B * dOut, (worker * cfg.prefixes.length + s + 1) * B * dOut);
  const sums = v.f64.sums!;
  sums[worker * 16 + 3] = act.ptr[nLat]!;
  sums[worker * 16 + 4] = l1sum;
}
