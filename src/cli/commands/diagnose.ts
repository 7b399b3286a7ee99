/**
 * `sae-workbench diagnose --sae DIR --activations FILE`: the optimality and structure diagnostics of
 * THEORY.md §3–§5 on a sample of activations; a readable summary (one sentence per finding, with why) or
 * one JSON document. The context sample is the first min(rows, 16384) rows; firing rates use all --rows.
 */
import type { Command } from 'commander';
import { SECTIONS } from '../../diagnostics';
import type { DiagnosticReport } from '../../diagnostics';
import { diagnoseFiles } from '../../diagnostics/files';
import { THRESHOLDS } from '../../diagnostics/thresholds';
import { action, emit, globals, intOption, numberOption } from '../common';

interface DiagnoseOptions {
  sae: string;
  activations: string;
  rows?: number;
  sampleRows?: number;
  exactRows?: number;
  lambdaE?: number;
  skip?: string;
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
      const skip = opts.skip ? opts.skip.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      const report = diagnoseFiles({ saePath: opts.sae, activationsPath: opts.activations, rows: opts.rows, sampleRows: opts.sampleRows, exactRows: opts.exactRows, lambdaE: opts.lambdaE, skip },
        g.json ? undefined : (s) => process.stderr.write(`diagnose: ${s}…\n`));
      emit(g, report, () => formatDiagnostics(report));
    }));
}
