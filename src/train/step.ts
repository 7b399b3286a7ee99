/**
 * One training step of a sparse autoencoder, cut into phases that T threads run over disjoint ranges of
 * latents (or rows), with the coordinator (thread 0) doing the small merges between them. With T = 1 the
 * same phases run in order on one thread. The objectives are those of ../sae/objectives.ts.
 *
 * Sparse-aware: only the encoder's pre-activations Z = (x − b_dec)·W_encᵀ are a dense GEMM. The decoder
 * forward, the decoder gradient and the encoder gradient walk each latent's list of active rows, and Adam
 * is applied to a latent's rows as soon as its gradient is accumulated (nothing of the size of W is ever
 * stored as a gradient). Model-parallel by latents: each thread owns W_enc/W_dec rows, Adam state and
 * statistics of its latent range, so the only cross-thread traffic is per-row top-k candidates and one
 * partial reconstruction per thread.
 */
import type { GemmProvider } from '../compute/gemm';
import type { ModelConfig } from '../sae/objectives';
import { DENSE_BLOCK, HIST_BINS, S } from './layout';
import type { ArenaViews, Layout } from './layout';

export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

export const enum Phase { Encode = 1, Hist2 = 2, Activate = 3, Residual = 4, Backward = 5 }

/** Growable per-latent lists of (row, value), built per step by a thread for its own latents. */
class LatentLists {
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
class FlatList {
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
class TopHeap {
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

export interface StepThread {
  cfg: ModelConfig;
  layout: Layout;
  worker: number;
  threads: number;
  /** The whole shared buffer as f32 (for the GEMM) and as u32 (float bits for BatchTopK's histogram). */
  mem: Float32Array;
  bits: Uint32Array;
  v: ArenaViews;
  gemm: GemmProvider;
  l0: number; l1: number;
  r0: number; r1: number;
  act: LatentLists;
  aux: LatentLists;
  ker: LatentLists;
  flatAct: FlatList;
  flatAux: FlatList;
  flatKer: FlatList;
  heap: TopHeap;
  theta: Float32Array;
  dead: Uint8Array;
  /** This thread's gradient rows (views of the arena's scratch region) and their float offsets. */
  gradDec: Float32Array;
  gradEnc: Float32Array;
  gradDecOff: number;
  gradEncOff: number;
  /** Float offsets of the arena regions the sparse loops address through the kernels (part: this thread's segment 0). */
  off: { g: number; gAux: number; x: number; xc: number; wDec: number; part: number; xaux: number; z: number; denseGrad: number; denseEnc: number; wSkip: number; skipOut: number; gradWSkip: number };
  /** Matryoshka segments of own latents: [segment, first latent, end latent]; segOf[j] for own latent l0 + j. */
  segs: [number, number, number][];
  segOf: Int32Array;
  /** Whether this step runs the dense decoder path on this thread's latents (decided in activate). */
  dense: boolean;
  /** Dense path: which (row, own latent) pairs are active, [B × own latents]; Σ_n f per own latent. */
  mask: Uint8Array;
  sumF: Float64Array;
}

export function rangeOf(total: number, parts: number, p: number): [number, number] {
  const base = Math.floor(total / parts), extra = total % parts;
  const start = p * base + Math.min(p, extra);
  return [start, start + base + (p < extra ? 1 : 0)];
}

export function makeStepThread(cfg: ModelConfig, layout: Layout, buffer: ArrayBufferLike, v: ArenaViews, gemm: GemmProvider, worker: number): StepThread {
  const T = layout.threads;
  const [l0, l1] = rangeOf(cfg.dSae, T, worker);
  const [r0, r1] = rangeOf(cfg.batch, T, worker);
  const n = l1 - l0;
  const at = (name: string): number => layout.regions.get(name)!.offset / 4;
  const { dIn, dOut, batch: B } = cfg;
  const P = cfg.prefixes.length;
  const segs: [number, number, number][] = [];
  const segOf = new Int32Array(n);
  cfg.prefixes.forEach((hi, s) => {
    const a = Math.max(l0, s ? cfg.prefixes[s - 1]! : 0), b = Math.min(l1, hi);
    if (a < b) { segs.push([s, a, b]); segOf.fill(s, a - l0, b - l0); }
  });
  const scratch = worker * (dIn + dOut);
  return {
    cfg, layout, worker, threads: T,
    mem: new Float32Array(buffer), bits: new Uint32Array(buffer), v, gemm, l0, l1, r0, r1,
    act: new LatentLists(n), aux: new LatentLists(n), ker: new LatentLists(n),
    flatAct: new FlatList(), flatAux: new FlatList(), flatKer: new FlatList(),
    heap: new TopHeap(Math.max(cfg.k, cfg.kAux, 1) * Math.max(T, 1)),
    theta: new Float32Array(n), dead: new Uint8Array(n),
    gradDec: v.f32.scratch!.subarray(scratch, scratch + dOut),
    gradEnc: v.f32.scratch!.subarray(scratch + dOut, scratch + dOut + dIn),
    gradDecOff: at('scratch') + scratch,
    gradEncOff: at('scratch') + scratch + dOut,
    off: {
      g: at('g'), gAux: at('gAux'), x: at('x'), xc: at('xc'), wDec: at('wDec'), part: at('xhatPart') + worker * P * B * dOut, xaux: at('xauxPart') + worker * B * dOut,
      z: at('z'), denseGrad: at('denseGrad'), denseEnc: at('denseEnc') + worker * DENSE_BLOCK * dIn, wSkip: at('wSkip'), skipOut: at('skipOut'), gradWSkip: at('gradWSkip'),
    },
    segs, segOf,
    dense: false,
    mask: new Uint8Array(0),
    sumF: new Float64Array(0),
  };
}

/** Runs one phase on this thread's range. */
export function runPhase(t: StepThread, phase: Phase): void {
  if (phase === Phase.Encode) encode(t);
  else if (phase === Phase.Hist2) histogram(t, 2);
  else if (phase === Phase.Activate) activate(t);
  else if (phase === Phase.Residual) residual(t);
  else backward(t);
}

function encode(t: StepThread): void {
  const { cfg, v, l0, l1 } = t;
  const { dIn, dSae, batch: B } = cfg;
  const z = v.f32.z!, bEnc = v.f32.bEnc!;
  const reg = t.layout.regions;
  t.gemm.abt(t.mem, B, l1 - l0, dIn, reg.get('xc')!.offset / 4, dIn, reg.get('wEncT')!.offset / 4 + l0 * dIn, dIn, reg.get('z')!.offset / 4 + l0, dSae);
  // the gate mechanism keeps Z = x′W_enc without a bias: its gate and magnitude paths add their own
  if (cfg.selection !== 'gate') for (let n = 0; n < B; n++) {
    const row = n * dSae;
    for (let i = l0; i < l1; i++) z[row + i]! += bEnc[i]!;
  }
  // skip transcoder: this thread's rows of x·W_skipᵀ (a dense term of ŷ, beside the codes' part)
  if (cfg.skip) t.gemm.abt(t.mem, t.r1 - t.r0, cfg.dOut, dIn, t.off.x + t.r0 * dIn, dIn, t.off.wSkip, dIn, t.off.skipOut + t.r0 * cfg.dOut, cfg.dOut);
  const sc = v.f64.scalars!;
  const deadTokens = sc[S.deadTokens]!;
  const since = v.f64.tokensSinceFired!;
  for (let i = l0; i < l1; i++) t.dead[i - l0] = cfg.auxK && since[i]! >= deadTokens ? 1 : 0;
  if (cfg.selection === 'row-topk') localTopK(t, cfg.k, v.f32.candVal!, v.i32.candIdx!, false);
  if (cfg.auxK && sc[S.nDead]! > 0) localTopK(t, cfg.kAux, v.f32.auxVal!, v.i32.auxIdx!, true);
  if (cfg.selection === 'batch-topk') histogram(t, 1);
}

/** Per row, the best k of this thread's latents (dead ones only, for aux-k), written as candidates. */
function localTopK(t: StepThread, k: number, outVal: Float32Array, outIdx: Int32Array, deadOnly: boolean): void {
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
function histogram(t: StepThread, level: 1 | 2): void {
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

/** Builds this thread's per-latent active lists and its partial reconstruction Σ f·d_i. */
function activate(t: StepThread): void {
  const { cfg, v, l0, l1, act, aux, ker, theta, worker } = t;
  const { dSae, dOut, batch: B, selection } = cfg;
  const z = v.f32.z!;
  const nLat = l1 - l0;
  const sc = v.f64.scalars!;
  const useAuxK = cfg.auxK && sc[S.nDead]! > 0;
  // the aux reconstruction: aux-k's dead latents, or the gate mechanism's ReLU(π_gate) through the detached decoder
  const useAux = useAuxK || selection === 'gate';
  const tau = v.f32.tau!, tauIdx = v.i32.tauIdx!;
  const auxTau = v.f32.auxTau, auxTauIdx = v.i32.auxTauIdx;
  const bTau = sc[S.bTopkTau]!;
  const halfBand = cfg.bandwidth / 2;
  if (selection === 'threshold') {
    const lt = v.f32.logTheta!;
    for (let i = l0; i < l1; i++) theta[i - l0] = Math.exp(lt[i]!);
  }
  // gate: theta holds the magnitude path's scale e^{r_mag}
  const bGate = v.f32.bEnc!, bMag = v.f32.bMag!;
  if (selection === 'gate') for (let i = l0; i < l1; i++) theta[i - l0] = Math.exp(v.f32.rMag![i]!);
  // positive/threshold selections: count first; past the threshold the lists are not built at all (dense decoder path)
  if (v.f32.denseGrad!.length > 0) {
    let count = 0;
    for (let n = 0; n < B; n++) {
      const row = n * dSae;
      if (selection === 'positive') { for (let i = l0; i < l1; i++) if (z[row + i]! > 0) count++; }
      else for (let i = l0; i < l1; i++) if (z[row + i]! > theta[i - l0]!) count++;
    }
    t.dense = count > cfg.denseThreshold * B * nLat;
    if (t.dense) { activateDense(t); return; }
  } else t.dense = false;
  // one scan of Z, specialised per architecture, collects (latent, row, value) in row order ...
  const A = t.flatAct, X = t.flatAux, K = t.flatKer;
  A.size = 0; X.size = 0; K.size = 0;
  for (let n = 0; n < B; n++) {
    const row = n * dSae;
    if (selection === 'positive') {
      for (let i = l0; i < l1; i++) { const val = z[row + i]!; if (val > 0) A.push(i - l0, n, val); }
    } else if (selection === 'threshold') {
      for (let i = l0; i < l1; i++) {
        const val = z[row + i]!, th = theta[i - l0]!;
        if (val > th) A.push(i - l0, n, val);
        if (Math.abs(val - th) < halfBand) K.push(i - l0, n, val);
      }
    } else if (selection === 'row-topk') {
      const tn = tau[n]!, ti = tauIdx[n]!;
      for (let i = l0; i < l1; i++) { const val = z[row + i]!; if (val > 0 && (val > tn || (val === tn && i <= ti))) A.push(i - l0, n, val); }
    } else if (selection === 'batch-topk') {
      const cut = Math.max(bTau, Number.MIN_VALUE);
      for (let i = l0; i < l1; i++) { const val = z[row + i]!; if (val >= cut) A.push(i - l0, n, val); }
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
  for (const [L, F] of [[act, A], [aux, X], [ker, K]] as const) {
    L.ptr.fill(0);
    for (let e = 0; e < F.size; e++) L.ptr[F.lat[e]! + 1]!++;
    for (let j = 0; j < nLat; j++) L.ptr[j + 1]! += L.ptr[j]!;
    L.reserve(L.ptr[nLat]!);
    const fill = L.ptr.slice(0, nLat);
    for (let e = 0; e < F.size; e++) { const p = fill[F.lat[e]!]!++; L.row[p] = F.row[e]!; L.val[p] = F.val[e]!; }
  }
  let l1sum = 0;
  const wDec = v.f32.wDec!;
  const weightedL1 = cfg.penalty === 'l1' && !cfg.unitNormDecoder;
  // the gate mechanism's L1 is on ReLU(π_gate) (the gate list), not on the codes
  const penalised = selection === 'gate' ? aux : act;
  for (let j = 0; j < nLat && weightedL1; j++) {
    const norm = decoderNorm(wDec, (l0 + j) * dOut, dOut, cfg.normGroups);
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

/** A latent's decoder-norm weight Σ_g ‖d_i^g‖ over G equal blocks of its row (G = 1: ‖d_i‖; crosscoder: per source). */
function decoderNorm(wDec: Float32Array, off: number, len: number, groups: number): number {
  const w = len / groups;
  let total = 0;
  for (let g = 0; g < groups; g++) total += rowNorm(wDec, off + g * w, w);
  return total;
}

/**
 * Dense decoder path of activate: one pass over own columns of Z builds the active mask, zeroes inactive
 * entries (Z becomes F), counts firings and sums codes per latent, and collects JumpReLU's kernel rows;
 * then one GEMM F·W_dec gives this thread's partial reconstruction.
 */
function activateDense(t: StepThread): void {
  const { cfg, v, l0, l1, act, aux, ker, theta, worker } = t;
  const { dSae, dOut, batch: B, selection } = cfg;
  const z = v.f32.z!, wDec = v.f32.wDec!;
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
  ker.ptr.fill(0);
  for (let e = 0; e < K.size; e++) ker.ptr[K.lat[e]! + 1]!++;
  for (let j = 0; j < nLat; j++) ker.ptr[j + 1]! += ker.ptr[j]!;
  ker.reserve(ker.ptr[nLat]!);
  const fill = ker.ptr.slice(0, nLat);
  for (let e = 0; e < K.size; e++) { const p = fill[K.lat[e]!]!++; ker.row[p] = K.row[e]!; ker.val[p] = K.val[e]!; }
  let l1sum = 0;
  const weighted = cfg.penalty === 'l1' && !cfg.unitNormDecoder;
  for (let j = 0; j < nLat; j++) l1sum += sumF[j]! * (weighted ? decoderNorm(wDec, (l0 + j) * dOut, dOut, cfg.normGroups) : 1);
  for (const [s, a, b] of t.segs) t.gemm.ab(t.mem, B, dOut, b - a, t.off.z + a, dSae, 1, t.off.wDec + a * dOut, dOut, t.off.part + s * B * dOut, dOut);
  // segments without own latents still hold last step's sums
  for (let s = 0; s < cfg.prefixes.length; s++) if (!t.segs.some(([q]) => q === s)) v.f32.xhatPart!.fill(0, (worker * cfg.prefixes.length + s) * B * dOut, (worker * cfg.prefixes.length + s + 1) * B * dOut);
  const sums = v.f64.sums!;
  sums[worker * 16 + 3] = act.ptr[nLat]!;
  sums[worker * 16 + 4] = l1sum;
}

/**
 * Rows of this thread: reconstruction, residual, the loss gradient with respect to x̂ (and the aux one).
 * Matryoshka: ŷ_p = base + Σ_{s ≤ p} (segment s's part) for every prefix p; the loss sums ‖Γ(ŷ_p − y)‖², and
 * segment s's latents see Σ_{p ≥ s} ∂L/∂ŷ_p, a suffix sum over prefixes. One prefix: the plain loss.
 */
function residual(t: StepThread): void {
  const { cfg, v, r0, r1, worker, threads: T } = t;
  const { dOut, batch: B } = cfg;
  const P = cfg.prefixes.length;
  const tgt = cfg.target ? v.f32.y! : v.f32.x!;
  const bDec = v.f32.bDec!, g = v.f32.g!, part = v.f32.xhatPart!, mean = v.f32.xMean!;
  const skipOut = cfg.skip ? v.f32.skipOut! : undefined;
  const sc = v.f64.scalars!;
  const gate = cfg.selection === 'gate';
  const useAux = (cfg.auxK && sc[S.nDead]! > 0) || gate;
  const auxFactor = (2 * cfg.auxCoef * sc[S.auxScale]!) / B;
  // WSAE: the loss is Σ γ_q² e_q², so every residual's gradient is scaled by γ² (the reported sse stays plain)
  const gamma2 = cfg.reconWeighted ? v.f32.gamma2! : undefined;
  const es = new Float64Array(P);
  const seg = B * dOut;
  let sse = 0, tot = 0, auxSse = 0, wsse = 0;
  for (let n = r0; n < r1; n++) {
    const o = n * dOut;
    for (let q = 0; q < dOut; q++) {
      const gw = gamma2 ? gamma2[q]! : 1;
      const y = tgt[o + q]!;
      let xh = bDec[q]! + (skipOut ? skipOut[o + q]! : 0);
      for (let s = 0; s < P; s++) {
        for (let w = 0; w < T; w++) xh += part[(w * P + s) * seg + o + q]!;
        const e = xh - y;
        es[s] = e;
        wsse += gw * e * e;
      }
      const e = es[P - 1]!;
      sse += e * e;
      tot += (y - mean[q]!) ** 2;
      let acc = 0;
      for (let s = P - 1; s >= 0; s--) { acc += (2 * gw * es[s]!) / B; g[s * seg + o + q] = acc; }
      if (useAux) {
        // aux-k's target is the residual y − ŷ (a constant): ea = D f_aux − (y − ŷ) = D f_aux + e;
        // the gate's is y itself through the detached decoder: ea = D ReLU(π_gate) + b_dec − y
        let xa = 0;
        for (let w = 0; w < T; w++) xa += v.f32.xauxPart![w * seg + o + q]!;
        const ea = gate ? xa + bDec[q]! - y : xa + e;
        auxSse += gw * ea * ea;
        v.f32.gAux![o + q] = auxFactor * gw * ea;
      }
    }
  }
  const sums = v.f64.sums!;
  sums[worker * 16 + 0] = sse;
  sums[worker * 16 + 1] = tot;
  sums[worker * 16 + 2] = auxSse;
  sums[worker * 16 + 6] = wsse;
}

function adamRow(p: Float32Array, m: Float32Array, vv: Float32Array, off: number, grad: Float32Array, len: number, lr: number, bc1: number, bc2: number): void {
  const { beta1, beta2, eps } = ADAM;
  const step = lr / bc1, sbc2 = Math.sqrt(bc2);
  for (let q = 0; q < len; q++) {
    const gq = grad[q]!;
    const mq = beta1 * m[off + q]! + (1 - beta1) * gq;
    const vq = beta2 * vv[off + q]! + (1 - beta2) * gq * gq;
    m[off + q] = mq; vv[off + q] = vq;
    p[off + q]! -= (step * mq) / (Math.sqrt(vq) / sbc2 + eps);
  }
}

const scalarGrad = new Float32Array(1);

interface BackwardCtx {
  lambda: number; lr: number; bc1: number; bc2: number; capture: boolean; weighted: boolean; bDecPart: Float32Array;
}

/**
 * The end of one latent's backward pass, shared by the sparse and dense paths: the L1 term of the decoder
 * row, b_dec's input-path part, the unit-norm projection, Adam (or capture), renormalisation, statistics.
 * Returns how many rows the latent fired on.
 */
function finishLatent(t: StepThread, c: BackwardCtx, i: number, gradDec: Float32Array, gradEnc: Float32Array, gb: number, gTheta: number, sumF: number, gu = gb): number {
  const { cfg, v } = t;
  const { dIn, dOut, batch: B } = cfg;
  const learnsThreshold = cfg.selection === 'threshold';
  const f = v.f32;
  const wDec = f.wDec!, wEncT = f.wEncT!;
  const d = i * dOut, e = i * dIn, j = i - t.l0;
  if (c.weighted && sumF !== 0) {
    // ∂/∂d_i of λ/B Σ_n f_i Σ_g ‖d_i^g‖ = λ/B · Σ_n f_i · d_i^g/‖d_i^g‖, block by block
    const G = cfg.normGroups, w = dOut / G;
    for (let g = 0; g < G; g++) {
      const norm = rowNorm(wDec, d + g * w, w);
      const k = ((c.lambda / B) * sumF) / (norm || 1);
      for (let q = g * w; q < (g + 1) * w; q++) gradDec[q]! += k * wDec[d + q]!;
    }
  }
  // b_dec enters through x − b_dec: its gradient gets −Σ_n dz_{n,i} w_enc,i (with the pre-update W_enc)
  // (gu: Σ_n ∂L/∂z_{n,i}, which is b_enc's gradient except for the gate, whose b_gate sees only the gate path)
  if (gu !== 0 && cfg.bDecInput) for (let q = 0; q < dIn; q++) c.bDecPart[q]! -= gu * wEncT[e + q]!;
  if (cfg.unitNormDecoder) {
    let par = 0;
    for (let q = 0; q < dOut; q++) par += gradDec[q]! * wDec[d + q]!;
    for (let q = 0; q < dOut; q++) gradDec[q]! -= par * wDec[d + q]!;
  }
  if (c.capture) {
    f.gradWDec!.set(gradDec, d); f.gradWEncT!.set(gradEnc, e); f.gradBEnc![i] = gb;
    if (learnsThreshold) f.gradLogTheta![i] = gTheta;
  } else {
    adamRow(wDec, f.m_wDec!, f.v_wDec!, d, gradDec, dOut, c.lr, c.bc1, c.bc2);
    adamRow(wEncT, f.m_wEncT!, f.v_wEncT!, e, gradEnc, dIn, c.lr, c.bc1, c.bc2);
    scalarGrad[0] = gb;
    adamRow(f.bEnc!, f.m_bEnc!, f.v_bEnc!, i, scalarGrad, 1, c.lr, c.bc1, c.bc2);
    if (learnsThreshold) { scalarGrad[0] = gTheta; adamRow(f.logTheta!, f.m_logTheta!, f.v_logTheta!, i, scalarGrad, 1, c.lr, c.bc1, c.bc2); }
    if (cfg.unitNormDecoder) {
      let s = 0;
      for (let q = 0; q < dOut; q++) s += wDec[d + q]! ** 2;
      const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let q = 0; q < dOut; q++) wDec[d + q]! *= inv;
    }
  }
  const fired = t.act.ptr[j + 1]! - t.act.ptr[j]!;
  const since = v.f64.tokensSinceFired!, fires = v.f64.windowFires!;
  since[i] = fired > 0 ? 0 : since[i]! + B;
  fires[i] = fires[i]! + fired;
  return fired;
}

function rowNorm(a: Float32Array, off: number, len: number): number {
  let s = 0;
  for (let q = 0; q < len; q++) s += a[off + q]! ** 2;
  return Math.sqrt(s);
}

/** Gradients of own latents, each applied by Adam as soon as it is complete. */
function backward(t: StepThread): void {
  const { cfg, v, worker } = t;
  const { dOut } = cfg;
  const sc = v.f64.scalars!;
  const adamT = sc[S.adamT]!;
  const c: BackwardCtx = {
    lambda: sc[S.sparsityCoef]!, lr: sc[S.lr]!, bc1: 1 - ADAM.beta1 ** adamT, bc2: 1 - ADAM.beta2 ** adamT,
    capture: !!cfg.captureGrads, weighted: cfg.penalty === 'l1' && !cfg.unitNormDecoder,
    bDecPart: v.f32.bDecPart!.subarray(worker * dOut, (worker + 1) * dOut),
  };
  c.bDecPart.fill(0);
  const penalty = cfg.selection === 'gate' ? backwardGate(t, c) : t.dense ? backwardDense(t, c) : backwardSparse(t, c);
  v.f64.sums![worker * 16 + 5] = cfg.penalty === 'l0-step' ? penalty : 0;
  if (cfg.skip) backwardSkip(t, c);
}

/**
 * Skip transcoder: ∂W_skip = G₀ᵀ·x (G₀ = Σ_p ∂L/∂ŷ_p, [B, d_out]), a dense GEMM over this thread's range of
 * output rows of W_skip [d_out, d_in], then Adam on those rows.
 */
function backwardSkip(t: StepThread, c: BackwardCtx): void {
  const { cfg, gemm, mem, off, worker, threads } = t;
  const { dIn, dOut, batch: B } = cfg;
  const [o0, o1] = rangeOf(dOut, threads, worker);
  if (o1 === o0) return;
  const f = t.v.f32;
  const grad = f.gradWSkip!;
  if (dIn % 4 === 0) gemm.ab(mem, o1 - o0, dIn, B, off.g + o0, 1, dOut, off.x, dIn, off.gradWSkip + o0 * dIn, dIn);
  else {
    grad.fill(0, o0 * dIn, o1 * dIn);
    const g = f.g!;
    for (let n = 0; n < B; n++) for (let o = o0; o < o1; o++) gemm.axpy(mem, g[n * dOut + o]!, off.x + n * dIn, off.gradWSkip + o * dIn, dIn);
  }
  if (!c.capture) adamRow(f.wSkip!, f.m_wSkip!, f.v_wSkip!, o0 * dIn, grad.subarray(o0 * dIn, o1 * dIn), (o1 - o0) * dIn, c.lr, c.bc1, c.bc2);
}

/** Per latent, over its active rows only (three kernel calls per active pair). */
function backwardSparse(t: StepThread, c: BackwardCtx): number {
  const { cfg, l0, l1, act, aux, ker, theta, gradDec, gradEnc, gemm, mem, off } = t;
  const { dIn, dOut, batch: B, selection } = cfg;
  const wDec = t.v.f32.wDec!;
  let fired = 0;
  for (let i = l0; i < l1; i++) {
    const j = i - l0, d = i * dOut;
    // Matryoshka: this latent's segment sees the sum of the gradients of every prefix that contains it
    const gOff = off.g + t.segOf[j]! * B * dOut;
    gradDec.fill(0); gradEnc.fill(0);
    let gb = 0, gTheta = 0;
    const norm = c.weighted ? decoderNorm(wDec, d, dOut, cfg.normGroups) : 1;
    const l1Grad = cfg.penalty === 'l1' ? (c.lambda / B) * norm : 0;
    let sumF = 0;
    for (let p = act.ptr[j]!; p < act.ptr[j + 1]!; p++) {
      const fv = act.val[p]!, n = act.row[p]!;
      const df = l1Grad + gemm.dot(mem, gOff + n * dOut, off.wDec + d, dOut);
      gemm.axpy(mem, fv, gOff + n * dOut, t.gradDecOff, dOut);
      gemm.axpy(mem, df, off.xc + n * dIn, t.gradEncOff, dIn);
      gb += df;
      sumF += fv;
    }
    for (let p = aux.ptr[j]!; p < aux.ptr[j + 1]!; p++) {
      const za = aux.val[p]!, n = aux.row[p]!;
      const dz = gemm.dot(mem, off.gAux + n * dOut, off.wDec + d, dOut);
      gemm.axpy(mem, za, off.gAux + n * dOut, t.gradDecOff, dOut);
      gemm.axpy(mem, dz, off.xc + n * dIn, t.gradEncOff, dIn);
      gb += dz;
    }
    if (selection === 'threshold') {
      const th = theta[j]!, eps = cfg.bandwidth;
      for (let p = ker.ptr[j]!; p < ker.ptr[j + 1]!; p++) {
        const df = gemm.dot(mem, gOff + ker.row[p]! * dOut, off.wDec + d, dOut);
        gTheta += -(th / eps) * df - (c.lambda / B) / eps;
      }
      gTheta *= th; // d/dt with θ = exp(t)
    }
    fired += finishLatent(t, c, i, gradDec, gradEnc, gb, gTheta, sumF);
  }
  return fired;
}

/**
 * The gate mechanism (Gated SAE, src/sae/arch/gated.ts), per latent over its lists: the code rows (f > 0:
 * ∂π_mag = g·d_i, into d_i, b_mag, r_mag and the encoder through e^{r}) and the gate rows (π_gate > 0:
 * ∂π_gate = λ/B·‖d_i‖ + g_aux·d_i, into b_gate and the encoder; the aux reconstruction's decoder is detached).
 */
function backwardGate(t: StepThread, c: BackwardCtx): number {
  const { cfg, l0, l1, act, aux, theta, gradDec, gradEnc, gemm, mem, off } = t;
  const { dIn, dOut, batch: B } = cfg;
  const f = t.v.f32;
  const wDec = f.wDec!, bMag = f.bMag!;
  let fired = 0;
  for (let i = l0; i < l1; i++) {
    const j = i - l0, d = i * dOut, er = theta[j]!;
    gradDec.fill(0); gradEnc.fill(0);
    let gMag = 0, gR = 0, gGate = 0, gu = 0, sumA = 0;
    for (let p = act.ptr[j]!; p < act.ptr[j + 1]!; p++) {
      const fv = act.val[p]!, n = act.row[p]!;
      const dMag = gemm.dot(mem, off.g + n * dOut, off.wDec + d, dOut);
      gemm.axpy(mem, fv, off.g + n * dOut, t.gradDecOff, dOut);
      gemm.axpy(mem, dMag * er, off.xc + n * dIn, t.gradEncOff, dIn);
      gMag += dMag; gR += dMag * (fv - bMag[i]!); gu += dMag * er;
    }
    const l1Grad = (c.lambda / B) * (c.weighted ? decoderNorm(wDec, d, dOut, cfg.normGroups) : 1);
    for (let p = aux.ptr[j]!; p < aux.ptr[j + 1]!; p++) {
      const n = aux.row[p]!;
      const dGate = l1Grad + gemm.dot(mem, off.gAux + n * dOut, off.wDec + d, dOut);
      gemm.axpy(mem, dGate, off.xc + n * dIn, t.gradEncOff, dIn);
      gGate += dGate; gu += dGate; sumA += aux.val[p]!;
    }
    if (c.capture) { f.gradBMag![i] = gMag; f.gradRMag![i] = gR; }
    else {
      scalarGrad[0] = gMag; adamRow(f.bMag!, f.m_bMag!, f.v_bMag!, i, scalarGrad, 1, c.lr, c.bc1, c.bc2);
      scalarGrad[0] = gR; adamRow(f.rMag!, f.m_rMag!, f.v_rMag!, i, scalarGrad, 1, c.lr, c.bc1, c.bc2);
    }
    fired += finishLatent(t, c, i, gradDec, gradEnc, gGate, 0, sumA, gu);
  }
  return fired;
}

/**
 * Dense decoder path (relu/jumprelu while many latents fire): Z holds F (from activate). Three GEMMs over
 * own latents — Fᵀ·g (W_dec's gradient), g·W_decᵀ (dF, written over F), dZᵀ·x′ in blocks (W_enc's
 * gradient) — instead of walking lists that would re-read the batch once per latent.
 */
function backwardDense(t: StepThread, c: BackwardCtx): number {
  const { cfg, l0, l1, ker, theta, gemm, mem, off, mask } = t;
  const { dIn, dOut, dSae, batch: B, selection } = cfg;
  const f = t.v.f32;
  const z = f.z!, wDec = f.wDec!, denseGrad = f.denseGrad!;
  const nLat = l1 - l0;
  const norms = new Float64Array(nLat);
  const sumF = t.sumF;
  for (let j = 0; j < nLat; j++) norms[j] = c.weighted ? decoderNorm(wDec, (l0 + j) * dOut, dOut, cfg.normGroups) : 1;
  for (const [s, a, b] of t.segs) {
    const gOff = off.g + s * B * dOut;
    gemm.ab(mem, b - a, dOut, B, off.z + a, 1, dSae, gOff, dOut, off.denseGrad + a * dOut, dOut);
    gemm.abt(mem, B, b - a, dOut, gOff, dOut, off.wDec + a * dOut, dOut, off.z + a, dSae);
  }
  const gTheta = new Float64Array(nLat);
  if (selection === 'threshold') {
    for (let j = 0; j < nLat; j++) {
      const th = theta[j]!, eps = cfg.bandwidth;
      let s = 0;
      for (let p = ker.ptr[j]!; p < ker.ptr[j + 1]!; p++) s += -(th / eps) * z[ker.row[p]! * dSae + l0 + j]! - (c.lambda / B) / eps;
      gTheta[j] = s * th;
    }
  }
  const gb = new Float64Array(nLat);
  for (let n = 0; n < B; n++) {
    const row = n * dSae + l0, mrow = n * nLat;
    for (let j = 0; j < nLat; j++) {
      if (mask[mrow + j]) {
        const dz = z[row + j]! + (cfg.penalty === 'l1' ? (c.lambda / B) * norms[j]! : 0);
        z[row + j] = dz;
        gb[j]! += dz;
      } else z[row + j] = 0;
    }
  }
  const encBlock = f.denseEnc!.subarray(t.worker * DENSE_BLOCK * dIn, (t.worker + 1) * DENSE_BLOCK * dIn);
  let fired = 0;
  for (let b0 = 0; b0 < nLat; b0 += DENSE_BLOCK) {
    const nb = Math.min(DENSE_BLOCK, nLat - b0);
    gemm.ab(mem, nb, dIn, B, off.z + l0 + b0, 1, dSae, off.xc, dIn, off.denseEnc, dIn);
    for (let j = b0; j < b0 + nb; j++) {
      const i = l0 + j;
      fired += finishLatent(t, c, i, denseGrad.subarray(i * dOut, (i + 1) * dOut), encBlock.subarray((j - b0) * dIn, (j - b0 + 1) * dIn), gb[j]!, gTheta[j]!, sumF[j]!);
    }
  }
  return fired;
}
