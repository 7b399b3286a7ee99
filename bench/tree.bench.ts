// Split trees (C4) across two widths and the residual section (C5) on synthetic sparse data at d_in 768.
// Target size (issue #6): a 16k-latent SAE on 100k rows — set TREE_BENCH_FULL=1. The default is smaller
// (4096 and 1024 latents, 2048 rows) because with the plain-JS GEMM (≈0.85 GFLOP/s here) the 16k encoder
// product alone on 100k rows is ≈1.3·10¹² flops, i.e. ~25 minutes. Dense products go through
// src/compute/matmul.ts, so the engine's GEMM speeds every case up behind the same call.
// Baselines (same run): `tree` against the reference forward pass of both SAEs on the same rows (the
// encoding it cannot avoid); `residual` against buildContext (the shared encoding every section reuses).
import { loadavg } from 'node:os';
import { buildContext } from '../src/diagnostics/context';
import { seededRandom } from '../src/diagnostics/linalg';
import { residualSection } from '../src/diagnostics/residual';
import { buildSplitTree, treeInputFromSae } from '../src/diagnostics/splitTree';
import { forward } from '../src/sae/forward';
import type { Sae } from '../src/sae/types';

const FULL = process.env.TREE_BENCH_FULL === '1';
const D = Number(process.env.TREE_BENCH_D ?? 768);
const LARGE = Number(process.env.TREE_BENCH_LARGE ?? (FULL ? 16384 : 4096));
const SMALL = Number(process.env.TREE_BENCH_SMALL ?? LARGE / 4);
const ROWS = Number(process.env.TREE_BENCH_ROWS ?? (FULL ? 100_000 : 2048));
const ACTIVE = 32;
const REPEATS = Number(process.env.TREE_BENCH_REPEATS ?? 1);

function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
}

function unitRows(m: number, rnd: () => number): Float32Array {
  const a = new Float32Array(m * D);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) { const v = gaussian(rnd); a[i * D + j] = v; s += v * v; }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < D; j++) a[i * D + j]! *= inv;
  }
  return a;
}

function tiedSae(atoms: Float32Array, m: number, threshold: number): Sae {
  const wEnc = new Float32Array(D * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < D; j++) wEnc[j * m + i] = atoms[i * D + j]!;
  return {
    cfg: { activation: 'relu', dIn: D, dSae: m, dOut: D, transcoder: false, applyBDecToInput: true, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {}, training: { lambdaE: 0.1 } },
    wEnc, bEnc: new Float32Array(m).fill(-threshold), wDec: atoms, bDec: new Float32Array(D),
  };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const rnd = seededRandom(7);
const children = unitRows(LARGE, rnd);
// Each small atom is the normalised sum of its LARGE/SMALL children: a split family per small latent.
const group = LARGE / SMALL;
const parents = new Float32Array(SMALL * D);
for (let i = 0; i < SMALL; i++) {
  let s = 0;
  for (let g = 0; g < group; g++) for (let j = 0; j < D; j++) parents[i * D + j]! += children[(i * group + g) * D + j]!;
  for (let j = 0; j < D; j++) s += parents[i * D + j]! ** 2;
  for (let j = 0; j < D; j++) parents[i * D + j]! /= Math.sqrt(s);
}
const x = new Float32Array(ROWS * D);
for (let r = 0; r < ROWS; r++) for (let a = 0; a < ACTIVE; a++) {
  const f = Math.floor(rnd() * LARGE), s = 1 + rnd();
  for (let j = 0; j < D; j++) x[r * D + j]! += s * children[f * D + j]!;
}
// Thresholds put L0 near the 32 true actives (interference ⟨d_i, x⟩ has sd ≈ 0.31 at d = 768).
const large = tiedSae(children, LARGE, 1.0);
const small = tiedSae(parents, SMALL, 0.9);

const sizes = { d_in: D, rows: ROWS, large: LARGE, small: SMALL, activePerRow: ACTIVE, repeats: REPEATS, full: FULL };

// tree
const treeMs: number[] = [], encodeMs: number[] = [];
let edges = 0, splits = 0, l0 = 0;
for (let rep = 0; rep < REPEATS; rep++) {
  let t = performance.now();
  forward(small, x, ROWS);
  forward(large, x, ROWS);
  encodeMs.push(performance.now() - t);
  t = performance.now();
  const inputs = [treeInputFromSae(large, x, ROWS, 'large'), treeInputFromSae(small, x, ROWS, 'small')];
  const report = buildSplitTree(inputs);
  treeMs.push(performance.now() - t);
  edges = report.edges.length;
  splits = report.splits.filter((s) => s.split).length;
  l0 = inputs[0]!.codes.idx.length / ROWS;
}
console.log(JSON.stringify({
  case: 'tree.two-widths', ...sizes, largeL0: +l0.toFixed(1), edges, splits,
  ms: Math.round(median(treeMs)), baseline: 'reference forward pass of both SAEs on the same rows', baselineMs: Math.round(median(encodeMs)),
  ratio: +(median(treeMs) / median(encodeMs)).toFixed(2),
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), loadAverage: loadavg().map((v) => +v.toFixed(2)),
}));

// residual section (the context is capped at 16384 rows: the dense [n, d_sae] codes of buildContext)
const ctxRows = Math.min(ROWS, 16384);
const ctxMs: number[] = [], resMs: number[] = [];
let spike = 0, gRatio = 0;
for (let rep = 0; rep < REPEATS; rep++) {
  let t = performance.now();
  const ctx = buildContext(large, x, ctxRows);
  ctxMs.push(performance.now() - t);
  t = performance.now();
  const r = residualSection(ctx);
  resMs.push(performance.now() - t);
  spike = r.spectrum.spikeRatio;
  gRatio = r.gain.gStarRatio;
}
console.log(JSON.stringify({
  case: 'residual.section', ...sizes, rows: ctxRows, spikeRatio: +spike.toFixed(2), gStarRatio: +gRatio.toFixed(4),
  ms: Math.round(median(resMs)), baseline: 'buildContext (encode + decode) on the same rows', baselineMs: Math.round(median(ctxMs)),
  ratio: +(median(resMs) / median(ctxMs)).toFixed(2),
}));
