/**
 * The one definition of "the rows an analysis was measured on": a uniform sample without replacement,
 * drawn from a seed, over the whole file — never its first rows. Every panel, the report, `diagnose` and
 * `tree` take their rows from here, so the same SAE on the same data shows the same figures everywhere,
 * and each says what it was measured on with `describeSample`.
 *
 * Why uniform and not the first rows: activation files are often stored in an order (by document, by
 * frequency, by layer sweep); the first few thousand rows of such a file can make latents look dead or
 * dense that are neither on the whole set.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { seededRandom } from '../util/random';
import { DTYPE_BYTES } from './dtype';
import { toFloat32, viewAs } from './tensor';
import type { RowSource } from './rowReader';

export interface RowSampleSpec {
  /** How many rows at most; a file with fewer rows is taken whole. */
  rows: number;
  seed: number;
}

/** The sample every panel and report uses unless the user asks for another size. */
export const DEFAULT_ROW_SAMPLE: RowSampleSpec = { rows: 4096, seed: 0 };

/**
 * Indices of a uniform sample of min(spec.rows, totalRows) distinct rows of [0, totalRows), sorted
 * ascending, identical for the same (totalRows, rows, seed). Floyd's algorithm: O(rows) draws whatever
 * the file's size.
 */
export function sampleRowIndices(totalRows: number, spec: RowSampleSpec): Int32Array {
  if (!Number.isInteger(totalRows) || totalRows < 0) throw new RangeError(`totalRows must be a non-negative integer, got ${totalRows}`);
  if (!Number.isInteger(spec.rows) || spec.rows < 0) throw new RangeError(`sample rows must be a non-negative integer, got ${spec.rows}`);
  if (totalRows > 2 ** 31 - 1) throw new RangeError(`files of more than 2^31 - 1 rows are not supported (got ${totalRows})`);
  const take = Math.min(spec.rows, totalRows);
  if (take === totalRows) return Int32Array.from({ length: totalRows }, (_, i) => i);
  const rand = seededRandom(spec.seed);
  const chosen = new Set<number>();
  for (let j = totalRows - take; j < totalRows; j++) {
    const t = Math.floor(rand() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from(chosen).sort();
}

/** One line naming the sample, for panels, the report and the CLI. */
export function describeSample(totalRows: number, taken: number, seed: number): string {
  const n = (v: number) => v.toLocaleString('en-US');
  if (taken >= totalRows) return `all ${n(totalRows)} rows`;
  return `a uniform sample of ${n(taken)} of ${n(totalRows)} rows (seed ${seed})`;
}

/**
 * Reads the given rows (sorted ascending) of a row source as float32, [indices.length, dIn]. Adjacent
 * indices are read in one call; only the bytes of the chosen rows are read.
 */
export function readRowsAt(source: RowSource, indices: Int32Array): Float32Array {
  const d = source.dIn;
  const rowBytes = d * DTYPE_BYTES[source.dtype];
  const out = new Float32Array(indices.length * d);
  const maxRun = Math.max(1, Math.floor((8 * 1024 * 1024) / rowBytes));
  const fd = openSync(source.path, 'r');
  try {
    let i = 0;
    while (i < indices.length) {
      const first = indices[i]!;
      if (first < 0 || first >= source.rows) throw new RangeError(`row ${first} is outside [0, ${source.rows}) of ${source.path}`);
      let run = 1;
      while (i + run < indices.length && run < maxRun && indices[i + run] === first + run) run++;
      // a fresh buffer per run keeps the typed view aligned (viewAs copies unaligned bytes)
      const buf = new Uint8Array(run * rowBytes);
      const pos = source.dataStart + first * rowBytes;
      let got = 0;
      while (got < buf.length) {
        const r = readSync(fd, buf, got, buf.length - got, pos + got);
        if (r === 0) throw new RangeError(`${source.path} ends before row ${first + run - 1}`);
        got += r;
      }
      out.set(toFloat32({ dtype: source.dtype, shape: [run, d], data: viewAs(source.dtype, buf) }), i * d);
      i += run;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
