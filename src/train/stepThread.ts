/**
 * One thread's share of a step: its latent and row ranges, views of the shared arena, its reusable lists,
 * and the arena offsets its kernels address (./step.ts runs the phases over it).
 */
import type { GemmProvider } from '../compute/gemm';
import type { ModelConfig } from '../sae/objectives';
import { DENSE_BLOCK } from './layout';
import type { ArenaViews, Layout } from './layout';
import { RowTopK, TopHeap } from '../compute/topk';
import { FlatList, LatentLists } from './lists';
import { ArenaRowTopK, RowFilter } from './select';
import { TIMING_SLOTS } from './profile';

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
  /** The selection's pass over a row segment, on this thread's kernel into its arena buffers. */
  filter: RowFilter;
  /** Row-wise top-k of own latents: TopK's codes (its pass on `filter`), and aux-k over the dead ones (each keeps its own guess). */
  sel: RowTopK;
  auxSel: RowTopK;
  deadList: Int32Array;
  /** BatchTopK: this thread's (latent, row, value) of the pre-activations at or above the step's guess, in row order. */
  batchCands: FlatList;
  theta: Float32Array;
  dead: Uint8Array;
  /** This thread's gradient rows (views of the arena's scratch region) and their float offsets. */
  gradDec: Float32Array;
  gradEnc: Float32Array;
  gradDecOff: number;
  gradEncOff: number;
  /** Float offsets of the arena regions the sparse loops address through the kernels (part: this thread's segment 0). */
  off: {
    g: number; gAux: number; x: number; xc: number; wDec: number; part: number; xaux: number; z: number; denseGrad: number; denseEnc: number; wSkip: number; skipOut: number; gradWSkip: number;
    /** the weights' Adam moments and this thread's b_dec input-path part (backward's per-row kernels) */
    wEncT: number; bEnc: number; mWDec: number; vWDec: number; mWEncT: number; vWEncT: number; bDecPart: number;
  };
  /** Matryoshka segments of own latents: [segment, first latent, end latent]; segOf[j] for own latent l0 + j. */
  segs: [number, number, number][];
  segOf: Int32Array;
  /** Whether this step runs the dense decoder path on this thread's latents (decided in activate). */
  dense: boolean;
  /** ReLU: whether encode found more positive values than the dense path's threshold (./activate.ts positiveFirstPass). */
  positiveDense: boolean;
  /** Dense path: which (row, own latent) pairs are active, [B × own latents]; Σ_n f per own latent. */
  mask: Uint8Array;
  sumF: Float64Array;
  /** This thread's timing slots (./profile.ts) while the step is profiled, else undefined. */
  prof: Float64Array | undefined;
  timing: Float64Array;
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
  const span = Math.ceil(cfg.dSae / T);
  const mem = new Float32Array(buffer);
  const filter = new RowFilter(gemm, mem, at('selVal') + worker * span, at('selIdx') + worker * span, span);
  return {
    cfg, layout, worker, threads: T,
    mem, bits: new Uint32Array(buffer), v, gemm, l0, l1, r0, r1,
    act: new LatentLists(n), aux: new LatentLists(n), ker: new LatentLists(n),
    flatAct: new FlatList(), flatAux: new FlatList(), flatKer: new FlatList(),
    heap: new TopHeap(Math.max(cfg.k, cfg.kAux, 1) * Math.max(T, 1)),
    filter, sel: new ArenaRowTopK(filter, cfg.k, at('z'), at('bEnc')), auxSel: new RowTopK(n, cfg.kAux), deadList: new Int32Array(n), batchCands: new FlatList(),
    theta: new Float32Array(n), dead: new Uint8Array(n),
    gradDec: v.f32.scratch!.subarray(scratch, scratch + dOut),
    gradEnc: v.f32.scratch!.subarray(scratch + dOut, scratch + dOut + dIn),
    gradDecOff: at('scratch') + scratch,
    gradEncOff: at('scratch') + scratch + dOut,
    off: {
      g: at('g'), gAux: at('gAux'), x: at('x'), xc: at('xc'), wDec: at('wDec'), part: at('xhatPart') + worker * P * B * dOut, xaux: at('xauxPart') + worker * B * dOut,
      z: at('z'), denseGrad: at('denseGrad'), denseEnc: at('denseEnc') + worker * DENSE_BLOCK * dIn, wSkip: at('wSkip'), skipOut: at('skipOut'), gradWSkip: at('gradWSkip'),
      wEncT: at('wEncT'), bEnc: at('bEnc'), mWDec: at('m_wDec'), vWDec: at('v_wDec'), mWEncT: at('m_wEncT'), vWEncT: at('v_wEncT'), bDecPart: at('bDecPart') + worker * dOut,
    },
    segs, segOf,
    dense: false, positiveDense: false,
    mask: new Uint8Array(0),
    sumF: new Float64Array(0),
    prof: undefined,
    timing: v.f64.timing!.subarray(worker * TIMING_SLOTS, (worker + 1) * TIMING_SLOTS),
  };
}

/** ‖mem[off..off+len)‖ on the thread's dot kernel. */
export function rowNorm(t: StepThread, off: number, len: number): number {
  return Math.sqrt(t.gemm.dot(t.mem, off, off, len));
}

/** A latent's decoder-norm weight Σ_g ‖d_i^g‖ over G equal blocks of its row at arena offset `off` (G = 1: ‖d_i‖; crosscoder: per source). */
export function decoderNorm(t: StepThread, off: number, len: number, groups: number): number {
  const w = len / groups;
  let total = 0;
  for (let g = 0; g < groups; g++) total += rowNorm(t, off + g * w, w);
  return total;
}
