/**
 * Selection of the k-sparse codes: per row the best k of a thread's latents (TopK, and aux-k's dead
 * latents), merged across threads by the coordinator; BatchTopK's batch-wide cut from histograms of the
 * float bit patterns.
 */
import { HIST_BINS, S } from './layout';
import type { StepThread } from './stepThread';

/** Per row, the best k of this thread's latents (dead ones only, for aux-k), written as candidates. */
export function localTopK(t: StepThread, k: number, outVal: Float32Array, outIdx: Int32Array, deadOnly: boolean): void {
  const { cfg, l0, l1, heap, worker } = t;
  const { dSae, batch: B } = cfg;
  const z = t.v.f32.z!;
  for (let n = 0; n < B; n++) {
    heap.reset(k);
    const row = n * dSae;
    for (let i = l0; i < l1; i++) {
      if (deadOnly && !t.dead[i - l0]) continue;
      heap.push(z[row + i]!, i);
    }
    const base = (worker * B + n) * k;
    for (let j = 0; j < k; j++) {
      if (j < heap.size) { outVal[base + j] = heap.v[j]!; outIdx[base + j] = heap.i[j]!; }
      else { outVal[base + j] = -Infinity; outIdx[base + j] = 0x7fffffff; }
    }
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

/** BatchTopK: histogram of the bit patterns of positive pre-activations (level 1: top 16 bits; level 2: low 16 bits within the chosen top bin). */
export function histogram(t: StepThread, level: 1 | 2): void {
  const { cfg, l0, l1, worker } = t;
  const { dSae, batch: B } = cfg;
  const hist = t.v.i32.hist!.subarray(worker * HIST_BINS, (worker + 1) * HIST_BINS);
  hist.fill(0);
  const zOff = t.layout.regions.get('z')!.offset / 4;
  const bits = t.bits;
  const prefix = t.v.f64.scalars![S.histPrefix]!;
  for (let n = 0; n < B; n++) {
    const row = zOff + n * dSae;
    for (let i = l0; i < l1; i++) {
      const b = bits[row + i]!;
      // positive finite floats: sign bit clear, not zero; their bit patterns sort like their values
      if (b === 0 || b >= 0x7f800000) continue;
      if (level === 1) hist[b >>> 16]!++;
      else if (b >>> 16 === prefix) hist[b & 0xffff]!++;
    }
  }
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
