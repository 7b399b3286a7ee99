/**
 * `sae-workbench diagnose --sae DIR --activations FILE`: the optimality and structure diagnostics of
 * docs/theory.md §B–§5 on a sample of activations; a readable summary (one sentence per finding, with why) or
 * one JSON document. The context sample is a uniform seeded sample of 16384 rows (src/io/rowSample.ts, the
 * same rows `tree` and the report use); firing rates count the first --rows rows (default: all).
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

const int = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(Math.round(v)) : 'n/a');
/** A value with its bootstrap SE when there is one: "0.574 ± 0.021". */
const pm = (v: unknown, se: unknown): string => (typeof se === 'number' && Number.isFinite(se) ? `${f(v)} ± ${f(se, 2)}` : f(v));

type Loose = Record<string, unknown> | undefined;
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((acc, k) => (acc && typeof acc === 'object' ? (acc as Record<string, unknown>)[k] : undefined), o);

/** One line per section with its headline numbers (n/a where the section gave a reason instead). */
function keyFigures(r: DiagnosticReport): string[] {
  const s = r.sections as Record<string, Loose>;
  const out: string[] = [];
  for (const src of ['sae', 'exact'] as const) {
    const k = at(s.kkt, src);
    if (!k) continue;
    const sum = at(k, 'summary');
    const unresolved = Number(at(sum, 'unresolved'));
    out.push(`${src === 'sae' ? 'SAE codes  ' : 'exact codes'}: KKT_on median ${pm(at(sum, 'kktOn', 'median'), at(sum, 'kktOn', 'se', 'median'))}, KKT_off median ${pm(at(sum, 'kktOff', 'median'), at(sum, 'kktOff', 'se', 'median'))}${at(sum, 'codeQuality') !== 'n/a' && at(sum, 'codeQuality') !== undefined ? ` (${String(at(sum, 'codeQuality'))}${at(k, 'kind') === 'l0' ? ', on the threshold scale θ' : ''})` : ''}, STAT median ${pm(at(sum, 'stat', 'median'), at(sum, 'stat', 'se', 'median'))} (p90 ${f(at(sum, 'stat', 'p90'))}; noise floor SE median ${f(at(sum, 'statSE', 'median'))} at ${int(at(sum, 'firings', 'median'))} firings per atom in ${int(at(k, 'rows'))} rows), non-stationary ${pm(100 * Number(at(sum, 'fractionFlagged')), 100 * Number(at(k, 'bootstrap', 'fractionFlaggedSE')))}%${unresolved > 0 ? `, ${unresolved} undecided (about ${int(at(sum, 'rowsToResolve'))} rows would decide them)` : ''}`);
  }
  const id = s.identity;
  if (at(id, 'exact') || at(id, 'sae')) out.push(`identity |ID| p90: SAE codes ${f(at(id, 'sae', 'p90Abs'))}, exact codes ${f(at(id, 'exact', 'p90Abs'))}`);
  const am = s.amortisation;
  if (at(am, 'objectiveGap') !== undefined) out.push(`amortisation: objective gap ${f(100 * Number(at(am, 'objectiveGap')))}%, support Jaccard ${f(at(am, 'meanJaccard'))}, encoder-dead ${(at(am, 'encoderDead') as unknown[]).length}, dictionary-dead ${(at(am, 'dictionaryDead') as unknown[]).length}`);
  const dd = s.deadDense;
  if (at(dd, 'dead')) out.push(`latents: ${(at(dd, 'dead') as unknown[]).length} dead, ${(at(dd, 'dense') as unknown[]).length} dense (> 10%), ${(at(dd, 'ultraDense') as unknown[]).length} ultra-dense (> 50%)`);
  const ap = s.antipodal;
  if (at(ap, 'dense')) out.push(`antipodal pairs: ${(at(ap, 'dense') as unknown[]).length} dense on ${((at(ap, 'denseAxes') as unknown[] | undefined) ?? []).length} axes, ${(at(ap, 'sparse') as unknown[]).length} sparse, ${(at(ap, 'coactive') as unknown[]).length} co-active`);
  const wl = s.wideLimit;
  if (at(wl, 'fInfinity') !== undefined) out.push(`wide limit: F_∞ ${f(at(wl, 'fInfinity'))}, F(D) with exact codes ${f(at(wl, 'fExact'))}, width gap ${f(at(wl, 'widthGap'))} (SAE codes ${f(at(wl, 'widthGapSae'))})`);
  return out;
}

export function formatDiagnostics(r: DiagnosticReport): string {
  const lines: string[] = [];
  lines.push(`${r.sae.transcoder ? 'transcoder' : 'SAE'} ${r.sae.activation}, d_in ${r.sae.dIn}, d_sae ${r.sae.dSae} (${r.sae.codeKind === 'l1' ? 'L1' : 'L0-type'} codes)`);
  lines.push(`rows: ${r.rows.context} for the diagnostics${r.sample ? ` (${r.sample})` : ''}, ${r.rows.exact} for exact codes, ${r.rows.firing} for firing rates`);
  if (r.sae.codeKind === 'l0' && r.lambdaE.source === 'estimated') lines.push(`λ_e: not applicable (median ⟨d̂_i, r⟩ on active pairs ${f(r.lambdaE.estimate)}) — ${r.lambdaE.reason ?? ''}`);
  else lines.push(`λ_e = ${f(r.lambdaE.value)} (${r.lambdaE.source}; estimate from the codes ${f(r.lambdaE.estimate)})${r.lambdaE.reason ? ` — ${r.lambdaE.reason}` : ''}`);
  lines.push('');
  lines.push('Key figures:');
  for (const line of keyFigures(r)) lines.push(`  ${line}`);
  lines.push('');
  lines.push('Findings:');
  if (r.findings.length === 0) lines.push('  (none)');
  for (const fd of r.findings) lines.push(`  [${fd.severity}] ${fd.message}`);
  lines.push('');
  lines.push('Not computed:');
  let any = false;
  for (const [name, sec] of Object.entries(r.sections)) {
    // Sections give either one reason string or a record of reasons per part.
    const reasons = (sec as { reason?: string | Record<string, string> }).reason ?? {};
    if (typeof reasons === 'string') { lines.push(`  ${name}: ${reasons}`); any = true; continue; }
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
    .requiredOption('--activations <file>', 'activations .npy or .safetensors [rows, d_in], or a capture folder (<folder>#<site>) (streamed: only the sample rows are held)')
    .option('--rows <n>', 'rows counted for firing rates, from the start of the file (default: all)', intOption('rows', 1))
    .option('--sample-rows <n>', `rows for the per-atom statistics: a uniform seeded sample, the same as tree's (default ${THRESHOLDS.sampleRows})`, intOption('sample-rows', 1))
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
