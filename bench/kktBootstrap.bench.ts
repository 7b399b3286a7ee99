// The cost of the B4 bootstrap SEs (200 resamples over rows): kktStationarity with the bootstrap against
// the same call without it (the baseline), on SAE codes of a synthetic ReLU SAE (the diagnose bench's
// setup). Size from the environment: SAE_BENCH_LATENTS, SAE_BENCH_SAMPLE (rows), SAE_BENCH_DIN.
import { buildContext } from '../src/diagnostics/context';
import { kktStationarity } from '../src/diagnostics/kkt';
import { BOOTSTRAP_DEFAULTS } from '../src/diagnostics/bootstrap';
import { median } from '../src/diagnostics/linalg';
import { fastMatmulEngine } from '../src/compute/fastMatmul';
import { benchDiagnosticsSae } from './syntheticSae';

const env = (k: string, v: number): number => (process.env[k] ? Number(process.env[k]) : v);
const latents = env('SAE_BENCH_LATENTS', 1024), rows = env('SAE_BENCH_SAMPLE', 16384), dIn = env('SAE_BENCH_DIN', 128);
const { ds, sae } = benchDiagnosticsSae(latents, rows, dIn);
const ctx = buildContext(sae, ds.x, rows);
const codes = ctx.codes;

const time = (bootstrap: boolean): number => {
  const t0 = performance.now();
  kktStationarity({ ...codes, weighted: undefined }, ctx.unitAtoms, ctx.lambdaE, { mode: 'lambda' }, { pull: false, bootstrap: bootstrap ? BOOTSTRAP_DEFAULTS : false });
  return (performance.now() - t0) / 1000;
};
const off: number[] = [], on: number[] = [];
for (let rep = 0; rep < 3; rep++) { off.push(time(false)); on.push(time(true)); }
console.log(JSON.stringify({
  case: `kkt bootstrap latents=${latents} rows=${rows} d_in=${dIn} nnz=${codes.idx.length} resamples=${BOOTSTRAP_DEFAULTS.resamples}`,
  seconds: Number(median(on).toFixed(2)),
  baseline: 'the same KKT/STAT statistics without the bootstrap (median of 3)',
  baselineSeconds: Number(median(off).toFixed(2)),
  ratio: Number((median(on) / median(off)).toFixed(2)),
  gemm: fastMatmulEngine(),
}));
