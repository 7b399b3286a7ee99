/**
 * Diagnostics from files: load the SAE, read the first rows of an activation file, encode a context sample,
 * count firings over every row, run every section. Shared by the CLI and the diagnostics worker.
 */
import { InputError } from '../errors';
import { loadSae } from '../formats';
import { openRowReader } from '../io/rowReader';
import type { RowReader } from '../io/rowReader';
import type { Sae } from '../sae/types';
import type { DiagnoseFilesRequest } from '../protocol/diagnosticsWorker';
import { buildContext } from './context';
import { countFirings } from './sparseCodes';
import { diagnosticsPool } from './pool';
import { runDiagnostics, SECTIONS } from './index';
import type { DiagnosticReport } from './index';
import { THRESHOLDS } from './thresholds';

/**
 * Opens activation rows in file order (.npy or .safetensors, any float dtype) through the streaming reader,
 * so only what is asked for is ever in memory. `dIn` (when given) must match; NaN/Inf stops with the row.
 */
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
  // The context sample is held; the rest of --rows only streams through for the firing counts.
  const reader = openActivationRows(req.activationsPath, sae.cfg.dIn);
  try {
    const n = Math.min(reader.totalRows, req.rows ?? reader.totalRows);
    const ctxRows = Math.min(n, req.sampleRows ?? THRESHOLDS.sampleRows);
    const x = new Float32Array(ctxRows * sae.cfg.dIn);
    reader.next(x, ctxRows);
    onProgress?.('encode');
    const ctx = buildContext(sae, x, ctxRows, { lambdaE: req.lambdaE });
    const counts = Float64Array.from(ctx.firing, (p) => Math.round(p * ctxRows));
    if (n > ctxRows) {
      onProgress?.('firing');
      const more = firingCounts(sae, reader, n - ctxRows);
      for (let i = 0; i < counts.length; i++) counts[i] += more[i];
    }
    return runDiagnostics(ctx, { firingCounts: counts, firingRows: n, exactRows: req.exactRows, skip: req.skip, onProgress });
  } finally {
    reader.close();
  }
}
