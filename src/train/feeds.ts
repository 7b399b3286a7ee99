/**
 * The rows a run trains on: one reader over the activation files for SAEs and Matryoshka, row-aligned
 * readers for the family's several streams (a transcoder's input and target, a crosscoder's L sources,
 * concatenated per row). Which kind a run is, and its model shape, are ./options.ts.
 */
import { InputError } from '../errors';
import { DTYPE_BYTES } from '../io/dtype';
import { RowReader, openRowReader, openRowSource } from '../io/rowReader';
import type { RowReaderState } from '../io/rowReader';
import type { FamilyKind } from './options';

/**
 * Rows for the step: input rows x [n, d_in] and, for a transcoder, target rows y [n, d_out] from another
 * file, row-aligned. A crosscoder's L sources arrive as one input row of width L·d (source l at l·d).
 */
export interface RowFeed {
  readonly dIn: number;
  readonly dOut: number;
  readonly totalRows: number;
  readonly skippedRows: number;
  /** Number of sources concatenated in an input row (crosscoder L; 1 otherwise). */
  readonly sources: number;
  next(x: Float32Array, y: Float32Array | undefined, n: number): number;
  state(): RowReaderState[];
  restore(s: RowReaderState[]): void;
  close(): void;
}

export interface FeedOptions {
  tensorName?: string; seed: number; memoryBudget: number; onNonFinite: 'skip' | 'stop'; loop?: boolean;
  /** Rows per chunk (tests; default from a 4 MB raw chunk of the widest file). */
  chunkRows?: number;
}

/** One reader over one or more files (their rows one after another): plain SAEs and Matryoshka. */
function plainFeed(paths: string[], o: FeedOptions): RowFeed {
  const r = openRowReader(paths, { tensorName: o.tensorName, seed: o.seed, memoryBudget: o.memoryBudget, onNonFinite: o.onNonFinite, loop: o.loop });
  return {
    dIn: r.dIn, dOut: r.dIn, totalRows: r.totalRows, sources: 1,
    get skippedRows() { return r.skippedRows; },
    next: (x, _y, n) => r.next(x, n),
    state: () => [r.state()],
    restore: (s) => r.restore(s[0]!),
    close: () => r.close(),
  };
}

/**
 * Readers over files of equal row counts that serve the same rows in the same order: the same seed, the
 * same rows per chunk (from the widest row) and the same chunks per window (each reader's budget is sized
 * for it). A skipped non-finite row would shift one stream against the others, so such rows stop the run.
 */
function alignedReaders(paths: string[], o: FeedOptions): RowReader[] {
  const sources = paths.map((p) => openRowSource(p, o.tensorName));
  const rows = sources[0]!.rows;
  for (const s of sources) if (s.rows !== rows) throw new InputError(s.path, `${s.rows} rows, but ${sources[0]!.path} has ${rows}: the files must be row-aligned`);
  const rawRow = sources.map((s) => s.dIn * DTYPE_BYTES[s.dtype]);
  const chunkRows = o.chunkRows ?? Math.max(1, Math.floor((4 * 2 ** 20) / Math.max(...rawRow)));
  const raw = rawRow.map((b) => chunkRows * b), f32 = sources.map((s) => chunkRows * s.dIn * 4);
  const sum = (a: number[]): number => a.reduce((p, q) => p + q, 0);
  const perWindow = Math.max(1, Math.floor((o.memoryBudget - sum(raw)) / sum(f32)));
  return sources.map((s, i) => new RowReader([s], { seed: o.seed, chunkRows, memoryBudget: raw[i]! + perWindow * f32[i]!, onNonFinite: 'stop', loop: o.loop }));
}

/** Transcoder: input rows from `input`, target rows from `target`. */
export function transcoderFeed(input: string[], target: string, o: FeedOptions): RowFeed {
  if (input.length !== 1) throw new InputError('--activations', `a transcoder reads one input file, got ${input.length}`);
  const [a, b] = alignedReaders([input[0]!, target], o);
  return {
    dIn: a!.dIn, dOut: b!.dIn, totalRows: a!.totalRows, sources: 1, skippedRows: 0,
    next: (x, y, n) => {
      const got = a!.next(x, n);
      if (b!.next(y!, n) !== got) throw new InputError(target, 'the target stream fell out of step with the input');
      return got;
    },
    state: () => [a!.state(), b!.state()],
    restore: (s) => { a!.restore(s[0]!); b!.restore(s[1]!); },
    close: () => { a!.close(); b!.close(); },
  };
}

/** Crosscoder: L sources of one width d, concatenated per row into [n, L·d]. */
export function crosscoderFeed(paths: string[], o: FeedOptions): RowFeed {
  if (paths.length < 2) throw new InputError('--activations', `a crosscoder needs at least 2 source files (one per layer or model), got ${paths.length}`);
  const readers = alignedReaders(paths, o);
  const d = readers[0]!.dIn, L = readers.length;
  readers.forEach((r, l) => { if (r.dIn !== d) throw new InputError(paths[l]!, `width ${r.dIn}, but ${paths[0]} has ${d}: the crosscoder format needs one d_in for all sources`); });
  let part = new Float32Array(0);
  return {
    dIn: L * d, dOut: L * d, totalRows: readers[0]!.totalRows, sources: L, skippedRows: 0,
    next: (x, _y, n) => {
      if (part.length < n * d) part = new Float32Array(n * d);
      let got = -1;
      readers.forEach((r, l) => {
        const k = r.next(part, n);
        if (got >= 0 && k !== got) throw new InputError(paths[l]!, 'this source fell out of step with the others');
        got = k;
        for (let row = 0; row < k; row++) x.set(part.subarray(row * d, (row + 1) * d), row * L * d + l * d);
      });
      return got;
    },
    state: () => readers.map((r) => r.state()),
    restore: (s) => readers.forEach((r, l) => r.restore(s[l]!)),
    close: () => readers.forEach((r) => r.close()),
  };
}

export function openFeed(kind: FamilyKind | undefined, activations: string[], target: string | undefined, o: FeedOptions): RowFeed {
  if (kind === 'transcoder') return transcoderFeed(activations, target!, o);
  if (kind === 'crosscoder') return crosscoderFeed(activations, o);
  if (kind === 'matryoshka' && activations.length !== 1) throw new InputError('--activations', `give one activation file for a Matryoshka SAE, got ${activations.length}`);
  return plainFeed(activations, o);
}
