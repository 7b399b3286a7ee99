/**
 * Per-latent statistics for feature pages, accumulated in one streaming pass over every row of the data
 * in bounded memory (the pass itself is ./featurePass.ts):
 * - firing count, sum, min and max of the activation where the latent fires;
 * - the top-k activations with their rows (a min-heap per latent; ties keep the earlier row, exactly as a
 *   sort of all rows by activation then row would);
 * - a histogram on a fixed geometric grid (quarter octaves around the first activation seen, clamped at
 *   ±12 octaves), and a uniform reservoir sample of rows per grid bin.
 * Activation bands by quantile are unions of whole grid bins (edges rounded to the grid), so a band's
 * examples are a uniform sample of the band: each bin's reservoir is uniform within its bin, and bins are
 * drawn in proportion to their counts. Memory: dSae × (k + bins × perBin) × 8 bytes + dSae × bins × 4.
 */
import { seededRandom } from '../util/random';

/** Grid bins per octave, and octaves either side of the anchor. */
export const BINS_PER_OCTAVE = 4, OCTAVES = 12;
export const GRID_BINS = 2 * OCTAVES * BINS_PER_OCTAVE;

export interface FeatureStatsShape {
  dSae: number;
  /** Top activations kept per latent. */
  topK: number;
  /** Reservoir rows per grid bin. */
  perBin: number;
  seed: number;
}

export interface Band {
  /** Activation range [lo, hi] (grid edges, clipped to the latent's min and max). */
  lo: number;
  hi: number;
  /** Firings in the band. */
  count: number;
  rows: Int32Array;
  values: Float32Array;
}

export class FeatureStats {
  readonly dSae: number;
  readonly topK: number;
  readonly perBin: number;
  readonly seed: number;
  /** Rows seen so far (finite ones), and rows left out for NaN/Inf. */
  rowsSeen = 0;
  skippedNonFinite = 0;
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly min: Float32Array;
  readonly max: Float32Array;
  /** The first activation seen per latent: the grid's centre (0 = not fired yet). */
  readonly anchor: Float32Array;
  readonly binCount: Int32Array;
  readonly resRow: Int32Array;
  readonly resVal: Float32Array;
  readonly topRow: Int32Array;
  readonly topVal: Float32Array;
  readonly topSize: Int32Array;
  private readonly rand: () => number;

  constructor(shape: FeatureStatsShape) {
    const { dSae, topK, perBin, seed } = shape;
    this.dSae = dSae; this.topK = topK; this.perBin = perBin; this.seed = seed;
    this.count = new Float64Array(dSae); this.sum = new Float64Array(dSae);
    this.min = new Float32Array(dSae).fill(Infinity); this.max = new Float32Array(dSae);
    this.anchor = new Float32Array(dSae);
    this.binCount = new Int32Array(dSae * GRID_BINS);
    this.resRow = new Int32Array(dSae * GRID_BINS * perBin); this.resVal = new Float32Array(dSae * GRID_BINS * perBin);
    this.topRow = new Int32Array(dSae * topK); this.topVal = new Float32Array(dSae * topK); this.topSize = new Int32Array(dSae);
    this.rand = seededRandom(seed);
  }

  /** Grid bin of activation v > 0 for latent i (its anchor set). */
  binOf(i: number, v: number): number {
    const b = Math.floor(Math.log2(v / this.anchor[i]!) * BINS_PER_OCTAVE) + GRID_BINS / 2;
    return b < 0 ? 0 : b >= GRID_BINS ? GRID_BINS - 1 : b;
  }

  /** Lower edge of grid bin b for latent i (bin 0 reaches down to 0, the last bin up to ∞). */
  binEdge(i: number, b: number): number {
    if (b <= 0) return 0;
    if (b >= GRID_BINS) return Infinity;
    return this.anchor[i]! * 2 ** ((b - GRID_BINS / 2) / BINS_PER_OCTAVE);
  }

  /**
   * Adds a block of CSR codes: block row r is data row rowOf[r] (ascending, and past every row added
   * before). Entries with activation ≤ 0 are not firings.
   */
  add(rowPtr: Int32Array, idx: Int32Array, val: Float32Array, rowOf: Int32Array): void {
    const { topK, perBin } = this;
    for (let r = 0; r < rowOf.length; r++) {
      const row = rowOf[r]!;
      for (let t = rowPtr[r]!; t < rowPtr[r + 1]!; t++) {
        const i = idx[t]!, v = val[t]!;
        if (!(v > 0)) continue;
        this.count[i]! += 1; this.sum[i]! += v;
        if (v < this.min[i]!) this.min[i] = v;
        if (v > this.max[i]!) this.max[i] = v;
        if (this.anchor[i] === 0) this.anchor[i] = v;
        // histogram + reservoir (Algorithm R) of this grid bin
        const cell = i * GRID_BINS + this.binOf(i, v);
        const c = ++this.binCount[cell]!;
        const slot = c <= perBin ? c - 1 : Math.floor(this.rand() * c);
        if (slot < perBin) { this.resRow[cell * perBin + slot] = row; this.resVal[cell * perBin + slot] = v; }
        // top-k: a min-heap on value; rows arrive ascending, so an equal value never displaces
        const base = i * topK, size = this.topSize[i]!;
        if (size < topK) { this.topSize[i] = size + 1; this.siftUp(base, size, v, row); } else if (v > this.topVal[base]!) this.siftDown(base, topK, v, row);
      }
    }
  }

