/**
 * Streaming rows of activation files that may be larger than memory: .npy and .safetensors holding one
 * 2-D float tensor (or a named one) of F32/F16/BF16/F64 rows. Rows come out as Float32 batches.
 *
 * Memory: the file is cut into chunks of whole rows; a window of chunks (as many as the budget allows) is
 * read with bounded fs reads, converted to f32, shuffled within the window, and served. Nothing else of
 * the file is held. Shuffling permutes the chunk order per epoch and the rows within a window, both from
 * the seed, so a position (epoch, window, offset) names the same rows on every run: that is what makes a
 * resumed training run see the same data as an uninterrupted one.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { openRegular } from './regular';
import { extname } from 'node:path';
import { seededRandom } from '../util/random';
import { InputError } from '../errors';
import { DTYPE_BYTES, f16ToNumber } from './dtype';
import type { DType } from './dtype';
import { readNpyHeader } from './npy';
import { readSafetensorsHeader } from './safetensors';
import { captureRowSource, isCapture } from './shards';

/** One 2-D float tensor inside a file. */
export interface RowSource {
  path: string;
  dtype: DType;
  rows: number;
  dIn: number;
  /** Absolute byte offset of row 0. */
  dataStart: number;
  /** A source made of several files' rows one after another (a capture's shards, src/io/shards.ts). */
  parts?: RowSource[];
}

const ROW_DTYPES: DType[] = ['F32', 'F16', 'BF16', 'F64'];

/**
 * `<file>.safetensors#<tensor>` → the file and the tensor (how one string names a tensor of a
 * multi-tensor file, as `<folder>#<site>` names a capture's site); any other path → itself.
 */
export function splitTensorPath(path: string): { path: string; tensor?: string } {
  const hash = path.lastIndexOf('#');
  if (hash > 0 && path.slice(0, hash).toLowerCase().endsWith('.safetensors') && hash < path.length - 1) return { path: path.slice(0, hash), tensor: path.slice(hash + 1) };
  return { path };
}

/** The one string that names a file's tensor (`<file>#<tensor>`; the file alone when no tensor is named). */
export function tensorPath(path: string, tensor?: string): string {
  return tensor ? `${path}#${tensor}` : path;
}

/**
 * Reads only the header of an activation file and describes its rows. A `.safetensors` path may name its
 * tensor (`<file>#<tensor>`, splitTensorPath); `tensorName`, when given, wins.
 */
export function openRowSource(pathOrRef: string, tensorName?: string): RowSource {
  if (isCapture(pathOrRef)) return captureRowSource(pathOrRef, tensorName);
  const ref = splitTensorPath(pathOrRef);
  const path = ref.path;
  tensorName ??= ref.tensor;
  const ext = extname(path).toLowerCase();
  let dtype: DType, shape: number[], dataStart: number;
  if (ext === '.npy') {
    const h = readNpyHeader(path);
    ({ dtype, shape, dataStart } = h);
    // a .npy holds one array, so a tensor name (meant for .safetensors inputs) does not apply
  } else if (ext === '.safetensors') {
    const h = readSafetensorsHeader(path);
    const twoD = [...h.entries.entries()].filter(([, e]) => e.shape.length === 2);
    let name = tensorName;
    if (!name) {
      if (twoD.length !== 1) throw new InputError(path, `expected one 2-D tensor, found ${twoD.length} (${twoD.map(([n]) => n).join(', ') || 'none'}); name one`);
      name = twoD[0]![0];
    }
    const e = h.entries.get(name);
    if (!e) throw new InputError(path, `no tensor named '${name}' (has: ${[...h.entries.keys()].join(', ')})`);
    dtype = e.dtype; shape = e.shape; dataStart = h.dataStart + e.begin;
  } else {
    throw new InputError(path, `unsupported activation file type '${ext || '(none)'}' (expected .npy or .safetensors)`);
  }
  if (shape.length !== 2) throw new InputError(path, `activations must be a 2-D array [tokens, d_in], got shape [${shape.join(', ')}]`);
  if (!ROW_DTYPES.includes(dtype)) throw new InputError(path, `activations must be float (F32, F16, BF16, F64), got ${dtype}`);
  const [rows, dIn] = shape as [number, number];
  if (rows === 0 || dIn === 0) throw new InputError(path, `activations are empty (shape [${rows}, ${dIn}])`);
  return { path, dtype, rows, dIn, dataStart };
}

export interface RowReaderOptions {
  /** Bytes the reader may hold (window of f32 rows + one raw chunk). Default 256 MB. */
  memoryBudget?: number;
  /** Shuffle chunk order per epoch and rows within a window. Default true. */
  shuffle?: boolean;
  seed?: number;
  /** NaN/Inf rows: skip and count them, or throw an InputError naming the row. Default 'skip'. */
  onNonFinite?: 'skip' | 'stop';
  /** Start again at the end of the data (a new epoch, new chunk order). Default true. */
  loop?: boolean;
  /** Rows per chunk (testing; default from a 4 MB raw chunk). */
  chunkRows?: number;
}

