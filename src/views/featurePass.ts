/**
 * The feature-page pass: every row of the data, once, in chunks, through the diagnostics' sparse encoder
 * (src/diagnostics/encoderCodes.ts encodeSparse over src/sae/forward.ts), into FeatureStats. Memory is the
 * statistics plus one chunk of rows and its codes, whatever the file's size.
 *
 * Above a row cap (PassRows.maxRows: the setting saeWorkbench.featurePages.maxRows, the CLI's --page-rows)
 * the pass reads a seeded uniform sample of that many rows instead — the one sample definition,
 * src/io/rowSample.ts — and says so: density, mean, max and the histogram are then estimates from the
 * sample, and the top examples are the top within it. Sampled rows keep their row numbers in the file, so
 * token contexts and row labels are those of the same rows.
 *
 * The pass is a generator that yields after each chunk, so a caller can run it to the end at once (the
 * report, the CLI) or between event-loop turns while it answers pages from the statistics so far (the
 * panels' worker). Results are cached beside the SAE in `.feature-pass/<key>.safetensors`, the key a hash
 * of the SAE's weights and config, the pass's settings, the sample (its size and seed, when it is one) and
 * a fingerprint of the data file (its size, shape and a hash of sampled blocks of its bytes).
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { contentHash, sealConstant } from '../diagnostics/pool';
import { encodeSparse } from '../diagnostics/encoderCodes';
import { DTYPE_BYTES } from '../io/dtype';
import type { DType } from '../io/dtype';
import { describeSample, readRowsAt, sampleRowIndices } from '../io/rowSample';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { Tensor } from '../io/tensor';
import type { Sae } from '../sae/types';
import { activationRowSource } from './activations';
import { FeatureStats, GRID_BINS } from './featureStats';
import type { FeatureStatsShape } from './featureStats';

/** Bump when the statistics change meaning: older cache files are then ignored. */
const PASS_VERSION = 1;
export const DEFAULT_PASS: Omit<FeatureStatsShape, 'dSae'> = { topK: 20, perBin: 4, seed: 0 };

/**
 * Which rows the pass reads: every row (maxRows 0), above a cap of maxRows a uniform sample of that many
 * drawn from `seed`, or ('auto', the default) a cap set by the pass's work, resolveRowCap below.
 */
export interface PassRows {
  maxRows: number | 'auto';
  seed: number;
}

/**
 * The work the automatic cap allows: 16,384 rows of the large case (d_in 768, a 16,384-latent SAE),
 * in multiply-adds of the encoder. There the encoder is 12.6 M multiply-adds a row, so the whole of a
 * 1,000,000-row file is minutes of GEMM on two cores where one read of it takes about a second (from the
 * page cache); 16,384 rows are a few seconds, about 3x that read (docs/feature-pages.md has the figures).
 */
/** The automatic cap never samples fewer rows than this, however wide the SAE. */
export const AUTO_PASS_MIN_ROWS = 16384;
/** The large case's width: the SAE size `openPassSource` assumes when its caller does not say. */
const AUTO_PASS_LATENTS = 16384;
export const AUTO_PASS_WORK = AUTO_PASS_MIN_ROWS * 768 * AUTO_PASS_LATENTS;

/**
 * The row cap a pass uses: the given count, or for 'auto' as many rows as AUTO_PASS_WORK pays for at this
 * SAE's size (never fewer than AUTO_PASS_MIN_ROWS) — a small SAE reads every row of a large file, a wide one a
 * sample. 0 is every row.
 */
export function resolveRowCap(maxRows: PassRows['maxRows'], dIn: number, dSae: number): number {
  if (maxRows !== 'auto') return maxRows;
  return Math.max(AUTO_PASS_MIN_ROWS, Math.floor(AUTO_PASS_WORK / Math.max(1, dIn * dSae)));
}

export const DEFAULT_PASS_ROWS: PassRows = { maxRows: 'auto', seed: 0 };
/** Every row, whatever the file's size. */
export const ALL_PASS_ROWS: PassRows = { maxRows: 0, seed: 0 };

