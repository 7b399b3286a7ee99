// D2 convex reference at d_in 768 with its default sizes (N = 256 rows, candidates = live atoms + 256
// k-means centroids + 64 data directions, γ sweep of 9 points plus bisection), for an SAE of 64 live atoms.
// Target: under a minute on this machine. Baseline (same run): one dense FISTA iteration without the
// sparsity trick (A·G with A dense [N, K] plus X·Cᵀ), so the ratio counts dense-iteration equivalents.
import { matmul, matmulBT } from '../src/compute/matmul';
import { buildContext } from '../src/diagnostics/context';
import { convexReferenceSection } from '../src/diagnostics/convexReference';
import { seededRandom } from '../src/diagnostics/linalg';
import type { Sae } from '../src/sae/types';

const D = Number(process.env.D2_BENCH_D ?? 768);
const M = Number(process.env.D2_BENCH_M ?? 64);
const ROWS = 4096;
const rnd = seededRandom(3);
const gaussian = (): number => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
const atoms = new Float32Array(M * D);
for (let i = 0; i < M; i++) {
  let s = 0;
  for (let j = 0; j < D; j++) { const v = gaussian(); atoms[i * D + j] = v; s += v * v; }
  for (let j = 0; j < D; j++) atoms[i * D + j]! /= Math.sqrt(s);
}
const x = new Float32Array(ROWS * D);
for (let r = 0; r < ROWS; r++) for (let a = 0; a < 4; a++) {
  const f = Math.floor(rnd() * M), s = 1 + rnd();
  for (let j = 0; j < D; j++) x[r * D + j]! += s * atoms[f * D + j]! + 0.01 * gaussian();
}
const wEnc = new Float32Array(D * M);
for (let i = 0; i < M; i++) for (let j = 0; j < D; j++) wEnc[j * M + i] = atoms[i * D + j]!;
const sae: Sae = {
  cfg: { activation: 'relu', dIn: D, dSae: M, dOut: D, transcoder: false, applyBDecToInput: true, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {}, training: { lambdaE: 0.1 } },
  wEnc, bEnc: new Float32Array(M).fill(-0.3), wDec: atoms, bDec: new Float32Array(D),
};
const ctx = buildContext(sae, x, ROWS);
let t = performance.now();
const rep = convexReferenceSection(ctx);
const ms = performance.now() - t;
const K = rep.candidates.total, N = rep.rows;
const A = new Float32Array(N * K).fill(0.01), G = new Float32Array(K * K).fill(0.01);
t = performance.now();
matmul(A, G, N, K, K);
matmulBT(x.subarray(0, N * D), rep.solution.candidates, N, D, K);
const baseline = performance.now() - t;
console.log(JSON.stringify({
  case: 'convexReference.section', d_in: D, liveAtoms: M, rows: N, candidates: K, sweepPoints: rep.sweep.length,
  gamma0Iterations: rep.certificate.iterations, certificateHolds: rep.certificate.holds, gapToFrontier: +rep.sae.gapToFrontier.toFixed(3),
  ms: Math.round(ms), baseline: 'one dense FISTA iteration (A·G and X·Cᵀ, no sparsity)', baselineMs: Math.round(baseline), ratio: +(ms / baseline).toFixed(1),
}));
