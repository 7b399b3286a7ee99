/**
 * Selection of the k-sparse codes: per row the best k of a thread's latents (TopK, and aux-k's dead
 * latents), merged across threads by the coordinator; BatchTopK's batch-wide cut from histograms of the
 * float bit patterns, over the candidates above a guess carried from the last step's cut.
 */
import { histogramBits, histogramValues, RowTopK } from '../compute/topk';
import type { GemmProvider } from '../compute/gemm';
import { HIST_BINS, S } from './layout';
import type { FlatList } from './lists';
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

/**
 * One thread's selection pass over rows of the arena, on its kernel (wasm SIMD when there is one): each
 * call adds the bias to a row segment in place and writes the values above (or at or above) a threshold,
 * with their indices, to this thread's candidate buffers in the arena (regions selVal/selIdx).
 */
export class RowFilter {
  readonly val: Float32Array;
  readonly idx: Int32Array;
  constructor(private readonly gemm: GemmProvider, private readonly mem: Float32Array, private readonly valOff: number, private readonly idxOff: number, capacity: number) {
    this.val = mem.subarray(valOff, valOff + capacity);
    this.idx = new Int32Array(mem.buffer, mem.byteOffset + idxOff * 4, capacity);
  }
  /** mem[z..+n) += mem[bias..+n) (bias < 0: none); returns how many values are > g (strict) or ≥ g, now in val/idx as (value, idx0 + i). */
  run(z: number, bias: number, n: number, g: number, strict: boolean, idx0: number): number {
    return this.gemm.biasFilter(this.mem, z, bias, n, g, strict, this.valOff, this.idxOff, idx0);
  }
}

/** Row-wise top-k whose candidates pass runs on the thread's RowFilter; its bias, when given, is b_enc at `biasOff`. */
export class ArenaRowTopK extends RowTopK {
  constructor(private readonly rf: RowFilter, k: number, private readonly zOff: number, private readonly biasOff: number) {
    super(rf.val.length, k, rf);
  }
  protected override filter(_z: Float32Array, off: number, lo: number, hi: number, bias: Float32Array | undefined, g: number): number {
    return this.rf.run(this.zOff + off + lo, bias ? this.biasOff + lo : -1, hi - lo, g, true, lo);
  }
}

/**
 * A pass over rows 0..rows of the arena (row n's segment at z + n·stride, `n` values; bias at `bias`, < 0:
 * none) that appends (idx0 + i, n, value) of the values > g (strict) or ≥ g to `out`, in row order. Past
 * `limit` entries it stops collecting and returns the rows it collected (the bias is still added to every
 * row); else `rows`.
 */
export function collectRows(rf: RowFilter, z: number, stride: number, rows: number, n: number, bias: number, g: number, strict: boolean, idx0: number, out: FlatList, limit = Infinity): number {
  out.size = 0;
  let r = 0;
  for (; r < rows && out.size <= limit; r++) {
    const c = rf.run(z + r * stride, bias, n, g, strict, idx0);
    for (let e = 0; e < c; e++) out.push(rf.idx[e]!, r, rf.val[e]!);
  }
  const collected = r;
  // past the limit: the bias still goes on (g = +∞ keeps nothing)
  for (; r < rows; r++) rf.run(z + r * stride, bias, n, Infinity, true, idx0);
  return collected;
}

/**
 * BatchTopK with a guess g > 0 below the batch's cut: adds b_enc to this thread's columns of every row of Z
 * and appends (latent, row, value) of the values ≥ g to `out`, in row order (the step's only full pass over Z).
 * Past `limit` candidates (a guess far too low) it stops collecting and returns false; the bias is still added.
 */
export function collectAbove(t: StepThread, g: number, out: FlatList, limit = Infinity): boolean {
  const { cfg, l0, l1, off } = t;
  const whole = collectRows(t.filter, off.z + l0, cfg.dSae, cfg.batch, l1 - l0, off.bEnc + l0, g, false, l0, out, limit) === cfg.batch && out.size <= limit;
  if (!whole) out.size = 0;
  return whole;
}

/**
 * BatchTopK's first pass (in encode): with a guess (S.bTopkGuess > 0), b_enc added and the candidates ≥ the
 * guess collected and histogrammed, their count in sums slot 7 (−∞ past the limit); without one, b_enc
 * added in the pass that histograms every value.
 */
export function batchFirstPass(t: StepThread): void {
  const { cfg, l0, l1, worker } = t;
  const sc = t.v.f64.scalars!, g = sc[S.bTopkGuess]!;
  if (!(g > 0)) { histogramBits(t.mem, t.bits, t.off.z, cfg.dSae, cfg.batch, l0, l1, histOf(t), 1, 0, t.v.f32.bEnc!); return; }
  // more than 8 times this thread's share of k·B: the guess is far too low, and the full path is cheaper
  const whole = collectAbove(t, g, t.batchCands, (8 * cfg.k * cfg.batch) / t.threads);
  histogramValues(t.batchCands.val, t.batchCands.size, histOf(t), 1, 0);
  t.v.f64.sums![worker * 16 + 7] = whole ? t.batchCands.size : -Infinity;
}

const histOf = (t: StepThread): Int32Array => t.v.i32.hist!.subarray(t.worker * HIST_BINS, (t.worker + 1) * HIST_BINS);

/**
 * BatchTopK: histogram of the bit patterns of positive pre-activations (level 1: top 16 bits, after a
 * guess that missed; level 2: low 16 bits within the chosen top bin), over this thread's
 * candidates when the coordinator found enough of them (S.bTopkFromCands), else over its columns of Z.
 */
export function histogram(t: StepThread, level: 1 | 2): void {
  const { cfg, l0, l1 } = t;
  const sc = t.v.f64.scalars!;
  if (sc[S.bTopkFromCands] === 1) { histogramValues(t.batchCands.val, t.batchCands.size, histOf(t), level, sc[S.histPrefix]!); return; }
  histogramBits(t.mem, t.bits, t.off.z, cfg.dSae, cfg.batch, l0, l1, histOf(t), level, sc[S.histPrefix]!);
}

/** Coordinator, BatchTopK, after the first pass: the candidates found over all threads (sums slot 7; −∞: too many). */
export function candidatesFound(t: StepThread): number {
  const sums = t.v.f64.sums!;
  let found = 0;
  for (let w = 0; w < t.threads; w++) found += sums[w * 16 + 7]!;
  return found;
}

/**
 * The next step's guess from this step's cut: the cut lowered by a relative margin that widens after a
 * miss (fewer than k·B candidates) and narrows while the candidates are more than 1.6 times what is needed
 * (ratio −∞: far too many, collection stopped).
 * Returns the new margin; a cut at the smallest float (fewer positive values than k·B) means no guess.
 */
export function nextGuess(sc: Float64Array, ratio: number, margin: number): number {
  if (ratio === -Infinity) margin = Math.max(margin * 0.25, 0.005);
  else if (ratio < 1) margin = Math.min(margin * 2, 0.9);
  else if (ratio > 1.6) margin = Math.max(margin * 0.7, 0.005);
  else if (ratio < 1.15) margin = Math.min(margin * 1.3, 0.9);
  const tau = sc[S.bTopkTau]!;
  sc[S.bTopkGuess] = Number.isFinite(tau) && tau > 1e-30 ? Math.fround(tau * (1 - margin)) : 0;
  return margin;
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