/** Where the reader is: enough to continue with the same rows after a restart. */
export interface RowReaderState {
  epoch: number;
  window: number;
  offset: number;
  /** Non-finite rows skipped so far (restored too, so counts survive a resume). */
  skipped: number;
}

interface Chunk { source: number; firstRow: number; rows: number }


function shuffleInPlace(a: Int32Array | number[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!; a[i] = a[j]!; a[j] = t;
  }
}

export class RowReader {
  readonly dIn: number;
  readonly totalRows: number;
  private readonly sources: RowSource[];
  private readonly fds: number[];
  private readonly chunks: Chunk[];
  private readonly chunksPerWindow: number;
  private readonly opts: Required<Omit<RowReaderOptions, 'chunkRows'>>;
  private readonly raw: Uint8Array;
  private readonly window: Float32Array;
  private order: Int32Array = new Int32Array(0);
  private windowRows = 0;
  private chunkOrder: Int32Array;
  private st: RowReaderState = { epoch: 0, window: -1, offset: 0, skipped: 0 };
  private loaded = false;

  constructor(sources: RowSource[], options: RowReaderOptions = {}) {
    if (sources.length === 0) throw new InputError('', 'no activation files given');
    sources = sources.flatMap((s) => s.parts ?? [s]);
    this.sources = sources;
    this.dIn = sources[0]!.dIn;
    for (const s of sources) if (s.dIn !== this.dIn) throw new InputError(s.path, `d_in ${s.dIn} differs from ${sources[0]!.path}'s ${this.dIn}`);
    this.opts = {
      memoryBudget: options.memoryBudget ?? 256 * 2 ** 20,
      shuffle: options.shuffle ?? true,
      seed: options.seed ?? 0,
      onNonFinite: options.onNonFinite ?? 'skip',
      loop: options.loop ?? true,
    };
    const maxRawRow = Math.max(...sources.map((s) => s.dIn * DTYPE_BYTES[s.dtype]));
    const chunkRows = options.chunkRows ?? Math.max(1, Math.floor((4 * 2 ** 20) / maxRawRow));
    const f32Chunk = chunkRows * this.dIn * 4;
    const rawChunk = chunkRows * maxRawRow;
    const forWindow = this.opts.memoryBudget - rawChunk;
    if (forWindow < f32Chunk) throw new InputError(sources[0]!.path, `memory budget ${this.opts.memoryBudget} bytes is below one chunk (${f32Chunk + rawChunk} bytes)`);
    this.chunks = [];
    sources.forEach((s, si) => {
      for (let r = 0; r < s.rows; r += chunkRows) this.chunks.push({ source: si, firstRow: r, rows: Math.min(chunkRows, s.rows - r) });
    });
    this.totalRows = sources.reduce((a, s) => a + s.rows, 0);
    this.chunksPerWindow = Math.max(1, Math.min(this.chunks.length, Math.floor(forWindow / f32Chunk)));
    this.raw = new Uint8Array(rawChunk);
    this.window = new Float32Array(this.chunksPerWindow * chunkRows * this.dIn);
    this.fds = sources.map((s) => openRegular(s.path));
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]!;
      const size = fstatSync(this.fds[i]!).size;
      if (s.dataStart + s.rows * s.dIn * DTYPE_BYTES[s.dtype] > size) throw new InputError(s.path, 'file is shorter than its header says (truncated?)');
    }
    this.chunkOrder = this.epochChunkOrder(0);
  }

  /** Bytes held by the reader's buffers. */
  get residentBytes(): number { return this.raw.byteLength + this.window.byteLength + this.order.byteLength; }
  get windows(): number { return Math.ceil(this.chunks.length / this.chunksPerWindow); }
  get skippedRows(): number { return this.st.skipped; }
  get epoch(): number { return this.st.epoch; }

  state(): RowReaderState { return { ...this.st, window: Math.max(this.st.window, 0) }; }

  /** Continues from a saved position (re-reads that window; the rows are the same by construction). */
  restore(s: RowReaderState): void {
    this.st = { ...s };
    this.chunkOrder = this.epochChunkOrder(s.epoch);
    this.loadWindow(s.window);
    this.st.offset = s.offset;
    this.st.skipped = s.skipped;
  }

  /**
   * Copies up to n rows into out (n × dIn floats). Returns the rows written: n, unless the data ended and
   * `loop` is off.
   */
  next(out: Float32Array, n: number): number {
    const d = this.dIn;
    let got = 0;
    while (got < n) {
      if (!this.loaded || this.st.offset >= this.windowRows) {
        if (!this.advanceWindow()) break;
        continue;
      }
      const take = Math.min(n - got, this.windowRows - this.st.offset);
      for (let t = 0; t < take; t++) {
        const src = this.order[this.st.offset + t]! * d;
        out.set(this.window.subarray(src, src + d), (got + t) * d);
      }
      got += take;
      this.st.offset += take;
    }
    return got;
  }

  close(): void {
    for (const fd of this.fds) try { closeSync(fd); } catch { /* closing twice is harmless */ }
    this.fds.length = 0;
  }

  private epochChunkOrder(epoch: number): Int32Array {
    const o = new Int32Array(this.chunks.length);
    for (let i = 0; i < o.length; i++) o[i] = i;
    if (this.opts.shuffle) shuffleInPlace(o, seededRandom((this.opts.seed * 1000003 + epoch * 7919) >>> 0));
    return o;
  }

  private advanceWindow(): boolean {
    let w = this.loaded ? this.st.window + 1 : Math.max(this.st.window, 0);
    if (w >= this.windows) {
      if (!this.opts.loop) return false;
      this.st.epoch++;
      this.chunkOrder = this.epochChunkOrder(this.st.epoch);
      w = 0;
    }
    this.loadWindow(w);
    return true;
  }

  private loadWindow(w: number): void {
    const d = this.dIn;
    let rows = 0;
    let skipped = 0;
    const end = Math.min(this.chunks.length, (w + 1) * this.chunksPerWindow);
    for (let c = w * this.chunksPerWindow; c < end; c++) {
      const chunk = this.chunks[this.chunkOrder[c]!]!;
      const src = this.sources[chunk.source]!;
      const rowBytes = d * DTYPE_BYTES[src.dtype];
      const bytes = chunk.rows * rowBytes;
      const pos = src.dataStart + chunk.firstRow * rowBytes;
      let got = 0;
      while (got < bytes) {
        const r = readSync(this.fds[chunk.source]!, this.raw, got, bytes - got, pos + got);
        if (r === 0) throw new InputError(src.path, `unexpected end of file at byte ${pos + got}`);
        got += r;
      }
      for (let r = 0; r < chunk.rows; r++) {
        const dst = this.window.subarray(rows * d, rows * d + d);
        decodeRow(src.dtype, this.raw, r * rowBytes, dst);
        // x*0 is 0 for finite x and NaN for NaN/±Inf, so one sum tests the whole row
        let probe = 0;
        for (let j = 0; j < d; j++) probe += dst[j]! * 0;
        if (probe === 0) rows++;
        else if (this.opts.onNonFinite === 'stop') {
          throw new InputError(src.path, `row ${chunk.firstRow + r} contains NaN or Inf (use the skip option to drop such rows)`);
        } else skipped++;
      }
    }
    this.windowRows = rows;
    if (this.order.length < rows) this.order = new Int32Array(this.window.length / d);
    for (let i = 0; i < rows; i++) this.order[i] = i;
    if (this.opts.shuffle) shuffleInPlace(this.order.subarray(0, rows), seededRandom((this.opts.seed * 2654435761 + this.st.epoch * 40503 + w * 97 + 1) >>> 0));
    // Counting happens once per window visit; a restore re-visits the same window, so it keeps the saved count.
    this.st.skipped += skipped;
    this.st.window = w;
    this.st.offset = 0;
    this.loaded = true;
    if (rows === 0 && this.chunks.length <= this.chunksPerWindow && skipped > 0) {
      throw new InputError(src0(this.sources), 'every row contains NaN or Inf');
    }
  }
}

