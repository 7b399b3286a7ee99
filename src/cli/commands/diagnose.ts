/**
 * `sae-workbench diagnose --sae DIR --activations FILE`: the optimality and structure diagnostics of
 * docs/theory.md §B–§5 on a sample of activations; a readable summary (one sentence per finding, with why) or
 * one JSON document. The context sample is a uniform seeded sample of 16384 rows (src/io/rowSample.ts, the
 * same rows `tree` and the report use); firing rates count the first --rows rows (default: all).
 */
import type { Command } from 'commander';
import { computed, SECTIONS } from '../../diagnostics';
import type { DiagnosticReport, DiagnosticSections, SectionName } from '../../diagnostics';
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

/** One line per section with its headline numbers (sections that gave a reason instead are left out here). */
function keyFigures(r: DiagnosticReport): string[] {
  const s = r.sections;
  const out: string[] = [];
  const kkt = computed(s, 'kkt', 'sae');
  for (const [label, k] of [['SAE codes  ', kkt?.sae], ['exact codes', kkt?.exact]] as const) {
    if (!k) continue;
    const sum = k.summary;
    out.push(`${label}: KKT_on median ${pm(sum.kktOn.median, sum.kktOn.se?.median)}, KKT_off median ${pm(sum.kktOff.median, sum.kktOff.se?.median)}${sum.codeQuality !== 'n/a' ? ` (${sum.codeQuality}${k.kind === 'l0' ? ', on the threshold scale θ' : ''})` : ''}, STAT median ${pm(sum.stat.median, sum.stat.se?.median)} (p90 ${f(sum.stat.p90)}; noise floor SE median ${f(sum.statSE.median)} at ${int(sum.firings.median)} firings per atom in ${int(k.rows)} rows), non-stationary ${pm(100 * sum.fractionFlagged, k.bootstrap ? 100 * k.bootstrap.fractionFlaggedSE : undefined)}%${sum.unresolved > 0 ? `, ${sum.unresolved} undecided (about ${int(sum.rowsToResolve)} rows would decide them)` : ''}`);
  }
  const id = computed(s, 'identity', 'sae');
  if (id) out.push(`identity |ID| p90: SAE codes ${f(id.sae.p90Abs)}, exact codes ${f(id.exact?.p90Abs)}`);
  const am = computed(s, 'amortisation', 'objectiveGap');
  if (am) out.push(`amortisation: objective gap ${f(100 * am.objectiveGap)}%, support Jaccard ${f(am.meanJaccard)}, encoder-dead ${am.encoderDead.length}, dictionary-dead ${am.dictionaryDead.length}`);
  const dd = computed(s, 'deadDense', 'dead');
  if (dd) out.push(`latents: ${dd.dead.length} dead, ${dd.dense.length} dense (> 10%), ${dd.ultraDense.length} ultra-dense (> 50%)`);
  const ap = computed(s, 'antipodal', 'dense');
  if (ap) out.push(`antipodal pairs: ${ap.dense.length} dense on ${ap.denseAxes.length} axes, ${ap.sparse.length} sparse, ${ap.coactive.length} co-active`);
  const wl = computed(s, 'wideLimit', 'fInfinity');
  if (wl) out.push(`wide limit: F_∞ ${f(wl.fInfinity)}, F(D) with exact codes ${f(wl.fExact)}, width gap ${f(wl.widthGap)} (SAE codes ${f(wl.widthGapSae)})`);
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
  for (const [name, sec] of Object.entries(r.sections) as [string, DiagnosticSections[SectionName]][]) {
    // Sections give either one reason string or a record of reasons per part.
    const reasons = ('reason' in sec ? sec.reason : undefined) ?? {};
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
