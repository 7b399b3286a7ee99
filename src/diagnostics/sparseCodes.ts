/**
 * Effective codes ã in compressed sparse row form, and the co-firing statistics built on them. The dense
 * [n, d_sae] code matrix of a 16k-latent SAE on 100k rows is 6.4 GB; its active entries are L0 per row.
 * Absorption (C3) and split trees (C4) need only which latents fire together and how strongly, so they
 * work here, and the CLI encodes straight to this form chunk by chunk.
 */
import { decoderNorms, decode, encode } from '../sae/forward';
import type { Sae } from '../sae/types';

export interface SparseCodes {
  n: number;
  /** Number of latents. */
  m: number;
  /** Row r's entries are idx/val[rowPtr[r] .. rowPtr[r+1]). */
  rowPtr: Int32Array;
  idx: Int32Array;
  /** Effective codes ã > 0. */
  val: Float32Array;
}

/** Column view: the rows where each latent fires, ascending. */
export interface LatentRows {
  colPtr: Int32Array;
  rows: Int32Array;
  vals: Float32Array;
}

class Growable {
  idx = new Int32Array(1024);
  val = new Float32Array(1024);
  size = 0;
  push(i: number, v: number): void {
    if (this.size === this.idx.length) {
      const idx = new Int32Array(this.size * 2); idx.set(this.idx); this.idx = idx;
      const val = new Float32Array(this.size * 2); val.set(this.val); this.val = val;
    }
    this.idx[this.size] = i;
    this.val[this.size++] = v;
  }
}

/** CSR of the positive entries of a dense [n, m] code matrix. */
export function sparseFromDense(eff: Float32Array, n: number, m: number): SparseCodes {
  const rowPtr = new Int32Array(n + 1);
  const g = new Growable();
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < m; i++) { const v = eff[r * m + i]!; if (v > 0) g.push(i, v); }
    rowPtr[r + 1] = g.size;
  }
  return { n, m, rowPtr, idx: g.idx.slice(0, g.size), val: g.val.slice(0, g.size) };
}

export interface EncodedSample {
  codes: SparseCodes;
  /** ‖r_n‖ per row. */
  residualNorms: Float32Array;
  /** Σ_n ‖r_n‖² / n. */
  meanSquaredResidual: number;
}

/**
 * Encodes rows chunk by chunk with the reference forward pass and keeps only the active effective codes
 * and the residual norms. Memory: chunkRows × d_sae floats at a time plus the sparse result.
 */
export function encodeSparse(sae: Sae, x: Float32Array, n: number, chunkRows = 2048): EncodedSample {
  const { dIn, dSae, dOut } = sae.cfg;
  const norms = decoderNorms(sae);
  const rowPtr = new Int32Array(n + 1);
  const g = new Growable();
  const residualNorms = new Float32Array(n);
  let sq = 0;
  for (let start = 0; start < n; start += chunkRows) {
    const rows = Math.min(chunkRows, n - start);
    const xs = x.subarray(start * dIn, (start + rows) * dIn);
    const { codes, norm } = encode(sae, xs, rows);
    const recon = decode(sae, codes, rows, norm, xs);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < dSae; i++) {
        const v = codes[r * dSae + i]! * norms[i]!;
        if (v > 0) g.push(i, v);
      }
      rowPtr[start + r + 1] = g.size;
      let s = 0;
      // SAEs reconstruct their input; transcoder targets are not available here (d_out ≠ d_in).
      if (!sae.cfg.transcoder) for (let j = 0; j < dOut; j++) s += (xs[r * dIn + j]! - recon[r * dOut + j]!) ** 2;
      residualNorms[start + r] = Math.sqrt(s);
      sq += s;
    }
  }
  return { codes: { n, m: dSae, rowPtr, idx: g.idx.slice(0, g.size), val: g.val.slice(0, g.size) }, residualNorms, meanSquaredResidual: n ? sq / n : NaN };
}