/**
 * A row cap as the user writes it (the CLI flag, the setting): a positive integer, 0 / "all" for every row,
 * or "auto" (the default: the cap the SAE's size pays for, resolveRowCap).
 */
export function parsePassRows(value: string | number, where: string): PassRows['maxRows'] {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (v === 'all') return 0;
  if (v === 'auto') return 'auto';
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new InputError(where, `the feature pages' row cap must be a whole number of rows, 0 or "all" (every row), or "auto", got ${JSON.stringify(value)}`);
  return n;
}

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
  /** The rows the pass reads when they are a uniform sample (ascending row numbers of the file), else undefined. */
  sample?: { indices: Int32Array; seed: number };
  /** The rows at these (ascending) row numbers, as float32. */
  readAt(indices: Int32Array): Float32Array;
  close(): void;
}

/** How many rows the pass over this source reads: the sample's size, else every row. */
export function passRowCount(src: PassSource): number {
  return src.sample ? src.sample.indices.length : src.rows;
}

/** The rows the pass over this source reads, in one line: "all 20,000 rows" or "a uniform sample of 16,384 of 1,000,000 rows (seed 0)". */
export function describePassRows(src: PassSource): string {
  return describeSample(src.rows, passRowCount(src), src.sample?.seed ?? 0);
}

/**
 * An activation .npy ([rows, d] or [sequences, context, d]), a .safetensors with one 2-D tensor, or a
 * capture folder (its shards read one after another). With more rows than the cap (`rows.maxRows`, 0: no
 * cap; 'auto': resolveRowCap for an SAE of `dSae` latents), the pass reads the uniform sample of that many
 * rows that `rows.seed` draws.
 */
