// Times what the diagnostics panel waits for when it opens (src/workers/panelData.worker.ts 'diagnostics'):
// the analysis pass over the panel's sample (analyse) and the diagnostics module at the panel budget
// (panelDiagnostics), then the panel model. Issue #6: ~36 s at d_sae 4096. Sizes from PANEL_BENCH_LATENTS
// (4096), PANEL_BENCH_DIN (768), PANEL_BENCH_TOKENS (4096, the worker's MAX_TOKENS). Baseline (same run):
// one plain forward pass over the same rows.
import { generate } from '../src/synthetic';
import { dictionarySae } from '../test/helpers/exactDictionary';
import { diagnosticThreads, diagnosticsPool } from '../src/diagnostics/pool';
import { analyse } from '../src/views/sparsePass';
import { diagnosticsModel, panelDiagnostics } from '../src/views/diagnosticsPanel';
import { saeCard } from '../src/views/panelBuilders';
import { forward } from '../src/sae/forward';
import { Rng } from '../src/synthetic/random';
import { fastMatmulEngine } from '../src/compute/fastMatmul';
import { describeSample } from '../src/io/rowSample';

const env = (k: string, v: number): number => (process.env[k] ? Number(process.env[k]) : v);
const latents = env('PANEL_BENCH_LATENTS', 4096), dIn = env('PANEL_BENCH_DIN', 768), tokens = env('PANEL_BENCH_TOKENS', 4096);
// the encoder threshold (and stored λ_e): lower gives a larger L0, as early in ReLU training
const threshold = env('PANEL_BENCH_THRESHOLD', 0.8);

// start the pool's workers now, as the panel worker does on its first request (they load while the data is made)
diagnosticsPool();
const features = Math.floor(latents / 2);
const ds = generate('g1', { seed: 1, tokens, dIn, features, sparsity: 1 - 8 / features, projectionSteps: 0, noise: 0.01 });
const rng = new Rng(2);
const atoms = new Float32Array(latents * dIn);
atoms.set(ds.features);
for (let i = features * dIn; i < atoms.length; i++) atoms[i] = rng.normal();
const sae = dictionarySae(atoms, latents, dIn, ds.bias, threshold);
for (let j = 0; j < dIn; j++) for (let i = features; i < latents; i++) sae.wEnc[j * latents + i] *= 0.3;

// time the work, not the pool's start-up (from source, tsx compiles the worker first; bundled it is ~0.2 s)
diagnosticsPool()?.waitReady();
let t = performance.now();
for (let r0 = 0; r0 < tokens; r0 += 1024) forward(sae, ds.x.subarray(r0 * dIn, Math.min(tokens, r0 + 1024) * dIn), Math.min(1024, tokens - r0));
const baseline = (performance.now() - t) / 1000;

t = performance.now();
const a = analyse(sae, { path: 'synthetic', x: ds.x, n: tokens, d: dIn, rowIndex: Int32Array.from({ length: tokens }, (_, i) => i), skippedNonFinite: 0, totalRows: tokens, description: describeSample(tokens, tokens, 0) });
const analyseSeconds = (performance.now() - t) / 1000;
t = performance.now();
const diag = panelDiagnostics(sae, ds.x, tokens);
const diagSeconds = (performance.now() - t) / 1000;
t = performance.now();
if ('report' in diag) diagnosticsModel(diag, saeCard(sae));
const modelSeconds = (performance.now() - t) / 1000;
const total = analyseSeconds + diagSeconds + modelSeconds;
console.log(JSON.stringify({
  case: `panel.diagnostics latents=${latents} d_in=${dIn} tokens=${tokens}`,
  seconds: Number(total.toFixed(2)),
  analyseSeconds: Number(analyseSeconds.toFixed(2)),
  diagnosticsSeconds: Number(diagSeconds.toFixed(2)),
  modelSeconds: Number(modelSeconds.toFixed(2)),
  sections: 'report' in diag ? Object.fromEntries(Object.entries(diag.report.timings).map(([k, v]) => [k, Number(v.toFixed(2))])) : diag.reason,
  baseline: 'one plain forward pass (encode + dense decode) over the same rows',
  baselineSeconds: Number(baseline.toFixed(2)),
  ratio: Number((total / baseline).toFixed(2)),
  l0: Number(a.metrics.l0.toFixed(1)),
  threads: diagnosticThreads(),
  gemm: fastMatmulEngine(),
}));
process.exit(0);
