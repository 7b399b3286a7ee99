// The within-SAE nesting pass (src/diagnostics/nesting.ts: direction nestings of the co-activation DAG) at the
// issue's size, 16,384 latents × d 768: its m²·d part is the blocked decoder Gram D̂·D̂ᵀ (closeAtoms, through
// the GEMM engine, never the m×m matrix), the rest reads the sample's sparse codes. Synthetic families (one
// parent atom and three children at cos 0.71 to it, as an absorbing SAE keeps them), each row firing 16 parents
// and, 80% of the time, one child of each. Baseline in the same run: the bare blocked Gram product of the same
// atoms (the m²·d multiply-adds the pass cannot avoid). Figures: seconds (median of NESTING_BENCH_REPEATS),
// ratio to the baseline, the Gram's share of the pass, peak RSS of the process and the growth during the pass,
// load average. Size from NESTING_BENCH_LATENTS / _D / _ROWS.
import { loadavg } from 'node:os';
import { closeAtoms, nestingCandidates } from '../src/diagnostics/nesting';
import { firingCounts, latentRows } from '../src/diagnostics/encoderCodes';
import type { SparseCodes } from '../src/diagnostics/encoderCodes';
import { median, parallelMatmulBT, seededRandom } from '../src/diagnostics/linalg';
import { NESTING, SPLIT_TREE } from '../src/diagnostics/thresholds';
import { fastMatmulEngine } from '../src/compute/fastMatmul';
import { diagnosticThreads } from '../src/diagnostics/pool';

const env = (k: string, v: number): number => (process.env[k] ? Number(process.env[k]) : v);
const M = env('NESTING_BENCH_LATENTS', 16384), D = env('NESTING_BENCH_D', 768), ROWS = env('NESTING_BENCH_ROWS', 16384);
const REPEATS = env('NESTING_BENCH_REPEATS', 1);
const FAMILY = 4, PER_ROW = 16, BLOCK = 512;
const families = Math.floor(M / FAMILY);

const rnd = seededRandom(11);
const gauss = (): number => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
const atoms = new Float32Array(M * D);
for (let f = 0; f < families; f++) {
  const p = f * FAMILY;
  for (let u = 0; u < FAMILY; u++) for (let k = 0; k < D; k++) atoms[(p + u) * D + k] = gauss();
  for (let u = 0; u < FAMILY; u++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += atoms[(p + u) * D + k]! ** 2;
    for (let k = 0; k < D; k++) atoms[(p + u) * D + k]! /= Math.sqrt(s);
  }
  // children: normalise(parent + own), cos 1/√2 to the parent
  for (let u = 1; u < FAMILY; u++) for (let k = 0; k < D; k++) atoms[(p + u) * D + k] = (atoms[p * D + k]! + atoms[(p + u) * D + k]!) / Math.SQRT2;
}
const rowPtr = new Int32Array(ROWS + 1), idx: number[] = [], val: number[] = [];
for (let r = 0; r < ROWS; r++) {
  const on = new Map<number, number>();
  while (on.size < 2 * PER_ROW && [...on.keys()].filter((i) => i % FAMILY === 0).length < PER_ROW) {
    const f = Math.floor(rnd() * families);
    if (on.has(f * FAMILY)) continue;
    on.set(f * FAMILY, 1 + rnd());
    if (rnd() < 0.8) on.set(f * FAMILY + 1 + Math.floor(rnd() * (FAMILY - 1)), 1 + rnd());
  }
  for (const [i, v] of [...on].sort((a, b) => a[0] - b[0])) { idx.push(i); val.push(v); }
  rowPtr[r + 1] = idx.length;
}
const codes: SparseCodes = { n: ROWS, m: M, rowPtr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
const cols = latentRows(codes), counts = firingCounts(codes);
const live = [...counts.keys()].filter((i) => counts[i]! >= SPLIT_TREE.minFirings);
const rssBefore = process.memoryUsage().rss;

const gramRuns: number[] = [], closeRuns: number[] = [], passRuns: number[] = [];
let pairs = 0;
for (let rep = 0; rep < REPEATS; rep++) {
  let t = performance.now();
  const out = new Float32Array(BLOCK * M);
  for (let b0 = 0; b0 < M; b0 += BLOCK) parallelMatmulBT(atoms.subarray(b0 * D, Math.min(M, b0 + BLOCK) * D), atoms, Math.min(BLOCK, M - b0), D, M, out);
  gramRuns.push((performance.now() - t) / 1000);
  t = performance.now();
  closeAtoms(atoms, live, D, NESTING.minCosine, NESTING.maxCandidates);
  closeRuns.push((performance.now() - t) / 1000);
  t = performance.now();
  pairs = nestingCandidates(codes, cols, counts, atoms, D, SPLIT_TREE.minFirings).length;
  passRuns.push((performance.now() - t) / 1000);
  process.stderr.write(`run ${rep + 1}/${REPEATS}: gram ${gramRuns[rep]!.toFixed(1)}s, closeAtoms ${closeRuns[rep]!.toFixed(1)}s, nesting pass ${passRuns[rep]!.toFixed(1)}s\n`);
}
const r2 = (v: number): number => Number(v.toFixed(2));
const pass = median(passRuns), gram = median(gramRuns), close = median(closeRuns);
console.log(JSON.stringify({
  case: `nesting latents=${M} d=${D} rows=${ROWS}`,
  seconds: r2(pass),
  runs: passRuns.map(r2),
  closeAtomsSeconds: r2(close),
  gramShare: r2(close / pass),
  baseline: `blocked Gram D̂·D̂ᵀ alone (${BLOCK}-row blocks, ${M}² × ${D} multiply-adds)`,
  baselineSeconds: r2(gram),
  ratio: r2(pass / gram),
  candidatePairs: pairs,
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  rssBeforePassMB: Math.round(rssBefore / 2 ** 20),
  inputMB: Math.round((atoms.byteLength + codes.idx.byteLength + codes.val.byteLength) / 2 ** 20),
  denseGramMB: Math.round((M * M * 8) / 2 ** 20),
  loadAverage: loadavg().map((v) => r2(v)),
  threads: diagnosticThreads(),
  gemm: fastMatmulEngine(),
}));
process.exit(0);
