// Times the full `diagnose` pipeline (context encode, firing over all rows, every section) on a synthetic
// ReLU SAE. Baseline: one plain encode of the same rows (forward pass), measured in the same run.
// Size from the environment (the target is SAE_BENCH_LATENTS=16384 SAE_BENCH_ROWS=100000
// SAE_BENCH_DIN=768; the default is smaller so that it finishes on a shared 2-core machine with the
// plain-JS GEMM; dense products use the wasm SIMD kernel when it is built, see "gemm" in the output).
import { generate } from '../src/synthetic';
import { dictionarySae } from '../src/diagnostics/exactDictionary';
import { buildContext } from '../src/diagnostics/context';
import { runDiagnostics } from '../src/diagnostics';
import { firingCounts, rowsFrom } from '../src/diagnostics/files';
import { encode } from '../src/sae/forward';
import { THRESHOLDS } from '../src/diagnostics/thresholds';
import { Rng } from '../src/synthetic/random';
import { fastMatmulEngine } from '../src/compute/fastMatmul';

const env = (k: string, v: number): number => (process.env[k] ? Number(process.env[k]) : v);
const latents = env('SAE_BENCH_LATENTS', 2048), rows = env('SAE_BENCH_ROWS', 20000), dIn = env('SAE_BENCH_DIN', 128);
const sampleRows = Math.min(rows, env('SAE_BENCH_SAMPLE', THRESHOLDS.sampleRows));

const features = Math.floor(latents / 2);
const ds = generate('g1', { seed: 1, tokens: rows, dIn, features, sparsity: 1 - 8 / features, projectionSteps: 0, noise: 0.01 });
// the dictionary: the true features plus random atoms (so that some latents are dead or weak)
const rng = new Rng(2);
const atoms = new Float32Array(latents * dIn);
atoms.set(ds.features);
for (let i = features * dIn; i < atoms.length; i++) atoms[i] = rng.normal();
const sae = dictionarySae(atoms, latents, dIn, ds.bias, 0.8);
// weaker encoder rows for the random atoms, so that L0 is in the range of a trained SAE (tens, not hundreds)
for (let j = 0; j < dIn; j++) for (let i = features; i < latents; i++) sae.wEnc[j * latents + i] *= 0.3;

const t0 = performance.now();
for (let r0 = 0; r0 < rows; r0 += 2048) encode(sae, ds.x.subarray(r0 * dIn, Math.min(rows, r0 + 2048) * dIn), Math.min(2048, rows - r0));
const encodeSeconds = (performance.now() - t0) / 1000;

const t1 = performance.now();
const ctx = buildContext(sae, ds.x, sampleRows);
const counts = Float64Array.from(ctx.firing, (p) => Math.round(p * sampleRows));
const more = firingCounts(sae, rowsFrom(ds.x, dIn, sampleRows, rows), rows - sampleRows);
for (let i = 0; i < latents; i++) counts[i] += more[i];
const tCtx = (performance.now() - t1) / 1000;
process.stderr.write(`context + firing: ${tCtx.toFixed(1)}s, L0 ${ctx.firing.reduce((a, b) => a + b, 0).toFixed(1)}\n`);
const t2 = performance.now();
const report = runDiagnostics(ctx, { firingCounts: counts, firingRows: rows, onProgress: (s) => process.stderr.write(`${((performance.now() - t2) / 1000).toFixed(1)}s: ${s}\n`) });
const total = (performance.now() - t1) / 1000;
console.log(JSON.stringify({
  case: `diagnose latents=${latents} rows=${rows} d_in=${dIn} sample=${sampleRows}`,
  seconds: Number(total.toFixed(2)),
  contextAndFiringSeconds: Number(tCtx.toFixed(2)),
  sections: Object.fromEntries(Object.entries(report.timings).map(([k, v]) => [k, Number(v.toFixed(2))])),
  baseline: 'encode all rows once (plain forward pass)',
  baselineSeconds: Number(encodeSeconds.toFixed(2)),
  ratio: Number((total / encodeSeconds).toFixed(2)),
  l0: Number(ctx.firing.reduce((a, b) => a + b, 0).toFixed(1)),
  gemm: fastMatmulEngine(),
}));
