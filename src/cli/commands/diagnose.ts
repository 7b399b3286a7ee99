/**
 * `sae-workbench diagnose --sae DIR --activations FILE`: the optimality and structure diagnostics of
 * THEORY.md §3–§5 on a sample of activations; a readable summary (one sentence per finding, with why) or
 * one JSON document. The context sample is the first min(rows, 16384) rows; firing rates use all --rows.
 */
import type { Command } from 'commander';
import { loadSae } from '../../formats';
import { readNpy } from '../../io/npy';
import { toFloat32 } from '../../io/tensor';
import { encode } from '../../sae/forward';
import type { Sae } from '../../sae/types';
import { buildContext } from '../../diagnostics/context';
import { runDiagnostics, SECTIONS } from '../../diagnostics';
import type { DiagnosticReport } from '../../diagnostics';
import { THRESHOLDS } from '../../diagnostics/thresholds';
import { action, emit, globals, InputError, intOption, numberOption } from '../common';

interface DiagnoseOptions {
  sae: string;
  activations: string;
  rows?: number;
  sampleRows?: number;
  exactRows?: number;
  lambdaE?: number;
  skip?: string;
}

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

const f = (v: unknown, digits = 3): string => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : 'n/a');

export function formatDiagnostics(r: DiagnosticReport): string {
  const lines: string[] = [];
  lines.push(`${r.sae.transcoder ? 'transcoder' : 'SAE'} ${r.sae.activation}, d_in ${r.sae.dIn}, d_sae ${r.sae.dSae} (${r.sae.codeKind === 'l1' ? 'L1' : 'L0-type'} codes)`);
  lines.push(`rows: ${r.rows.context} for the diagnostics, ${r.rows.exact} for exact codes, ${r.rows.firing} for firing rates`);
  lines.push(`λ_e = ${f(r.lambdaE.value)} (${r.lambdaE.source}; estimate from the codes ${f(r.lambdaE.estimate)})${r.lambdaE.reason ? ` — ${r.lambdaE.reason}` : ''}`);
  lines.push('');
  lines.push('Findings:');
  if (r.findings.length === 0) lines.push('  (none)');
  for (const fd of r.findings) lines.push(`  [${fd.severity}] ${fd.message}`);
  lines.push('');
  lines.push('Not computed:');
  let any = false;
  for (const [name, sec] of Object.entries(r.sections)) {
    const reasons = (sec as { reason?: Record<string, string> }).reason ?? {};
    for (const [k, v] of Object.entries(reasons)) { lines.push(`  ${name}.${k}: ${v}`); any = true; }
  }
  for (const [k, v] of Object.entries(r.reason)) { lines.push(`  ${k}: ${v}`); any = true; }
  if (!any) lines.push('  (everything was computed)');
  lines.push('');
  lines.push(`time per section (s): ${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  return lines.join('\n');
}

export function registerDiagnose(program: Command): void {
  program
    .command('diagnose')
    .description('optimality and structure diagnostics (KKT, stationarity, identity, amortisation, dead/dense, antipodal pairs, width gap) of an SAE on activations')
    .requiredOption('--sae <dir>', 'SAE folder (SAELens v6)')
    .requiredOption('--activations <file>', 'activations .npy [rows, d_in]')
    .option('--rows <n>', 'rows to read from the start of the file (default: all)', intOption('rows', 1))
    .option('--sample-rows <n>', `rows for the per-atom statistics (default ${THRESHOLDS.sampleRows})`, intOption('sample-rows', 1))
    .option('--exact-rows <n>', `rows for exact codes a* (default ${THRESHOLDS.exactRows})`, intOption('exact-rows', 1))
    .option('--lambda-e <x>', 'effective threshold λ_e (overrides the stored value)', numberOption('lambda-e', 0))
    .option('--skip <sections>', `comma-separated sections to skip (${SECTIONS.map((s) => s.name).join(', ')})`)
    .action(action((opts: DiagnoseOptions, cmd: Command) => {
      const g = globals(cmd);
      const sae = loadSae(opts.sae);
      const { x, n } = readActivationRows(opts.activations, sae.cfg.dIn, opts.rows);
      if (sae.cfg.transcoder) throw new InputError(opts.sae, 'diagnose needs the target activations for a transcoder; only SAEs are supported by this command so far');
      const ctxRows = Math.min(n, opts.sampleRows ?? THRESHOLDS.sampleRows);
      const ctx = buildContext(sae, x, ctxRows, { lambdaE: opts.lambdaE });
      const counts = Float64Array.from(ctx.firing, (p) => Math.round(p * ctxRows));
      if (n > ctxRows) {
        const more = firingCounts(sae, x, ctxRows, n);
        for (let i = 0; i < counts.length; i++) counts[i] += more[i];
      }
      const skip = opts.skip ? opts.skip.split(',').map((s) => s.trim()).filter(Boolean) : [];
      for (const s of skip) if (!SECTIONS.some((sec) => sec.name === s)) throw new InputError('--skip', `unknown section '${s}' (known: ${SECTIONS.map((sec) => sec.name).join(', ')})`);
      const report = runDiagnostics(ctx, { firingCounts: counts, firingRows: n, exactRows: opts.exactRows, skip, onProgress: g.json ? undefined : (s) => process.stderr.write(`diagnose: ${s}…\n`) });
      emit(g, report, () => formatDiagnostics(report));
    }));
}
