/**
 * The feature-page pass: every row of the data, once, in chunks, through the diagnostics' sparse encoder
 * (src/diagnostics/encoderCodes.ts encodeSparse over src/sae/forward.ts), into FeatureStats. Memory is the
 * statistics plus one chunk of rows and its codes, whatever the file's size.
 *
 * The pass is a generator that yields after each chunk, so a caller can run it to the end at once (the
 * report, the CLI) or between event-loop turns while it answers pages from the statistics so far (the
 * panels' worker). Results are cached beside the SAE in `.feature-pass/<key>.safetensors`, the key a hash
 * of the SAE's weights and config, the pass's settings and a fingerprint of the data file (its size, shape
 * and a hash of sampled blocks of its bytes).
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { contentHash, sealConstant } from '../diagnostics/pool';
import { encodeSparse } from '../diagnostics/encoderCodes';
import { DTYPE_BYTES } from '../io/dtype';
import type { DType } from '../io/dtype';
import { readRowsAt } from '../io/rowSample';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { Tensor } from '../io/tensor';
import type { Sae } from '../sae/types';
import { activationRowSource } from './activations';
import { FeatureStats, GRID_BINS } from './featureStats';
import type { FeatureStatsShape } from './featureStats';

/** Bump when the statistics change meaning: older cache files are then ignored. */
const PASS_VERSION = 1;
export const DEFAULT_PASS: Omit<FeatureStatsShape, 'dSae'> = { topK: 20, perBin: 4, seed: 0 };

/** The rows of an activation file as the pass reads them. Shards plug in here. */
export interface PassSource {
  path: string;
  rows: number;
  dIn: number;
  /** Tokens per sequence when the file is [sequences, context, d]. */
  seqLen?: number;
  /** Rows [lo, hi) as float32. */
  read(lo: number, hi: number): Float32Array;
  /** Identifies the data's contents (size, shape and sampled bytes). */
  fingerprint(): string;
  close(): void;
}

/**
 * An activation .npy ([rows, d] or [sequences, context, d]), a .safetensors with one 2-D tensor, or a
 * capture folder (its shards read one after another).
 */
