/**
 * Top-k selection over rows of pre-activations, shared by training (src/train/step.ts: TopK codes and the
 * aux-k of dead latents, BatchTopK's batch-wide cut) and inference (src/sae/forward.ts).
 *
 * The order is (value descending, index ascending), so ties go to the lower latent and the selected set is
 * the same whatever the order values are visited in.
 *
 * Per row, without sorting or heaping the whole row: a threshold g carried from row to row keeps, in one
 * pass (the same pass that adds the encoder bias, when there is one), only the values above g as
 * candidates; the exact k best are then picked among those few. g trails the rows' k-th values (a running
 * mean less four running deviations), so a typical row leaves 2–3·k candidates. A row with fewer than k
 * values above g — the guess was too high — is selected again over all its values: the result is always
 * exact, only the time depends on the guess.
 *
 * BatchTopK's cut over the whole batch is a radix select on the float bits: a histogram of the top 16 bits
 * of positive values, then of the low 16 bits within the chosen bin (positive floats' bit patterns sort as
 * their values do). With a guess g below the cut (the last step's cut, lowered by a margin), the bias-add
 * pass keeps only the values ≥ g as candidates and both histograms run over those few (histogramValues);
 * without one, or when fewer than k·B values reach g, the histograms run over every value (histogramBits).
 */

/** A bounded min-heap of (value, index) keeping the best k under (value desc, index asc). */
export class TopHeap {
  v: Float32Array; i: Int32Array; size = 0; k = 0;
  constructor(cap: number) { this.v = new Float32Array(cap); this.i = new Int32Array(cap); }
  reset(k: number): void {
    if (k > this.v.length) { this.v = new Float32Array(k); this.i = new Int32Array(k); }
    this.size = 0; this.k = k;
  }
  /** a is worse than b */
  private worse(av: number, ai: number, bv: number, bi: number): boolean { return av < bv || (av === bv && ai > bi); }
  push(val: number, idx: number): void {
    const { v, i } = this;
    if (this.size < this.k) {
      let c = this.size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!this.worse(val, idx, v[p]!, i[p]!)) break;
        v[c] = v[p]!; i[c] = i[p]!; c = p;
      }
      v[c] = val; i[c] = idx;
      return;
    }
    if (this.k === 0 || !this.worse(v[0]!, i[0]!, val, idx)) return;
    let c = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= n) break;
      const r = l + 1;
      const w = r < n && this.worse(v[r]!, i[r]!, v[l]!, i[l]!) ? r : l;
      if (!this.worse(v[w]!, i[w]!, val, idx)) break;
      v[c] = v[w]!; i[c] = i[w]!; c = w;
    }
    v[c] = val; i[c] = idx;
  }
}

/** Index written for an empty slot (fewer than k values): after every real index in the order. */
export const NO_INDEX = 0x7fffffff;

/**
 * Row-wise top-k of one thread, with the threshold guess it carries from row to row (and from step to
 * step: a guess that is off costs time, never exactness).
 */
export class RowTopK {
  protected cv: Float32Array;
  protected ci: Int32Array;
  readonly heap: TopHeap;
  /** running mean and mean absolute deviation of the rows' k-th values; NaN before the first row */
  private mean = NaN;
  private dev = 0;
  /** rows that needed the second pass (the guess was above their k-th value); for benches and tests */
  misses = 0;
  rows = 0;

  /** `buffers`: where the candidates go (at least `capacity` long), e.g. arena memory a kernel can write. */
  constructor(capacity: number, k = 1, buffers?: { val: Float32Array; idx: Int32Array }) {
    this.cv = buffers?.val ?? new Float32Array(Math.max(capacity, 1));
    this.ci = buffers?.idx ?? new Int32Array(Math.max(capacity, 1));
    this.heap = new TopHeap(Math.max(k, 1));
  }

