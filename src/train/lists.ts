/** The growable lists a step thread reuses from step to step (./stepThread.ts); its heap and top-k selectors are in ../compute/topk.ts. */

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
  /**
   * Fills the lists from triples found in any order: a counting sort by latent, so rows stay in the order
   * they were found within each latent (and sums over them run in a fixed order).
   */
  sortFrom(f: FlatList, latents: number): void {
    const ptr = this.ptr;
    ptr.fill(0);
    for (let e = 0; e < f.size; e++) ptr[f.lat[e]! + 1]!++;
    for (let j = 0; j < latents; j++) ptr[j + 1]! += ptr[j]!;
    this.reserve(ptr[latents]!);
    const fill = ptr.slice(0, latents);
    for (let e = 0; e < f.size; e++) { const p = fill[f.lat[e]!]!++; this.row[p] = f.row[e]!; this.val[p] = f.val[e]!; }
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