  /** Heap order: smaller value first; among equal values the later row first (it goes first). */
  private before(base: number, a: number, v: number, row: number): boolean {
    const av = this.topVal[base + a]!;
    return av < v || (av === v && this.topRow[base + a]! > row);
  }

  private siftUp(base: number, at: number, v: number, row: number): void {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.before(base, parent, v, row)) break;
      this.topVal[base + at] = this.topVal[base + parent]!; this.topRow[base + at] = this.topRow[base + parent]!;
      at = parent;
    }
    this.topVal[base + at] = v; this.topRow[base + at] = row;
  }

  private siftDown(base: number, size: number, v: number, row: number): void {
    let at = 0;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) break;
      const r = l + 1;
      let child = l;
      if (r < size && this.before(base, r, this.topVal[base + l]!, this.topRow[base + l]!)) child = r;
      // stop when the new entry goes before the smaller child
      if (!this.before(base, child, v, row)) break;
      this.topVal[base + at] = this.topVal[base + child]!; this.topRow[base + at] = this.topRow[base + child]!;
      at = child;
    }
    this.topVal[base + at] = v; this.topRow[base + at] = row;
  }

  /** Latent i's top activations, highest first (ties: earlier row first). */
  top(i: number): { rows: Int32Array; values: Float32Array } {
    const base = i * this.topK, n = this.topSize[i]!;
    const order = Array.from({ length: n }, (_, t) => base + t).sort((p, q) => this.topVal[q]! - this.topVal[p]! || this.topRow[p]! - this.topRow[q]!);
    return { rows: Int32Array.from(order, (t) => this.topRow[t]!), values: Float32Array.from(order, (t) => this.topVal[t]!) };
  }

  density(i: number): number { return this.rowsSeen ? this.count[i]! / this.rowsSeen : 0; }
  meanActivation(i: number): number { return this.count[i]! ? this.sum[i]! / this.count[i]! : 0; }

  /** The histogram of latent i on its grid, from its lowest to its highest occupied bin. */
  histogram(i: number): { edges: Float32Array; counts: Uint32Array } {
    const cells = this.binCount.subarray(i * GRID_BINS, (i + 1) * GRID_BINS);
    let lo = 0, hi = GRID_BINS - 1;
    while (lo < GRID_BINS && cells[lo] === 0) lo++;
    while (hi >= lo && cells[hi] === 0) hi--;
    if (lo > hi) return { edges: new Float32Array(0), counts: new Uint32Array(0) };
    const counts = Uint32Array.from(cells.subarray(lo, hi + 1));
    const edges = Float32Array.from({ length: counts.length + 1 }, (_, t) => this.binEdge(i, lo + t));
    edges[0] = Math.max(edges[0]!, this.min[i]!);
    edges[counts.length] = Math.min(edges[counts.length]!, this.max[i]!);
    return { edges, counts };
  }

  /**
   * Activation bands of latent i by quantile of its firings (highest band first), each a union of whole
   * grid bins, with up to `examples` rows sampled uniformly from the band (highest activation first).
   */
  bands(i: number, bands = 5, examples = 5): Band[] {
    const total = this.count[i]!;
    if (!total) return [];
    const want = Math.min(bands, total >= bands * 3 ? bands : 1);
    const groups: number[][] = Array.from({ length: want }, () => []);
    let before = 0;
    for (let b = 0; b < GRID_BINS; b++) {
      const c = this.binCount[i * GRID_BINS + b]!;
      if (!c) continue;
      groups[Math.min(want - 1, Math.floor((want * (before + c / 2)) / total))]!.push(b);
      before += c;
    }
    // a deterministic draw per latent and band, whatever pages were asked for before
    const rand = seededRandom((this.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const out: Band[] = [];
    for (const bins of groups.reverse()) {
      if (!bins.length) continue;
      let count = 0;
      // Efraimidis–Spirakis: key u^(1/w) with w = the bin's count over its reservoir size
      const picks: { key: number; row: number; v: number }[] = [];
      for (const b of bins) {
        const cell = i * GRID_BINS + b, c = this.binCount[cell]!, held = Math.min(c, this.perBin);
        count += c;
        for (let s = 0; s < held; s++) picks.push({ key: Math.log(rand() || Number.MIN_VALUE) / (c / held), row: this.resRow[cell * this.perBin + s]!, v: this.resVal[cell * this.perBin + s]! });
      }
      picks.sort((p, q) => q.key - p.key);
      const chosen = picks.slice(0, examples).sort((p, q) => q.v - p.v || p.row - q.row);
      out.push({
        lo: Math.max(this.binEdge(i, bins[0]!), this.min[i]!), hi: Math.min(this.binEdge(i, bins[bins.length - 1]! + 1), this.max[i]!), count,
        rows: Int32Array.from(chosen, (p) => p.row), values: Float32Array.from(chosen, (p) => p.v),
      });
    }
    return out;
  }
}