  /** How many running deviations the guess sits below the running mean: small keeps few candidates, and a
   * row it misses is filtered again one step lower (a pass without the bias add), so misses are cheap. */
  private static readonly spread = 1.5;

  private guess(steps = 0): number {
    if (Number.isNaN(this.mean) || steps >= 4) return -Infinity;
    return this.mean - RowTopK.spread * (1 + 2 * steps) * this.dev - 1e-3 * Math.abs(this.mean) - 1e-30;
  }

  private learn(kth: number): void {
    if (!Number.isFinite(kth)) return;
    if (Number.isNaN(this.mean)) { this.mean = kth; this.dev = 0.05 * Math.abs(kth); return; }
    const d = Math.abs(kth - this.mean);
    this.mean += (kth - this.mean) / 16;
    this.dev += (d - this.dev) / 16;
  }

  private room(n: number): void {
    if (n > this.cv.length) { this.cv = new Float32Array(n); this.ci = new Int32Array(n); }
  }

  /**
   * The candidates pass: adds bias[lo..hi) to z[off + lo .. off + hi) (no bias: leaves z alone) and keeps the
   * values above g, with their indices, in cv/ci. Returns how many. The training step's threads run it on
   * their kernel instead (src/train/select.ts).
   */
  protected filter(z: Float32Array, off: number, lo: number, hi: number, bias: Float32Array | undefined, g: number): number {
    const cv = this.cv, ci = this.ci;
    let c = 0;
    if (bias) {
      for (let i = lo; i < hi; i++) {
        const val = z[off + i]! + bias[i]!;
        z[off + i] = val;
        if (val > g) { cv[c] = val; ci[c] = i; c++; }
      }
    } else {
      for (let i = lo; i < hi; i++) { const val = z[off + i]!; if (val > g) { cv[c] = val; ci[c] = i; c++; } }
    }
    return c;
  }

  /**
   * Adds bias[lo..hi) to z[off + lo .. off + hi) (no bias: leaves z alone), then writes the k best of those
   * entries (index i, not i − lo) to outVal/outIdx[outBase ..+k), padded with −Infinity / NO_INDEX.
   * Returns the k-th value (−Infinity when the range holds fewer than k).
   */
  select(z: Float32Array, off: number, lo: number, hi: number, bias: Float32Array | undefined, k: number,
    outVal: Float32Array, outIdx: Int32Array, outBase: number): number {
    this.room(hi - lo);
    const g = hi - lo <= k ? -Infinity : this.guess();
    let c = this.filter(z, off, lo, hi, bias, g);
    this.rows++;
    // the guess was above this row's k-th value: filter again, lower each time (the last time, everything)
    for (let steps = 1; c < k && g !== -Infinity; steps++) {
      this.misses++;
      const g2 = this.guess(steps);
      c = this.filter(z, off, lo, hi, undefined, g2);
      if (g2 === -Infinity) break;
    }
    return this.pick(c, k, outVal, outIdx, outBase);
  }

  /** As select without a bias, over the entries z[off + list[j]] for j < len (e.g. the dead latents). */
  selectAmong(z: Float32Array, off: number, list: Int32Array, len: number, k: number, outVal: Float32Array, outIdx: Int32Array, outBase: number): number {
    this.room(len);
    const cv = this.cv, ci = this.ci;
    const g = len <= k ? -Infinity : this.guess();
    let c = 0;
    for (let j = 0; j < len; j++) { const i = list[j]!, val = z[off + i]!; if (val > g) { cv[c] = val; ci[c] = i; c++; } }
    this.rows++;
    for (let steps = 1; c < k && g !== -Infinity; steps++) {
      this.misses++;
      const g2 = this.guess(steps);
      c = 0;
      for (let j = 0; j < len; j++) { const i = list[j]!, val = z[off + i]!; if (val > g2) { cv[c] = val; ci[c] = i; c++; } }
      if (g2 === -Infinity) break;
    }
    return this.pick(c, k, outVal, outIdx, outBase);
  }

