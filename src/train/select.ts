/**
 * Selection of the k-sparse codes: per row the best k of a thread's latents (TopK, and aux-k's dead
 * latents), merged across threads by the coordinator; BatchTopK's batch-wide cut from histograms of the
 * float bit patterns.
 */
import { histogramBits } from '../compute/topk';
import { HIST_BINS, S } from './layout';
import type { StepThread } from './stepThread';

/** Per row, the best k of this thread's latents (dead ones only, for aux-k; else with b_enc added first), written as candidates. */
export function localTopK(t: StepThread, k: number, outVal: Float32Array, outIdx: Int32Array, deadOnly: boolean): void {
  const { cfg, l0, l1, worker } = t;
  const { dSae, batch: B } = cfg;
  const z = t.v.f32.z!, bEnc = t.v.f32.bEnc!;
  let nDead = 0;
  if (deadOnly) for (let i = l0; i < l1; i++) if (t.dead[i - l0]) t.deadList[nDead++] = i;
  for (let n = 0; n < B; n++) {
    const base = (worker * B + n) * k;
    if (deadOnly) t.auxSel.selectAmong(z, n * dSae, t.deadList, nDead, k, outVal, outIdx, base);
    else t.sel.select(z, n * dSae, l0, l1, bEnc, k, outVal, outIdx, base);
  }
}

/** Coordinator: the k-th best candidate of each row over all threads becomes that row's cut (tau, tauIdx). */
export function mergeTopK(t: StepThread, k: number, kNow: number, candVal: Float32Array, candIdx: Int32Array, tau: Float32Array, tauIdx: Int32Array): void {
  const { heap, threads: T } = t;
  const B = t.cfg.batch;
  for (let n = 0; n < B; n++) {
    heap.reset(kNow);
    for (let w = 0; w < T; w++) {
      const base = (w * B + n) * k;
      for (let j = 0; j < k; j++) { const val = candVal[base + j]!; if (val !== -Infinity) heap.push(val, candIdx[base + j]!); }
    }
    if (heap.size < kNow) { tau[n] = -Infinity; tauIdx[n] = 0x7fffffff; } else { tau[n] = heap.v[0]!; tauIdx[n] = heap.i[0]!; }
  }
}

/** BatchTopK: histogram of the bit patterns of positive pre-activations (level 1, with b_enc added in the same pass: top 16 bits; level 2: low 16 bits within the chosen top bin). */
export function histogram(t: StepThread, level: 1 | 2): void {
  const { cfg, l0, l1, worker } = t;
  const hist = t.v.i32.hist!.subarray(worker * HIST_BINS, (worker + 1) * HIST_BINS);
  histogramBits(t.mem, t.bits, t.off.z, cfg.dSae, cfg.batch, l0, l1, hist, level, t.v.f64.scalars![S.histPrefix]!, level === 1 ? t.v.f32.bEnc! : undefined);
}

/**
 * Coordinator, BatchTopK: picks the bin holding the (k·B)-th largest value. Returns true when level 2 is
 * needed; sets S.bTopkTau when the cut is final.
 */
export function pickHistogram(t: StepThread, level: 1 | 2): boolean {
  const sc = t.v.f64.scalars!;
  const hist = t.v.i32.hist!;
  const T = t.threads;
  let need = level === 1 ? t.cfg.k * t.cfg.batch : sc[S.histLevel]!;
  for (let b = HIST_BINS - 1; b >= 0; b--) {
    let c = 0;
    for (let w = 0; w < T; w++) c += hist[w * HIST_BINS + b]!;
    if (c >= need) {
      if (level === 1) { sc[S.histPrefix] = b; sc[S.histLevel] = need; return true; }
      const f = new Float32Array(new Uint32Array([(sc[S.histPrefix]! << 16) | b]).buffer)[0]!;
      sc[S.bTopkTau] = f;
      return false;
    }
    need -= c;
  }
  // fewer positive values than k·B: keep them all
  sc[S.bTopkTau] = level === 1 ? Number.MIN_VALUE : new Float32Array(new Uint32Array([sc[S.histPrefix]! << 16]).buffer)[0]!;
  return false;
}