export function openPassSource(path: string, rows: PassRows = DEFAULT_PASS_ROWS, dSae = AUTO_PASS_LATENTS): PassSource {
  const { source, seqLen } = activationRowSource(path);
  const { dIn } = source;
  const total = source.rows;
  if (total === 0) throw new InputError(path, 'the activation file has no rows');
  const files = source.parts ?? [source];
  const sizes = files.map((f) => {
    const need = f.dataStart + f.rows * dIn * DTYPE_BYTES[f.dtype];
    let size: number;
    try { size = statSync(f.path).size; } catch (e) { throw new InputError(f.path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    if (size < need) throw new InputError(f.path, `truncated: ${f.rows} rows of ${dIn} need ${need} bytes, the file has ${size}`);
    return size;
  });
  const cap = resolveRowCap(rows.maxRows, dIn, dSae);
  const sampled = cap > 0 && total > cap;
  return {
    path, rows: total, dIn, seqLen,
    sample: sampled ? { indices: sampleRowIndices(total, { rows: cap, seed: rows.seed }), seed: rows.seed } : undefined,
    read: (lo, hi) => readRowsAt(source, Int32Array.from({ length: hi - lo }, (_, t) => lo + t)),
    readAt: (indices) => readRowsAt(source, indices),
    fingerprint: () => {
      let h = contentHash(Float64Array.of(total, dIn, files.length));
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
 * The pass: yields the statistics after each chunk (rowsSeen + skippedNonFinite rows read so far). Rows
 * holding NaN or Inf are left out and counted. Over a sampled source it reads the sample's rows, and the
 * statistics name them by their row numbers in the file.
 */
export function* featurePassSteps(sae: Sae, src: PassSource, shape: Omit<FeatureStatsShape, 'dSae'> = DEFAULT_PASS, chunkRows = chunkRowsFor(sae)): Generator<FeatureStats, FeatureStats> {
  const { dIn, dSae } = sae.cfg;
  if (src.dIn !== dIn) throw new InputError(src.path, `activation width ${src.dIn} does not match the SAE's d_in ${dIn}`);
  const stats = new FeatureStats({ ...shape, dSae });
  // the pass only reads the SAE: the workers get its weights once, not hashed again for every chunk
  sealConstant(sae);
  const sample = src.sample?.indices, total = passRowCount(src);
  for (let lo = 0; lo < total; lo += chunkRows) {
    const hi = Math.min(total, lo + chunkRows);
    let x = sample ? src.readAt(sample.subarray(lo, hi)) : src.read(lo, hi);
    const rowOf = (r: number): number => (sample ? sample[lo + r]! : lo + r);
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
      stats.add(codes.rowPtr, codes.idx, codes.val, Int32Array.from(keep, rowOf));
    }
    stats.rowsSeen += keep.length;
    stats.skippedNonFinite += hi - lo - keep.length;
    if (hi < total) yield stats;
  }
  if (stats.rowsSeen === 0) throw new InputError(src.path, `none of the ${total} rows read is finite (all contain NaN or Inf)`);
  return stats;
}

/**
 * The cache file for this SAE + data + settings. A sampled pass's key holds the sample (its size and seed;
 * the file's row count is in the fingerprint), so a full pass is never read as a sample or a sample as the
 * full pass; a cap at or above the file's rows reads every row, the full pass's key.
 */
export function featurePassCachePath(saeDir: string, sae: Sae, src: PassSource, shape: Omit<FeatureStatsShape, 'dSae'> = DEFAULT_PASS): string {
  const { source: _source, ...cfg } = sae.cfg;
  const sample = src.sample ? { rows: src.sample.indices.length, seed: src.sample.seed } : undefined;
  const cfgHash = contentHash(new TextEncoder().encode(JSON.stringify({ cfg, shape, version: PASS_VERSION, grid: GRID_BINS, sample })));
  const key = `${contentHash(sae).toString(16)}-${cfgHash.toString(16)}-${src.fingerprint()}`;
  return join(saeDir, '.feature-pass', `${key}.safetensors`);
}

const FIELDS = ['count', 'sum', 'min', 'max', 'anchor', 'binCount', 'resRow', 'resVal', 'topRow', 'topVal', 'topSize'] as const;

function tensorOf(a: Float64Array | Float32Array | Int32Array): Tensor {
  const dtype: DType = a instanceof Float64Array ? 'F64' : a instanceof Float32Array ? 'F32' : 'I32';
  return { dtype, shape: [a.length], data: a };
}

export function writeFeatureStats(path: string, s: FeatureStats, about: { source: PassSource; activations: string }): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tensors = Object.fromEntries(FIELDS.map((f) => [f, tensorOf(s[f])]));
  writeSafetensors(path, tensors, {
    format: 'sae-workbench-feature-pass', version: String(PASS_VERSION), dSae: String(s.dSae), topK: String(s.topK), perBin: String(s.perBin), seed: String(s.seed),
    rowsSeen: String(s.rowsSeen), skippedNonFinite: String(s.skippedNonFinite), rows: String(about.source.rows), activations: about.activations,
    over: describePassRows(about.source),
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

/**
 * Runs the whole pass now (or reads it from the cache beside the SAE when `saeDir` is given), over the
 * rows `rows` chooses (default: every row up to the cap the SAE's size pays for, a uniform sample above it).
 */
export function featurePass(sae: Sae, activations: string, opts: { saeDir?: string; shape?: Omit<FeatureStatsShape, 'dSae'>; rows?: PassRows; onProgress?: (rowsDone: number, rows: number) => void } = {}): { stats: FeatureStats; source: PassSource; cached: boolean } {
  const source = openPassSource(activations, opts.rows, sae.cfg.dSae);
  const shape = opts.shape ?? DEFAULT_PASS;
  const cachePath = opts.saeDir ? featurePassCachePath(opts.saeDir, sae, source, shape) : undefined;
  const hit = cachePath ? readFeatureStats(cachePath) : undefined;
  if (hit) return { stats: hit, source, cached: true };
  const steps = featurePassSteps(sae, source, shape);
  let step = steps.next();
  while (!step.done) { opts.onProgress?.(step.value.rowsSeen + step.value.skippedNonFinite, passRowCount(source)); step = steps.next(); }
  if (cachePath) {
    try { writeFeatureStats(cachePath, step.value, { source, activations }); } catch { /* a folder we may not write to: no cache */ }
  }
  return { stats: step.value, source, cached: false };
}