  private pick(c: number, k: number, outVal: Float32Array, outIdx: Int32Array, outBase: number): number {
    const heap = this.heap, cv = this.cv, ci = this.ci;
    heap.reset(k);
    for (let j = 0; j < c; j++) heap.push(cv[j]!, ci[j]!);
    for (let j = 0; j < k; j++) {
      if (j < heap.size) { outVal[outBase + j] = heap.v[j]!; outIdx[outBase + j] = heap.i[j]!; }
      else { outVal[outBase + j] = -Infinity; outIdx[outBase + j] = NO_INDEX; }
    }
    const kth = heap.size === k && k > 0 ? heap.v[0]! : -Infinity;
    this.learn(kth);
    return kth;
  }
}

/**
 * Inference: keeps the k largest entries of a row (ties to the lower index) that are also positive, and
 * zeroes the rest, in place.
 */
export function keepTopK(row: Float32Array, k: number, sel: RowTopK, scratchVal: Float32Array, scratchIdx: Int32Array): void {
  const n = row.length;
  if (k <= 0) { row.fill(0); return; }
  if (k >= n) { for (let i = 0; i < n; i++) if (!(row[i]! > 0)) row[i] = 0; return; }
  const kth = sel.select(row, 0, 0, n, undefined, k, scratchVal, scratchIdx, 0);
  // everything strictly above the k-th value is kept, and of the values equal to it, those chosen
  let lastIdx = -1;
  for (let j = 0; j < k; j++) if (scratchVal[j] === kth && scratchIdx[j]! > lastIdx) lastIdx = scratchIdx[j]!;
  for (let i = 0; i < n; i++) {
    const val = row[i]!;
    if (!(val > 0) || !(val > kth || (val === kth && i <= lastIdx))) row[i] = 0;
  }
}

/**
 * BatchTopK's radix histogram over rows z[off + n·stride + lo .. + hi) for n < rows, read as float bits:
 * level 1 counts positive finite values by their top 16 bits; level 2 counts, within the level-1 bin
 * `prefix`, by the low 16 bits. With `bias` (level 1 only) the bias is added to z in the same pass.
 */
export function histogramBits(z: Float32Array, bits: Uint32Array, off: number, stride: number, rows: number, lo: number, hi: number,
  hist: Int32Array, level: 1 | 2, prefix: number, bias?: Float32Array): void {
  hist.fill(0);
  for (let n = 0; n < rows; n++) {
    const row = off + n * stride;
    if (bias && level === 1) {
      for (let i = lo; i < hi; i++) {
        z[row + i]! += bias[i]!;
        const b = bits[row + i]!;
        // positive finite floats: sign bit clear, not zero; their bit patterns sort like their values
        if (b !== 0 && b < 0x7f800000) hist[b >>> 16]!++;
      }
    } else {
      for (let i = lo; i < hi; i++) {
        const b = bits[row + i]!;
        if (b === 0 || b >= 0x7f800000) continue;
        if (level === 1) hist[b >>> 16]!++;
        else if (b >>> 16 === prefix) hist[b & 0xffff]!++;
      }
    }
  }
}

/**
 * BatchTopK's radix histogram (as histogramBits) over a list of candidate values vals[0..size): level 1 by
 * the top 16 bits of the positive finite ones, level 2 by the low 16 bits within the level-1 bin `prefix`.
 */
export function histogramValues(vals: Float32Array, size: number, hist: Int32Array, level: 1 | 2, prefix: number): void {
  hist.fill(0);
  const bits = new Uint32Array(vals.buffer, vals.byteOffset, size);
  for (let j = 0; j < size; j++) {
    const b = bits[j]!;
    if (b === 0 || b >= 0x7f800000) continue;
    if (level === 1) hist[b >>> 16]!++;
    else if (b >>> 16 === prefix) hist[b & 0xffff]!++;
  }
}
