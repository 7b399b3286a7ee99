// Times the full `diagnose` pipeline (context encode, firing over all rows, every section) on a synthetic
// ReLU SAE. Baseline: one plain encode of the same rows (forward pass), measured in the same run.
// Size from the environment (the target is SAE_BENCH_LATENTS=16384 SAE_BENCH_ROWS=100000
// SAE_BENCH_DIN=768; the default is smaller so that it finishes on a shared 2-core machine with the
// plain-JS GEMM; dense products use the wasm SIMD kernel when it is built, see "gemm" in the output).
// SAE_BENCH_REPEATS runs the diagnose that many times and reports the median (and every run); the
// diagnostics' threads come from SAE_WORKBENCH_DIAG_THREADS (default 2, see src/diagnostics/pool.ts).
import { buildContext } from '../src/diagnostics/context';
import { runDiagnostics } from '../src/diagnostics';
import { firingCounts, rowsFrom } from '../src/diagnostics/files';
import { encode } from '../src/sae/forward';
import { THRESHOLDS } from '../src/diagnostics/thresholds';
import { median } from '../src/diagnostics/linalg';
import { benchDiagnosticsSae } from './syntheticSae';
import { fastMatmulEngine } from '../src/compute/fastMatmul';
import { diagnosticThreads, diagnosticsPool } from '../src/diagnostics/pool';

const env = (k: string, v: number): number => (process.env[k] ? Number(process.env[k]) : v);
const latents = env('SAE_BENCH_LATENTS', 2048), rows = env('SAE_BENCH_ROWS', 20000), dIn = env('SAE_BENCH_DIN', 128);
const sampleRows = Math.min(rows, env('SAE_BENCH_SAMPLE', THRESHOLDS.sampleRows));

// start the pool's workers now, as diagnoseFiles does before reading (they load while the data is made)
diagnosticsPool();
const { ds, sae } = benchDiagnosticsSae(latents, rows, dIn);

const t0 = performance.now();
for (let r0 = 0; r0 < rows; r0 += 2048) encode(sae, ds.x.subarray(r0 * dIn, Math.min(rows, r0 + 2048) * dIn), Math.min(2048, rows - r0));
const encodeSeconds = (performance.now() - t0) / 1000;

const repeats = env('SAE_BENCH_REPEATS', 1);
interface Run { total: number; ctx: number; cpu: number; sections: Record<string, number>; report: ReturnType<typeof runDiagnostics>; l0: number }
const runs: Run[] = [];
for (let rep = 0; rep < repeats; rep++) {
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const ctx = buildContext(sae, ds.x, sampleRows);
  const counts = Float64Array.from(ctx.firing, (p) => Math.round(p * sampleRows));
  const more = firingCounts(sae, rowsFrom(ds.x, dIn, sampleRows, rows), rows - sampleRows);
  for (let i = 0; i < latents; i++) counts[i] += more[i];
  const tCtx = (performance.now() - t1) / 1000;
  process.stderr.write(`run ${rep + 1}/${repeats}: context + firing: ${tCtx.toFixed(1)}s, L0 ${ctx.firing.reduce((a, b) => a + b, 0).toFixed(1)}\n`);
  const t2 = performance.now();
  const report = runDiagnostics(ctx, { firingCounts: counts, firingRows: rows, onProgress: (s) => process.stderr.write(`${((performance.now() - t2) / 1000).toFixed(1)}s: ${s}\n`) });
  const total = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  runs.push({ total, ctx: tCtx, cpu: (cpu.user + cpu.system) / 1e6, sections: report.timings, report, l0: ctx.firing.reduce((a, b) => a + b, 0) });
  process.stderr.write(`run ${rep + 1}/${repeats}: ${total.toFixed(1)}s\n`);
}
const r2 = (v: number): number => Number(v.toFixed(2));
const total = median(runs.map((r) => r.total));
const last = runs[runs.length - 1]!;
console.log(JSON.stringify({
  case: `diagnose latents=${latents} rows=${rows} d_in=${dIn} sample=${sampleRows}`,
  seconds: r2(total),
  runs: runs.map((r) => r2(r.total)),
  contextAndFiringSeconds: r2(median(runs.map((r) => r.ctx))),
  sections: Object.fromEntries(Object.keys(last.sections).map((k) => [k, r2(median(runs.map((r) => r.sections[k] ?? 0)))])),
  cpuSeconds: r2(median(runs.map((r) => r.cpu))),
  sampleRows: last.report.rows,
  baseline: 'encode all rows once (plain forward pass, one thread)',
  baselineSeconds: r2(encodeSeconds),
  ratio: r2(total / encodeSeconds),
  l0: Number(last.l0.toFixed(1)),
  threads: diagnosticThreads(),
  gemm: fastMatmulEngine(),
}));
process.exit(0);
