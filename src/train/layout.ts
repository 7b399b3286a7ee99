/**
 * Where every array of a training run lives in one shared buffer (a SharedArrayBuffer, or the buffer of a
 * shared WebAssembly.Memory so that wasm kernels can read the same bytes). The layout is a pure function
 * of the model config and the thread count, so the coordinator and each kernel worker compute the same
 * offsets and only the buffer itself crosses threads.
 */
import { hasAuxReconstruction } from '../sae/objectives';
import type { ModelConfig } from '../sae/objectives';
import { TIMING_SLOTS } from './profile';

type Kind = 'f32' | 'f64' | 'i32';
export interface Region { offset: number; length: number; kind: Kind }

/** The first bytes of a wasm memory belong to the module (stack, data); the arena starts after them. */
export const ARENA_BASE = 65536;
/** Per-worker histogram bins for BatchTopK's global threshold (the top 16 bits of a positive float). */
export const HIST_BINS = 65536;
/** Control words for the worker barrier (Int32). */
export const CONTROL_WORDS = 16;
/** Latents per encoder-gradient block of the dense path. */
export const DENSE_BLOCK = 32;

export interface Layout {
  regions: Map<string, Region>;
  bytes: number;
  threads: number;
}

export function buildLayout(cfg: ModelConfig, threads: number): Layout {
  const { dIn, dOut, dSae, batch: B } = cfg;
  const P = cfg.prefixes.length;
  const regions = new Map<string, Region>();
  let at = ARENA_BASE;
  const add = (name: string, length: number, kind: Kind = 'f32'): void => {
    at = Math.ceil(at / 64) * 64;
    regions.set(name, { offset: at, length, kind });
    at += length * (kind === 'f64' ? 8 : 4);
  };
  add('control', CONTROL_WORDS, 'i32');
  add('scalars', 64, 'f64');
  // parameters and Adam moments (W_enc kept transposed: row i is latent i's encoder vector, length d_in;
  // decoder rows and b_dec live in the target space, length d_out)
  for (const p of ['', 'm_', 'v_']) {
    add(`${p}wEncT`, dSae * dIn);
    add(`${p}wDec`, dSae * dOut);
    add(`${p}bEnc`, dSae);
    add(`${p}bDec`, dOut);
    add(`${p}logTheta`, cfg.selection === 'threshold' ? dSae : 0);
    // the gate mechanism's magnitude path (b_gate is bEnc)
    add(`${p}bMag`, cfg.selection === 'gate' ? dSae : 0);
    add(`${p}rMag`, cfg.selection === 'gate' ? dSae : 0);
    add(`${p}wSkip`, cfg.skip ? dOut * dIn : 0);
  }
  // per-latent statistics
  add('tokensSinceFired', dSae, 'f64');
  add('windowFires', dSae, 'f64');
  // step buffers: input rows x (and their encoder input xc), target rows y when they are another stream
  add('x', B * dIn);
  add('y', cfg.target ? B * dOut : 0);
  add('xc', B * dIn);
  add('xMean', dOut);
  add('z', B * dSae);
  // per Matryoshka segment s (latents m_{s-1} ≤ i < m_s): Σ_{p ≥ s} ∂L/∂ŷ_p; segment 0 is what b_dec and W_skip see
  add('g', P * B * dOut);
  add('gamma2', cfg.reconWeighted ? dOut : 0);
  // the aux reconstruction: aux-k's, or the gate's through the detached decoder
  const aux = hasAuxReconstruction(cfg);
  add('gAux', aux ? B * dOut : 0);
  add('skipOut', cfg.skip ? B * dOut : 0);
  add('xhatPart', threads * P * B * dOut);
  add('xauxPart', aux ? threads * B * dOut : 0);
  add('bDecPart', threads * dOut);
  add('sums', threads * 16, 'f64');
  // per-thread seconds of the step's parts, when profiling (./profile.ts)
  add('timing', threads * TIMING_SLOTS, 'f64');
  // per-thread gradient rows of one latent (decoder d_out, encoder d_in), where the kernels can reach them
  add('scratch', threads * (dIn + dOut));
  // dense decoder path (positive/threshold selections): W_dec's gradient while dF is computed, and encoder-gradient blocks
  const dense = (cfg.selection === 'positive' || cfg.selection === 'threshold') && cfg.denseThreshold !== Infinity && dIn % 4 === 0 && dOut % 4 === 0;
  add('denseGrad', dense ? dSae * dOut : 0);
  add('denseEnc', dense ? threads * DENSE_BLOCK * dIn : 0);
  // each thread's selection pass writes one row segment's candidates here (./select.ts RowFilter)
  add('selVal', threads * Math.ceil(dSae / threads));
  add('selIdx', threads * Math.ceil(dSae / threads), 'i32');
  const topk = cfg.selection === 'row-topk';
  add('candVal', topk ? threads * B * cfg.k : 0);
  add('candIdx', topk ? threads * B * cfg.k : 0, 'i32');
  add('tau', B);
  add('tauIdx', B, 'i32');
  const kAux = cfg.auxK ? cfg.kAux : 0;
  add('auxVal', threads * B * kAux);
  add('auxIdx', threads * B * kAux, 'i32');
  add('auxTau', cfg.auxK ? B : 0);
  add('auxTauIdx', cfg.auxK ? B : 0, 'i32');
  add('hist', cfg.selection === 'batch-topk' ? threads * HIST_BINS : 0, 'i32');
  // W_skip's gradient (each thread fills its own output rows before Adam; also the tests' capture)
  add('gradWSkip', cfg.skip ? dOut * dIn : 0);
  // gradient capture for tests (never used in real runs: length 0 unless asked)
  const cap = cfg.captureGrads ?? false;
  add('gradWEncT', cap ? dSae * dIn : 0);
  add('gradWDec', cap ? dSae * dOut : 0);
  add('gradBEnc', cap ? dSae : 0);
  add('gradBDec', cap ? dOut : 0);
  add('gradLogTheta', cap && cfg.selection === 'threshold' ? dSae : 0);
  add('gradBMag', cap && cfg.selection === 'gate' ? dSae : 0);
  add('gradRMag', cap && cfg.selection === 'gate' ? dSae : 0);
  return { regions, bytes: Math.ceil(at / 65536) * 65536, threads };
}

