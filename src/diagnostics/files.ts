/**
 * Diagnostics from files: load the SAE, read the first rows of an activation file, encode a context sample,
 * count firings over every row, run every section. Shared by the CLI and the diagnostics worker.
 */
import { InputError } from '../errors';
import { loadSae } from '../formats';
import { readNpy } from '../io/npy';
import { toFloat32 } from '../io/tensor';
import { encode } from '../sae/forward';
import type { Sae } from '../sae/types';
import type { DiagnoseFilesRequest } from '../protocol/diagnosticsWorker';
import { buildContext } from './context';
import { runDiagnostics, SECTIONS } from './index';
import type { DiagnosticReport } from './index';
import { THRESHOLDS } from './thresholds';

/**
 * Reads the first `rows` activation rows. TODO(engine merge): switch to the streaming reader
 * (src/io/rowReader.ts) so that files larger than memory are sampled without reading them whole.
 */
export function readActivationRows(path: string, dIn: number, rows?: number): { x: Float32Array; n: number; total: number } {
  const t = readNpy(path);
  if (t.shape.length !== 2) throw new InputError(path, `expected a 2-D activation array [rows, d_in], got shape [${t.shape.join(', ')}]`);
  const [total, d] = t.shape as [number, number];
  if (d !== dIn) throw new InputError(path, `activations have d_in ${d} but the SAE expects d_in ${dIn}`);
  const n = Math.min(total, rows ?? total);
  if (n === 0) throw new InputError(path, 'the activation file has no rows');
  const all = toFloat32(t);
  const x = all.subarray(0, n * d);
  let bad = 0;
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) bad++;
  if (bad) throw new InputError(path, `${bad} non-finite values (NaN/Inf) in the first ${n} rows`);
  return { x, n, total };
}

/** Firing counts per latent over rows [from, n) of x, encoded in chunks (no codes kept). */
export function firingCounts(sae: Sae, x: Float32Array, from: number, n: number, chunk = 2048): Float64Array {
  const m = sae.cfg.dSae, d = sae.cfg.dIn;
  const counts = new Float64Array(m);
  for (let r0 = from; r0 < n; r0 += chunk) {
    const rows = Math.min(chunk, n - r0);
    const { codes } = encode(sae, x.subarray(r0 * d, (r0 + rows) * d), rows);
    for (let r = 0; r < rows; r++) {
      const o = r * m;
      for (let i = 0; i < m; i++) if (codes[o + i] > 0) counts[i]++;
    }
  }
  return counts;
}

export function diagnoseFiles(req: DiagnoseFilesRequest, onProgress?: (stage: string) => void): DiagnosticReport {
  for (const s of req.skip ?? []) if (!SECTIONS.some((sec) => sec.name === s)) throw new InputError('--skip', `unknown section '${s}' (known: ${SECTIONS.map((sec) => sec.name).join(', ')})`);
  onProgress?.('read');
  const sae = loadSae(req.saePath);
  if (sae.cfg.transcoder) throw new InputError(req.saePath, 'diagnose needs the target activations for a transcoder; only SAEs are supported so far');
  const { x, n } = readActivationRows(req.activationsPath, sae.cfg.dIn, req.rows);
  onProgress?.('encode');
  const ctxRows = Math.min(n, req.sampleRows ?? THRESHOLDS.sampleRows);
  const ctx = buildContext(sae, x, ctxRows, { lambdaE: req.lambdaE });
  const counts = Float64Array.from(ctx.firing, (p) => Math.round(p * ctxRows));
  if (n > ctxRows) {
    onProgress?.('firing');
    const more = firingCounts(sae, x, ctxRows, n);
    for (let i = 0; i < counts.length; i++) counts[i] += more[i];
  }
  return runDiagnostics(ctx, { firingCounts: counts, firingRows: n, exactRows: req.exactRows, skip: req.skip, onProgress });
}