/** Transposes CSR codes to per-latent row lists. */
export function latentRows(c: SparseCodes): LatentRows {
  const colPtr = new Int32Array(c.m + 1);
  for (let t = 0; t < c.idx.length; t++) colPtr[c.idx[t]! + 1]!++;
  for (let i = 0; i < c.m; i++) colPtr[i + 1]! += colPtr[i]!;
  const fill = colPtr.slice(0, c.m);
  const rows = new Int32Array(c.idx.length);
  const vals = new Float32Array(c.idx.length);
  for (let r = 0; r < c.n; r++) {
    for (let t = c.rowPtr[r]!; t < c.rowPtr[r + 1]!; t++) {
      const i = c.idx[t]!;
      const at = fill[i]!++;
      rows[at] = r;
      vals[at] = c.val[t]!;
    }
  }
  return { colPtr, rows, vals };
}

/** Firing count per latent. */
export function firingCounts(c: SparseCodes): Int32Array {
  const out = new Int32Array(c.m);
  for (let t = 0; t < c.idx.length; t++) out[c.idx[t]!]!++;
  return out;
}

export interface PairStats {
  /** #rows where both fire. */
  both: Int32Array;
  /** Σ ã_first over rows where both fire. */
  sumFirst: Float64Array;
  /** Σ ã_second over rows where both fire. */
  sumSecond: Float64Array;
}

/**
 * Exact co-firing statistics for the given ordered pairs (first, second) — flattened [2·P]. Cost: one
 * pass over the active entries of every row where `first` fires.
 */
export function pairStats(c: SparseCodes, cols: LatentRows, pairs: Int32Array): PairStats {
  const P = pairs.length >> 1;
  const both = new Int32Array(P);
  const sumFirst = new Float64Array(P);
  const sumSecond = new Float64Array(P);
  // Group pairs by `first`, then walk that latent's rows once, looking up `second` in a row marker.
  const byFirst = new Map<number, number[]>();
  for (let p = 0; p < P; p++) {
    const f = pairs[2 * p]!;
    let list = byFirst.get(f);
    if (!list) byFirst.set(f, (list = []));
    list.push(p);
  }
  const mark = new Float32Array(c.m);
  for (const [first, list] of byFirst) {
    for (let t = cols.colPtr[first]!; t < cols.colPtr[first + 1]!; t++) {
      const r = cols.rows[t]!;
      const aFirst = cols.vals[t]!;
      for (let u = c.rowPtr[r]!; u < c.rowPtr[r + 1]!; u++) mark[c.idx[u]!] = c.val[u]!;
      for (const p of list) {
        const v = mark[pairs[2 * p + 1]!]!;
        if (v > 0) { both[p]!++; sumFirst[p]! += aFirst; sumSecond[p]! += v; }
      }
      for (let u = c.rowPtr[r]!; u < c.rowPtr[r + 1]!; u++) mark[c.idx[u]!] = 0;
    }
  }
  return { both, sumFirst, sumSecond };
}

/**
 * For each latent i, the latents j that fire on at least `minShare` of (up to `samples`, evenly spaced)
 * rows where i fires — candidates for exact counting with pairStats. With 64 samples a pair with true
 * share s ≥ minShare + 0.15 is missed with probability below 1e-3; the exact counts decide afterwards.
 */
export function coFiringCandidates(c: SparseCodes, cols: LatentRows, minShare: number, samples = 64): Int32Array[] {
  const out: Int32Array[] = new Array(c.m);
  const count = new Int32Array(c.m);
  const touched: number[] = [];
  for (let i = 0; i < c.m; i++) {
    const lo = cols.colPtr[i]!, hi = cols.colPtr[i + 1]!;
    const nRows = hi - lo;
    if (nRows === 0) { out[i] = new Int32Array(0); continue; }
    const take = Math.min(samples, nRows);
    for (let s = 0; s < take; s++) {
      const r = cols.rows[lo + Math.floor((s * nRows) / take)]!;
      for (let u = c.rowPtr[r]!; u < c.rowPtr[r + 1]!; u++) {
        const j = c.idx[u]!;
        if (j === i) continue;
        if (count[j] === 0) touched.push(j);
        count[j]!++;
      }
    }
    const need = Math.max(1, Math.ceil(minShare * take));
    const keep: number[] = [];
    for (const j of touched) { if (count[j]! >= need) keep.push(j); count[j] = 0; }
    touched.length = 0;
    out[i] = Int32Array.from(keep.sort((a, b) => a - b));
  }
  return out;
}
