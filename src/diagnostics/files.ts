/**
 * Diagnostics from files: load the SAE, read the analysis sample of an activation file (the one uniform
 * seeded row sample of src/io/rowSample.ts, as `tree` and the report take it), encode it, count firings over
 * every row, run every section. Shared by the CLI and the diagnostics worker.
 */
import { InputError } from '../errors';
import { loadSae } from '../formats';
import { openRowReader, openRowSource } from '../io/rowReader';
import { describeSample, readRowsAt, sampleRowIndices } from '../io/rowSample';
import type { RowReader } from '../io/rowReader';
import type { Sae } from '../sae/types';
import { buildContext } from './context';
import type { DiagnosticContext } from './context';
import { countFirings } from './encoderCodes';
import { diagnosticsPool } from './pool';
import { runDiagnostics, SECTIONS } from './index';
import type { DiagnosticReport } from './index';
import { THRESHOLDS } from './thresholds';

/**
 * Opens activation rows in file order (.npy or .safetensors, any float dtype) through the streaming reader,
 * so only what is asked for is ever in memory. `dIn` (when given) must match; NaN/Inf stops with the row.
 */
/** What the diagnose command and the diagnostics worker (src/protocol/diagnosticsWorker.ts) ask for. */
export interface DiagnoseFilesRequest {
  saePath: string;
  activationsPath: string;
  /** Rows read from the start of the activation file (default all). */
  rows?: number;
  sampleRows?: number;
  exactRows?: number;
  lambdaE?: number;
  skip?: string[];
}

export function openActivationRows(path: string, dIn?: number): RowReader {
  const reader = openRowReader([path], { shuffle: false, loop: false, onNonFinite: 'stop' });
  if (dIn !== undefined && reader.dIn !== dIn) { reader.close(); throw new InputError(path, `activations have d_in ${reader.dIn} but the SAE expects d_in ${dIn}`); }
  return reader;
}

/** The first `rows` activation rows (all when absent) as Float32, read through the streaming reader. */
export function readActivationRows(path: string, dIn?: number, rows?: number): { x: Float32Array; n: number; d: number; total: number } {
  const reader = openActivationRows(path, dIn);
  try {
    const total = reader.totalRows, d = reader.dIn;
    const want = Math.min(total, rows ?? total);
    const x = new Float32Array(want * d);
    const n = reader.next(x, want);
    return { x: n === want ? x : x.subarray(0, n * d), n, d, total };
  } finally {
    reader.close();
  }
}

/** The analysis sample `diagnose`, `tree` and the report share: docs/theory.md §B4's N rows, seed 0. */
export const ANALYSIS_SAMPLE = { rows: THRESHOLDS.sampleRows, seed: 0 } as const;

export interface SampledRows { x: Float32Array; n: number; d: number; total: number; seed: number; description: string }

/**
 * A uniform seeded sample of `rows` activation rows (src/io/rowSample.ts; the whole file when it has fewer),
 * as Float32 [n, d], with the line that states it. A NaN/Inf row stops with its file row, as diagnose does.
 */
export function readSampledRows(path: string, dIn?: number, rows: number = ANALYSIS_SAMPLE.rows, seed: number = ANALYSIS_SAMPLE.seed): SampledRows {
  const source = openRowSource(path);
  if (dIn !== undefined && source.dIn !== dIn) throw new InputError(path, `activations have d_in ${source.dIn} but the SAE expects d_in ${dIn}`);
  const idx = sampleRowIndices(source.rows, { rows, seed });
  const d = source.dIn, x = readRowsAt(source, idx);
  for (let r = 0; r < idx.length; r++) for (let j = 0; j < d; j++) if (!Number.isFinite(x[r * d + j]!)) throw new InputError(path, `row ${idx[r]} holds NaN or Inf`);
  return { x, n: idx.length, d, total: source.rows, seed, description: describeSample(source.rows, idx.length, seed) };
}

/** Anything that hands out the next rows (a RowReader, or rows in memory via rowsFrom). */
export interface RowStream { next(out: Float32Array, n: number): number }

/** Rows [from, to) of an in-memory [rows, d] array as a RowStream. */
export function rowsFrom(x: Float32Array, d: number, from: number, to: number): RowStream {
  let at = from;
  return { next(out, n) { const k = Math.min(n, to - at); out.set(x.subarray(at * d, (at + k) * d)); at += k; return k; } };
}

/**
 * Firing counts (ã_i > 0) per latent over the next `rows` rows of a stream, read in blocks and encoded by
 * the one sparse encoder with the block's rows split across the diagnostics' threads (no codes kept).
 */
export function firingCounts(sae: Sae, reader: RowStream, rows: number, block = 8192): Float64Array {
  const m = sae.cfg.dSae, d = sae.cfg.dIn;
  const counts = new Float64Array(m);
  const buf = new Float32Array(Math.min(block, Math.max(rows, 1)) * d);
  for (let done = 0; done < rows;) {
    const got = reader.next(buf, Math.min(block, rows - done));
    if (got === 0) break;
    const c = countFirings(sae, buf.subarray(0, got * d), got);
    for (let i = 0; i < m; i++) counts[i] += c[i];
    done += got;
  }
  return counts;
}

export function diagnoseFiles(req: DiagnoseFilesRequest, onProgress?: (stage: string) => void): DiagnosticReport {
  for (const s of req.skip ?? []) if (!SECTIONS.some((sec) => sec.name === s)) throw new InputError('--skip', `unknown section '${s}' (known: ${SECTIONS.map((sec) => sec.name).join(', ')})`);
  onProgress?.('read');
  // the pool's workers load while the SAE and the rows are read
  diagnosticsPool();
  const sae = loadSae(req.saePath);
  if (sae.cfg.transcoder) throw new InputError(req.saePath, 'diagnose needs the target activations for a transcoder; only SAEs are supported so far');
  return diagnoseSample(sae, req, onProgress).report;
}

/**
 * `diagnose` on a loaded SAE: the context is the analysis sample (the same rows `tree` and the report take),
 * firing rates count the first `req.rows` rows (default all). Returns the context too, for the report.
 */
export function diagnoseSample(sae: Sae, req: Omit<DiagnoseFilesRequest, 'saePath'>, onProgress?: (stage: string) => void): { report: DiagnosticReport; ctx: DiagnosticContext } {
  const sample = readSampledRows(req.activationsPath, sae.cfg.dIn, req.sampleRows ?? ANALYSIS_SAMPLE.rows);
  const reader = openActivationRows(req.activationsPath, sae.cfg.dIn);
  try {
    const n = Math.min(reader.totalRows, req.rows ?? reader.totalRows);
    onProgress?.('encode');
    const ctx = buildContext(sae, sample.x, sample.n, { lambdaE: req.lambdaE });
    onProgress?.('firing');
    const counts = firingCounts(sae, reader, n);
    const report = runDiagnostics(ctx, { firingCounts: counts, firingRows: n, exactRows: req.exactRows, skip: req.skip, onProgress });
    report.sample = sample.description;
    return { report, ctx };
  } finally {
    reader.close();
  }
}
