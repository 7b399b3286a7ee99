// Calibration of the [H] thresholds on the synthetic suite over several seeds (not a benchmark case: run
// it with `npx tsx bench/calibrate-diagnostics.ts`). Prints one JSON line per experiment; the numbers are
// quoted in docs/diagnostics.md.
import { generate } from '../src/synthetic';
import type { SyntheticDataset } from '../src/synthetic';
import { exactCodes } from '../src/diagnostics/lassoCodes';
import { finishCodeSet } from '../src/diagnostics/codeResiduals';
import { kktStationarity } from '../src/diagnostics/kkt';
import { dictionarySae } from '../test/helpers/exactDictionary';
import { buildContext } from '../src/diagnostics/context';
import { runDiagnostics } from '../src/diagnostics';
import type { AntipodalReport } from '../src/diagnostics/antipodal';

const SEEDS = [1, 2, 3, 4, 5];
const out = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));

function exactKkt(ds: SyntheticDataset, lambda: number) {
  const t = new Float32Array(ds.n * ds.d);
  for (let r = 0; r < ds.n; r++) for (let j = 0; j < ds.d; j++) t[r * ds.d + j] = ds.x[r * ds.d + j] - ds.bias[j];
  const ex = exactCodes(t, ds.features, ds.n, ds.nFeatures, ds.d, lambda);
  const cs = finishCodeSet({ source: 'exact', kind: 'l1', n: ds.n, m: ds.nFeatures, d: ds.d, rowPtr: ex.rowPtr, idx: ex.idx, val: ex.val, residual: ex.residual }, ds.features);
  return kktStationarity(cs, ds.features, lambda, { mode: 'lambda' }, { pull: false });
}

// 1. STAT flag on G1 at the true dictionary (exact codes): false-positive rate, and how STAT compares with SE
for (const tokens of [4000, 16384]) {
  const rates: number[] = [], statMed: number[] = [], seMed: number[] = [];
  for (const seed of SEEDS) {
    const ds = generate('g1', { seed, tokens, features: 64, dIn: 64, sparsity: 0.98 });
    const k = exactKkt(ds, 0.1);
    rates.push(k.summary.fractionFlagged);
    statMed.push(k.summary.stat.median);
    const se = Array.from(k.perLatent.statSE).filter(Number.isFinite).sort((a, b) => a - b);
    seMed.push(se[Math.floor(se.length / 2)]);
  }
  out({ experiment: 'G1 true dictionary, exact codes: fraction flagged non-stationary', tokens, perSeed: rates, statMedian: statMed, seMedian: seMed });
}

// 2. STAT flag on G2 children at the true dictionary: true-positive rate (the children are provably non-stationary)
for (const angleDeg of [90, 60, 30]) for (const magnitudes of ['constant', 'uniform'] as const) {
  let flagged = 0, total = 0, parentsFlagged = 0, parents = 0;
  for (const seed of SEEDS) {
    const ds = generate('g2', { seed, tokens: 4000, angleDeg, magnitudes, dIn: 32 });
    const k = exactKkt(ds, 0.1);
    for (const g of ds.hierarchy!) {
      parents++; parentsFlagged += k.perLatent.flagged[g.parent];
      for (const c of g.children) { total++; flagged += k.perLatent.flagged[c]; }
    }
  }
  out({ experiment: 'G2 true dictionary, exact codes: children flagged (TP) / parents flagged', angleDeg, magnitudes, childTPR: flagged / total, parentFlagRate: parentsFlagged / parents });
}

// 3. C2 on G3 (dictionary with ±v) and G4 digons (true dictionary), over seeds and sparsities
for (const seed of SEEDS) {
  const ds = generate('g3', { seed, tokens: 4000, features: 24, dIn: 96 });
  const m = ds.nFeatures + 2, d = ds.d;
  const atoms = new Float32Array(m * d);
  atoms.set(ds.features);
  for (let j = 0; j < d; j++) { atoms[ds.nFeatures * d + j] = ds.denseDirection![j]; atoms[(ds.nFeatures + 1) * d + j] = -ds.denseDirection![j]; }
  const r = runDiagnostics(buildContext(dictionarySae(atoms, m, d, ds.bias, 0.1), ds.x, ds.n), { skip: ['identity', 'amortisation', 'wideLimit', 'kkt'] });
  const a = r.sections.antipodal as AntipodalReport;
  out({ experiment: 'G3 with ±v: antipodal pairs', seed, dense: a.dense.length, sparse: a.sparse.length, coactive: a.coactive.length, freq: a.dense.map((p) => [p.pI, p.pJ]), kurtosis: a.dense.map((p) => p.kurtosis) });
}
for (const sparsity of [0.9, 0.95, 0.98]) {
  const kinds: Record<string, number> = { dense: 0, sparse: 0, coactive: 0 };
  const kurt: number[] = [];
  for (const seed of SEEDS) {
    const ds = generate('g4', { seed, tokens: 4000, sparsity });
    const r = runDiagnostics(buildContext(dictionarySae(ds.features, ds.nFeatures, ds.d, ds.bias, 0.1), ds.x, ds.n), { skip: ['identity', 'amortisation', 'wideLimit', 'kkt'] });
    const a = r.sections.antipodal as AntipodalReport;
    kinds.dense += a.dense.length; kinds.sparse += a.sparse.length; kinds.coactive += a.coactive.length;
    for (const p of [...a.dense, ...a.sparse]) kurt.push(p.kurtosis);
  }
  kurt.sort((x, y) => x - y);
  out({ experiment: 'G4 digons (true dictionary): pair classification over 5 seeds × 8 digons', sparsity, ...kinds, kurtosisMin: kurt[0], kurtosisMedian: kurt[kurt.length >> 1] });
}

// 4. KKT bands: exact codes vs the tied encoder on G1
for (const seed of SEEDS.slice(0, 3)) {
  const ds = generate('g1', { seed, tokens: 3000, features: 64, dIn: 64, sparsity: 0.98 });
  const r = runDiagnostics(buildContext(dictionarySae(ds.features, 64, 64, ds.bias, 0.1), ds.x, ds.n), { skip: ['identity', 'antipodal', 'wideLimit'] });
  const k = r.sections.kkt as { sae: { summary: unknown }; exact: { summary: unknown } };
  out({ experiment: 'G1 tied encoder vs exact codes: KKT summary', seed, sae: k.sae.summary, exact: k.exact.summary });
}