/** Typed-array views of every region over `buffer`. */
export function viewsOf(buffer: ArrayBufferLike, layout: Layout): ArenaViews {
  const f32: Record<string, Float32Array> = {};
  const f64: Record<string, Float64Array> = {};
  const i32: Record<string, Int32Array> = {};
  for (const [name, r] of layout.regions) {
    if (r.kind === 'f32') f32[name] = new Float32Array(buffer, r.offset, r.length);
    else if (r.kind === 'f64') f64[name] = new Float64Array(buffer, r.offset, r.length);
    else i32[name] = new Int32Array(buffer, r.offset, r.length);
  }
  return { f32, f64, i32 };
}

export interface ArenaViews {
  f32: Record<string, Float32Array>;
  f64: Record<string, Float64Array>;
  i32: Record<string, Int32Array>;
}

/** Scalars shared between coordinator and workers (indices into the `scalars` f64 region). */
export const S = {
  step: 0,
  lr: 1,
  sparsityCoef: 2,
  adamT: 3,
  nDead: 4,
  kAuxNow: 5,
  auxScale: 6,
  bTopkTau: 7,
  bTopkThreshold: 8,
  deadTokens: 9,
  densePath: 10,
  rows: 11,
  histLevel: 12,
  histPrefix: 13,
  tokens: 14,
  activationScale: 15,
  /** BatchTopK: the guess below the cut (0: none), and whether this step's cut came from the candidates above it */
  bTopkGuess: 16,
  bTopkFromCands: 17,
  /** 1: the threads time their parts of the step into the timing region (./profile.ts) */
  profile: 18,
} as const;