function src0(s: RowSource[]): string { return s.map((x) => x.path).join(', '); }

/** Converts one raw row at byte offset `at` of `raw` into dst (f32). */
function decodeRow(dtype: DType, raw: Uint8Array, at: number, dst: Float32Array): void {
  const d = dst.length;
  if (dtype === 'F32') {
    dst.set(new Float32Array(raw.buffer, raw.byteOffset + at, d));
  } else if (dtype === 'F16' || dtype === 'BF16') {
    const u = new Uint16Array(raw.buffer, raw.byteOffset + at, d);
    if (dtype === 'BF16') {
      const bits = new Uint32Array(dst.buffer, dst.byteOffset, d);
      for (let j = 0; j < d; j++) bits[j] = u[j]! << 16;
    } else {
      for (let j = 0; j < d; j++) dst[j] = F16_TABLE[u[j]!]!;
    }
  } else {
    const f = new Float64Array(raw.buffer, raw.byteOffset + at, d);
    for (let j = 0; j < d; j++) dst[j] = f[j]!;
  }
}

/** All 65536 half values, built once (256 KB): a table lookup beats bit arithmetic per element. */
const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f16ToNumber(i);
  return t;
})();

/** Opens one or more activation files as one row stream. */
export function openRowReader(paths: string[], options: RowReaderOptions & { tensorName?: string } = {}): RowReader {
  return new RowReader(paths.map((p) => openRowSource(p, options.tensorName)), options);
}
