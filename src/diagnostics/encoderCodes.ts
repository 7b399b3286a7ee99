/**
 * Effective codes ã in compressed sparse row form, the one encoder-to-CSR routine, and the co-firing
 * statistics built on the CSR. The dense [n, d_sae] code matrix of a 16k-latent SAE on 100k rows is 6.4 GB;
 * its active entries are L0 per row. Every diagnostic reads codes in this form: the context's code set
 * (./codeResiduals.ts CodeSet extends SparseCodes with residuals and projections), absorption (C3) and split trees
 * (C4). encodeSparse encodes chunk by chunk, decodes from the active entries only, and splits the rows
 * across the diagnostics' worker threads (./pool.ts).
 */
import { RowTopK } from '../compute/topk';
import { archSpec } from '../sae/arch/registry';
import { plainRowTopK } from '../sae/arch/topk';
import { decode, decoderNorms, encode, normalizeInput, preActivations } from '../sae/forward';
import type { NormState } from '../sae/forward';
import type { Sae } from '../sae/types';
import { parallelRows } from './pool';

export interface SparseCodes {
  n: number;
  /** Number of latents. */
  m: number;
  /** Row r's entries are idx/val[rowPtr[r] .. rowPtr[r+1]), latents ascending. */
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

/**
 * What encodeSparse keeps besides the codes: full residuals, their norms only, nothing (the codes alone: no
 * decode at all), or firing counts only (no CSR).
 */
export type EncodeKeep = 'residual' | 'norms' | 'codes' | 'counts';

export interface EncodeOptions {
  /** Targets [n, dOut] for the residual; default x for SAEs, none for transcoders (residuals are then 0). */
  y?: Float32Array;
  keep?: EncodeKeep;
  /** Rows encoded at a time per thread (memory: chunkRows × d_sae floats). */
  chunkRows?: number;
  /** 'effective' (default): ã = ‖d_i‖ f; 'raw': the codes f themselves (the panels' activations). */
  values?: 'effective' | 'raw';
}

export interface EncodedSample {
  /** CSR of ã (or of f with values = 'raw'; no entries when keep = 'counts'). */
  codes: SparseCodes;
  /** Firing count per latent. */
  counts: Int32Array;
  /** r = y − ŷ [n, dOut] when keep = 'residual'. */
  residual?: Float32Array;
  /** ⟨d̂_i, r_n⟩ per CSR entry when keep = 'residual' with effective codes (what CodeSet.onProj holds). */
  onProj?: Float32Array;
  /** ‖r_n‖ per row (zeros without a target, or when keep = 'codes' or 'counts'). */
  residualNorms: Float32Array;
  /** Σ_n ‖r_n‖² / n. */
  meanSquaredResidual: number;
}

/**
 * Encodes n rows with the reference forward pass (src/sae/forward encode) into CSR effective codes, and
 * decodes from the active entries only (L0·d per row instead of the dense d_sae·d). Rows are split across
 * the diagnostics' threads; each row's result does not depend on the split.
 */
export function encodeSparse(sae: Sae, x: Float32Array, n: number, opts: number | EncodeOptions = {}): EncodedSample {
  const o: EncodeOptions = typeof opts === 'number' ? { chunkRows: opts } : opts;
  const { dIn, dOut } = sae.cfg;
  const y = o.y ?? (sae.cfg.transcoder ? undefined : x);
  const keep = o.keep ?? 'norms';
  const parts = parallelRows(n,
    (lo, hi) => encodeRange(sae, x.subarray(lo * dIn, hi * dIn), y?.subarray(lo * dOut, hi * dOut), hi - lo, keep, o.chunkRows, o.values),
    (lo, hi) => ({ kind: 'encode', constants: { sae }, args: { x: x.slice(lo * dIn, hi * dIn), y: y?.slice(lo * dOut, hi * dOut), n: hi - lo, keep, chunkRows: o.chunkRows, values: o.values } }),
    256);
  return joinEncoded(parts.map((p) => p.value as EncodedRange), n, sae.cfg.dSae, dOut, keep);
}

/** Above 1/this of the chunk's codes active, the dense reference decode is cheaper than the sparse one. */
const DENSE_DECODE_SHARE = 10;

/** One thread's share of encodeSparse (also run by the pool's workers). */
export interface EncodedRange {
  rowPtr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
  counts: Int32Array;
  residual?: Float32Array;
  residualNorms: Float32Array;
  sumSquares: number;
  onProj?: Float32Array;
}

export function encodeRange(sae: Sae, x: Float32Array, y: Float32Array | undefined, n: number, keep: EncodeKeep, chunkRows = 1024, values: EncodeOptions['values'] = 'effective'): EncodedRange {
  const { dIn, dSae, dOut } = sae.cfg;
  const decodes = (keep === 'residual' || keep === 'norms') && !!y;
  // the decoder's norms cost a pass over W_dec per call: only when the values or the decode need them
  const norms = values !== 'raw' || decodes ? decoderNorms(sae) : new Float32Array(0);
  const scale = values === 'raw' ? new Float32Array(dSae).fill(1) : norms;
  // Without a decode the dense codes are not needed: a plain TopK SAE then adds b_enc, selects and writes the
  // row's CSR in one pass over its pre-activations (the same selection as src/sae/arch/topk.ts topkRows).
  const fusedK = decodes ? undefined : plainRowTopK(sae);
  if (fusedK !== undefined) return encodeTopKRange(sae, x, n, keep, chunkRows, scale, fusedK);
  const rowPtr = new Int32Array(n + 1);
  const counts = new Int32Array(dSae);
  const g = new Growable();
  const residual = keep === 'residual' ? new Float32Array(n * dOut) : undefined;
  const residualNorms = new Float32Array(n);
  const recon = new Float64Array(dOut);
  // on-support projections, grown with the CSR (only with full residuals and effective codes)
  let onProj: Float32Array | undefined = keep === 'residual' && values === 'effective' ? new Float32Array(1024) : undefined;
  const onProjAt = (t: number, v: number): void => {
    if (t >= onProj!.length) { const next = new Float32Array(Math.max(2 * onProj!.length, t + 1)); next.set(onProj!); onProj = next; }
    onProj![t] = v;
  };
  const rescale = archSpec(sae.cfg.activation).ranksByDecoderNorm && sae.cfg.rescaleActsByDecoderNorm;
  let sumSquares = 0;
  for (let start = 0; start < n; start += chunkRows) {
    const rows = Math.min(chunkRows, n - start);
    const xs = x.subarray(start * dIn, (start + rows) * dIn);
    const { codes, norm } = encode(sae, xs, rows);
    const first = g.size;
    for (let r = 0; r < rows; r++) {
      const o = r * dSae;
      if (keep === 'counts') {
        for (let i = 0; i < dSae; i++) if (codes[o + i]! * scale[i]! > 0) counts[i]!++;
        continue;
      }
      for (let i = 0; i < dSae; i++) {
        const v = codes[o + i]! * scale[i]!;
        if (v > 0) { g.push(i, v); counts[i]!++; }
      }
      rowPtr[start + r + 1] = g.size;
    }
    if (!decodes) continue;
    // Decode (src/sae/forward decode): from the active entries only while they are few (L0·d per row in
    // JS), else the reference dense decode (d_sae·d per row on the GEMM), which wins above ~1/10 active.
    const dense = (g.size - first) * DENSE_DECODE_SHARE > rows * dSae ? decode(sae, codes, rows, norm, xs) : undefined;
    for (let r = 0; r < rows; r++) {
      if (dense) for (let j = 0; j < dOut; j++) recon[j] = dense[r * dOut + j]!;
      else {
        recon.fill(0);
        const o = r * dSae;
        for (let t = rowPtr[start + r]!; t < rowPtr[start + r + 1]!; t++) {
          const i = g.idx[t]!, f = codes[o + i]!;
          const c = rescale ? f / (norms[i]! || 1) : f;
          const wo = i * dOut;
          for (let j = 0; j < dOut; j++) recon[j]! += c * sae.wDec[wo + j]!;
        }
        finishDecodeRow(sae, recon, xs, r, norm);
      }
      const yo = (start + r) * dOut;
      let s = 0;
      for (let j = 0; j < dOut; j++) {
        const e = y[yo + j]! - Math.fround(recon[j]!);
        if (residual) residual[yo + j] = e;
        s += e * e;
      }
      // ⟨d̂_i, r⟩ on the row's support (CodeSet.onProj), here where the residual row is at hand
      if (onProj) for (let t = rowPtr[start + r]!; t < rowPtr[start + r + 1]!; t++) {
        const wo = g.idx[t]! * dOut;
        let p = 0;
        for (let j = 0; j < dOut; j++) p += sae.wDec[wo + j]! * residual![yo + j]!;
        onProjAt(t, p / norms[g.idx[t]!]!);
      }
      residualNorms[start + r] = Math.sqrt(s);
      sumSquares += s;
    }
  }
  return { rowPtr, idx: g.idx.slice(0, g.size), val: g.val.slice(0, g.size), counts, residual, residualNorms, sumSquares, onProj: onProj?.slice(0, g.size) };
}

/** encodeRange without a decode for a plain TopK SAE: pre-activations on the GEMM, then one selection pass per row. */
function encodeTopKRange(sae: Sae, x: Float32Array, n: number, keep: EncodeKeep, chunkRows: number, scale: Float32Array, k: number): EncodedRange {
  const { dIn, dSae } = sae.cfg;
  const rowPtr = new Int32Array(n + 1);
  const counts = new Int32Array(dSae);
  const g = new Growable();
  const sel = new RowTopK(dSae, k), keptVal = new Float32Array(k), keptIdx = new Int32Array(k), order = new Int32Array(k);
  // one pre-activation buffer for every block: a fresh [chunkRows, d_sae] array per block costs its page faults
  const hAll = new Float32Array(Math.min(chunkRows, n) * dSae);
  for (let start = 0; start < n; start += chunkRows) {
    const rows = Math.min(chunkRows, n - start);
    const xNorm = x.slice(start * dIn, (start + rows) * dIn);
    normalizeInput(sae, xNorm, rows);
    const h = preActivations(sae, xNorm, rows, false, hAll.subarray(0, rows * dSae));
    for (let r = 0; r < rows; r++) {
      sel.select(h, r * dSae, 0, dSae, sae.bEnc, k, keptVal, keptIdx, 0);
      // the positive ones among the k best (as keepTopK keeps them), latents ascending (insertion sort of ≤ k)
      let m = 0;
      for (let j = 0; j < k; j++) {
        if (!(keptVal[j]! * scale[keptIdx[j]!]! > 0)) continue;
        let at = m++;
        while (at > 0 && keptIdx[order[at - 1]!]! > keptIdx[j]!) { order[at] = order[at - 1]!; at--; }
        order[at] = j;
      }
      for (let t = 0; t < m; t++) {
        const i = keptIdx[order[t]!]!;
        counts[i]!++;
        if (keep !== 'counts') g.push(i, keptVal[order[t]!]! * scale[i]!);
      }
      rowPtr[start + r + 1] = g.size;
    }
  }
  return { rowPtr, idx: g.idx.slice(0, g.size), val: g.val.slice(0, g.size), counts, residualNorms: new Float32Array(n), sumSquares: 0 };
}

/** The rest of src/sae/forward decode for one row: b_dec, the skip connection, and undoing input normalisation. */
function finishDecodeRow(sae: Sae, recon: Float64Array, xs: Float32Array, r: number, norm: NormState): void {
  const { dIn, dOut } = sae.cfg;
  for (let j = 0; j < dOut; j++) recon[j]! += sae.bDec[j]!;
  if (sae.wSkip) {
    for (let o = 0; o < dOut; o++) {
      let s = 0;
      for (let j = 0; j < dIn; j++) s += xs[r * dIn + j]! * sae.wSkip[o * dIn + j]!;
      recon[o]! += s;
    }
  }
  if (!sae.cfg.transcoder && sae.cfg.normalizeActivations !== 'none') {
    const mu = norm.mean ? norm.mean[r]! : 0;
    const back = norm.outScale ? norm.outScale[r]! : 1 / norm.scale[r]!;
    for (let j = 0; j < dOut; j++) recon[j] = recon[j]! * back + mu;
  }
}

function joinEncoded(parts: EncodedRange[], n: number, m: number, dOut: number, keep: EncodeKeep): EncodedSample {
  if (parts.length === 1) {
    const p = parts[0]!;
    return { codes: { n, m, rowPtr: p.rowPtr, idx: p.idx, val: p.val }, counts: p.counts, residual: p.residual, onProj: p.onProj, residualNorms: p.residualNorms, meanSquaredResidual: n ? p.sumSquares / n : NaN };
  }
  const { rowPtr, idx, val } = joinRows(parts);
  const onProj = parts.every((p) => p.onProj) ? new Float32Array(idx.length) : undefined;
  const counts = new Int32Array(m);
  const residual = keep === 'residual' ? new Float32Array(n * dOut) : undefined;
  const residualNorms = new Float32Array(n);
  let row = 0, at = 0, sq = 0;
  for (const p of parts) {
    const rows = p.residualNorms.length;
    if (onProj) onProj.set(p.onProj!, at);
    for (let i = 0; i < m; i++) counts[i]! += p.counts[i]!;
    if (residual && p.residual) residual.set(p.residual, row * dOut);
    residualNorms.set(p.residualNorms, row);
    sq += p.sumSquares;
    row += rows; at += p.idx.length;
  }
  return { codes: { n, m, rowPtr, idx, val }, counts, residual, onProj, residualNorms, meanSquaredResidual: n ? sq / n : NaN };
}

/** Firing counts per latent over n rows (no codes kept), split across the diagnostics' threads. */
export function countFirings(sae: Sae, x: Float32Array, n: number, chunkRows?: number): Int32Array {
  return encodeSparse(sae, x, n, { keep: 'counts', chunkRows }).counts;
}

/** Rows [lo, hi) of CSR codes, row pointers rebased to 0; `copy` gives arrays of their own (to transfer). */
export function sliceRows<T extends Pick<SparseCodes, 'rowPtr' | 'idx' | 'val'>>(c: T, lo: number, hi: number, copy = false): Pick<SparseCodes, 'rowPtr' | 'idx' | 'val'> {
  const a = c.rowPtr[lo]!, b = c.rowPtr[hi]!;
  const rowPtr = new Int32Array(hi - lo + 1);
  for (let r = 0; r <= hi - lo; r++) rowPtr[r] = c.rowPtr[lo + r]! - a;
  return { rowPtr, idx: copy ? c.idx.slice(a, b) : c.idx.subarray(a, b), val: copy ? c.val.slice(a, b) : c.val.subarray(a, b) };
}

/** The rows of consecutive CSR blocks as one CSR (the inverse of sliceRows over a split of the rows). */
export function joinRows(parts: Pick<SparseCodes, 'rowPtr' | 'idx' | 'val'>[]): Pick<SparseCodes, 'rowPtr' | 'idx' | 'val'> {
  let n = 0, nnz = 0;
  for (const p of parts) { n += p.rowPtr.length - 1; nnz += p.idx.length; }
  const rowPtr = new Int32Array(n + 1), idx = new Int32Array(nnz), val = new Float32Array(nnz);
  let row = 0, at = 0;
  for (const p of parts) {
    const rows = p.rowPtr.length - 1;
    for (let r = 1; r <= rows; r++) rowPtr[row + r] = at + p.rowPtr[r]!;
    idx.set(p.idx, at); val.set(p.val, at);
    row += rows; at += p.idx.length;
  }
  return { rowPtr, idx, val };
}

/** ã_i > 0 on this row (binary search: a row's latents are ascending). */
export function firesIn(c: Pick<SparseCodes, 'rowPtr' | 'idx'>, row: number, i: number): boolean {
  let lo = c.rowPtr[row]!, hi = c.rowPtr[row + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >> 1, v = c.idx[mid]!;
    if (v === i) return true;
    if (v < i) lo = mid + 1; else hi = mid;
  }
  return false;
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
