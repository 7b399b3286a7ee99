/** The growable lists and the bounded heap a step thread reuses from step to step (./stepThread.ts). */

/** Growable per-latent lists of (row, value), built per step by a thread for its own latents. */
export class LatentLists {
  ptr: Int32Array;
  row = new Int32Array(1024);
  val = new Float32Array(1024);
  constructor(latents: number) { this.ptr = new Int32Array(latents + 1); }
  reserve(total: number): void {
    if (total > this.row.length) {
      const cap = Math.max(total, Math.ceil(this.row.length * 1.5));
      this.row = new Int32Array(cap);
      this.val = new Float32Array(cap);
    }
  }
}

/** Growable (latent, row, value) triples in the order they were found. */
export class FlatList {
  lat = new Int32Array(4096); row = new Int32Array(4096); val = new Float32Array(4096); size = 0;
  push(j: number, n: number, v: number): void {
    if (this.size === this.lat.length) {
      const cap = this.lat.length * 2;
      const l = new Int32Array(cap), r = new Int32Array(cap), w = new Float32Array(cap);
      l.set(this.lat); r.set(this.row); w.set(this.val);
      this.lat = l; this.row = r; this.val = w;
    }
    this.lat[this.size] = j; this.row[this.size] = n; this.val[this.size] = v; this.size++;
  }
}

/** A bounded min-heap of (value, index) keeping the best k under (value desc, index asc). */
export class TopHeap {
  v: Float32Array; i: Int32Array; size = 0; k = 0;
  constructor(cap: number) { this.v = new Float32Array(cap); this.i = new Int32Array(cap); }
  reset(k: number): void { this.size = 0; this.k = k; }
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