export function openPassSource(path: string): PassSource {
  const { source, seqLen } = activationRowSource(path);
  const { rows, dIn } = source;
  if (rows === 0) throw new InputError(path, 'the activation file has no rows');
  const files = source.parts ?? [source];
  const sizes = files.map((f) => {
    const need = f.dataStart + f.rows * dIn * DTYPE_BYTES[f.dtype];
    let size: number;
    try { size = statSync(f.path).size; } catch (e) { throw new InputError(f.path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    if (size < need) throw new InputError(f.path, `truncated: ${f.rows} rows of ${dIn} need ${need} bytes, the file has ${size}`);
    return size;
  });
  return {
    path, rows, dIn, seqLen,
    read: (lo, hi) => readRowsAt(source, Int32Array.from({ length: hi - lo }, (_, t) => lo + t)),
    fingerprint: () => {
      let h = contentHash(Float64Array.of(rows, dIn, files.length));
      files.forEach((f, i) => { h = (Math.imul(h, 31) + fileFingerprint(f.path, sizes[i]!, DTYPE_BYTES[f.dtype])) >>> 0; });
      return `${h.toString(16)}-${sizes.reduce((a, b) => a + b, 0)}`;
    },
    close: () => undefined,
  };
}

/** A hash of a file's size and of 16 blocks of 64 KiB spread over it. */
function fileFingerprint(path: string, size: number, salt: number): number {
  const block = Math.min(1 << 16, size), blocks = 16;
  const fd = openSync(path, 'r');
  try {
    let h = contentHash(Float64Array.of(size, salt));
    const buf = new Uint8Array(block);
    for (let b = 0; b < blocks; b++) {
      const got = readSync(fd, buf, 0, block, Math.floor(((size - block) * b) / (blocks - 1)));
      h = (Math.imul(h, 31) + contentHash(buf.subarray(0, got))) >>> 0;
    }
    return h;
  } finally {
    closeSync(fd);
  }
}

/**
 * Rows per encoded chunk: about 5·10^10 multiply-adds of encoder GEMM (4,096 rows of a 768 × 16,384 SAE),
 * at most 4,096. Each thread then runs several full GEMM blocks on one pre-activation buffer, and the
 * per-chunk costs (the hand-off to the worker, joining the codes) are spread over many rows; a chunk is
 * still about a second of work, the longest the panels' worker leaves a request waiting.
 */
function chunkRowsFor(sae: Sae): number {
  return Math.max(256, Math.min(4096, Math.floor(5.2e10 / (sae.cfg.dIn * sae.cfg.dSae))));
}

/**
 * The pass: yields the statistics after each chunk (rowsSeen + skippedNonFinite rows read so far).
 * Rows holding NaN or Inf are left out and counted.
 */
export function* featurePassSteps(sae: Sae, src: PassSource, shape: Omit<FeatureStatsShape, 'dSae'> = DEFAULT_PASS, chunkRows = chunkRowsFor(sae)): Generator<FeatureStats, FeatureStats> {
  const { dIn, dSae } = sae.cfg;
  if (src.dIn !== dIn) throw new InputError(src.path, `activation width ${src.dIn} does not match the SAE's d_in ${dIn}`);
  const stats = new FeatureStats({ ...shape, dSae });
  // the pass only reads the SAE: the workers get its weights once, not hashed again for every chunk
  sealConstant(sae);
  for (let lo = 0; lo < src.rows; lo += chunkRows) {
    const hi = Math.min(src.rows, lo + chunkRows);
    let x = src.read(lo, hi);
    const keep: number[] = [];
    for (let r = 0; r < hi - lo; r++) {
      let ok = true;
      for (let j = 0; j < dIn; j++) if (!Number.isFinite(x[r * dIn + j]!)) { ok = false; break; }
      if (ok) keep.push(r);
    }
    if (keep.length < hi - lo) {
      const kept = new Float32Array(keep.length * dIn);
      keep.forEach((r, t) => kept.set(x.subarray(r * dIn, (r + 1) * dIn), t * dIn));
      x = kept;
    }
    if (keep.length) {
      const codes = encodeSparse(sae, x, keep.length, { keep: 'codes', values: 'raw', chunkRows: Math.max(16, Math.min(512, Math.floor((8 << 20) / dSae))) }).codes;
      stats.add(codes.rowPtr, codes.idx, codes.val, Int32Array.from(keep, (r) => lo + r));
    }
    stats.rowsSeen += keep.length;
    stats.skippedNonFinite += hi - lo - keep.length;
    if (hi < src.rows) yield stats;
  }
  if (stats.rowsSeen === 0) throw new InputError(src.path, `none of the ${src.rows} rows is finite (all contain NaN or Inf)`);
  return stats;
}

/** The cache file for this SAE + data + settings. */
export function featurePassCachePath(saeDir: string, sae: Sae, src: PassSource, shape: Omit<FeatureStatsShape, 'dSae'> = DEFAULT_PASS): string {
  const { source: _source, ...cfg } = sae.cfg;
  const cfgHash = contentHash(new TextEncoder().encode(JSON.stringify({ cfg, shape, version: PASS_VERSION, grid: GRID_BINS })));
  const key = `${contentHash(sae).toString(16)}-${cfgHash.toString(16)}-${src.fingerprint()}`;
  return join(saeDir, '.feature-pass', `${key}.safetensors`);
}

const FIELDS = ['count', 'sum', 'min', 'max', 'anchor', 'binCount', 'resRow', 'resVal', 'topRow', 'topVal', 'topSize'] as const;

function tensorOf(a: Float64Array | Float32Array | Int32Array): Tensor {
  const dtype: DType = a instanceof Float64Array ? 'F64' : a instanceof Float32Array ? 'F32' : 'I32';
  return { dtype, shape: [a.length], data: a };
}

export function writeFeatureStats(path: string, s: FeatureStats, about: { rows: number; activations: string }): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tensors = Object.fromEntries(FIELDS.map((f) => [f, tensorOf(s[f])]));
  writeSafetensors(path, tensors, {
    format: 'sae-workbench-feature-pass', version: String(PASS_VERSION), dSae: String(s.dSae), topK: String(s.topK), perBin: String(s.perBin), seed: String(s.seed),
    rowsSeen: String(s.rowsSeen), skippedNonFinite: String(s.skippedNonFinite), rows: String(about.rows), activations: about.activations,
  });
}

/** A cached pass, or undefined when there is none (or it is unreadable: the pass then runs again). */
export function readFeatureStats(path: string): FeatureStats | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const f = readSafetensors(path);
    const m = f.metadata ?? {};
    if (m.format !== 'sae-workbench-feature-pass' || Number(m.version) !== PASS_VERSION) return undefined;
    const s = new FeatureStats({ dSae: Number(m.dSae), topK: Number(m.topK), perBin: Number(m.perBin), seed: Number(m.seed) });
    for (const field of FIELDS) {
      const t = f.tensors.get(field);
      const dst = s[field];
      if (!t || t.data.length !== dst.length) return undefined;
      dst.set(t.data as never);
    }
    s.rowsSeen = Number(m.rowsSeen); s.skippedNonFinite = Number(m.skippedNonFinite);
    return s;
  } catch {
    return undefined;
  }
}

/** Runs the whole pass now (or reads it from the cache beside the SAE when `saeDir` is given). */
export function featurePass(sae: Sae, activations: string, opts: { saeDir?: string; shape?: Omit<FeatureStatsShape, 'dSae'>; onProgress?: (rowsDone: number, rows: number) => void } = {}): { stats: FeatureStats; source: PassSource; cached: boolean } {
  const source = openPassSource(activations);
  const shape = opts.shape ?? DEFAULT_PASS;
  const cachePath = opts.saeDir ? featurePassCachePath(opts.saeDir, sae, source, shape) : undefined;
  const hit = cachePath ? readFeatureStats(cachePath) : undefined;
  if (hit) return { stats: hit, source, cached: true };
  const steps = featurePassSteps(sae, source, shape);
  let step = steps.next();
  while (!step.done) { opts.onProgress?.(step.value.rowsSeen + step.value.skippedNonFinite, source.rows); step = steps.next(); }
  if (cachePath) {
    try { writeFeatureStats(cachePath, step.value, { rows: source.rows, activations }); } catch { /* a folder we may not write to: no cache */ }
  }
  return { stats: step.value, source, cached: false };
}
