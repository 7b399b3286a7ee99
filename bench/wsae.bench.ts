// The G5 experiment (docs/theory.md §G G5, after Cui et al.): does the weighted SAE (WSAE, A7) lower the
// ground-truth reconstruction error L_GT against the plain SAE, across sparsity S, and do variance weights
// (either sign of α) do as well as the oracle's NNLS weights? Every run goes through the real trainer
// (runTraining: files on disk, activation scaling, Adam, schedules) with a relu SAE of width M = n.
// Two data settings:
//  - g5:       the generator as it stands (20-gons in 10 random orthogonal planes, n = 200, d = 20). Every
//              input dimension carries the same polysemanticity, so the oracle Γ is uniform by symmetry.
//  - g5-mixed: axis-aligned planes, 5 of them squares (each dimension shared by 2 antipodal features) and
//              5 of them 36-gons (each dimension shared by 36 features), n = 200, d = 20: dimensions differ
//              in polysemanticity, which is the situation WSAE is for.
// One JSON line per (setting, S, weighting); the baseline is the unweighted SAE of the same (setting, S)
// and `ratio` is L_GT(weighted) / L_GT(plain).   BENCH_WSAE_SETTINGS=g5,g5-mixed  BENCH_WSAE_EPOCHS=24 BENCH_WSAE_L1=0.3 BENCH_WSAE_LR=3e-3
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSae } from '../src/formats';
import { groundTruthMetrics } from '../src/metrics/groundTruth';
import { forward } from '../src/sae/forward';
import type { Sae } from '../src/sae/types';
import { generateG5 } from '../src/synthetic/generators';
import { Rng } from '../src/synthetic/random';
import { readGroundTruth, writeSynthetic } from '../src/synthetic';
import type { SyntheticDataset } from '../src/synthetic';
import { runTraining } from '../src/train/trainer';
import type { TrainOptions } from '../src/train/api';

const SETTINGS = (process.env.BENCH_WSAE_SETTINGS ?? 'g5,g5-mixed').split(',');
const SPARSITIES = (process.env.BENCH_WSAE_S ?? '0.5,0.9,0.99,0.999').split(',').map(Number);
const EPOCHS = Number(process.env.BENCH_WSAE_EPOCHS ?? 24);
const L1 = Number(process.env.BENCH_WSAE_L1 ?? 0.3);
const LR = Number(process.env.BENCH_WSAE_LR ?? 3e-3);
const N_FEATURES = 200, D = 20;
const rowsFor = (s: number): number => (s >= 0.999 ? 16384 : s >= 0.99 ? 8192 : 4096);

/** Axis-aligned planes, squares in the first half and 36-gons in the second; s = Bern(1−S)·U[0,1]. */
function mixedG5(sparsity: number, n: number, seed: number): SyntheticDataset {
  const sizes = [4, 4, 4, 4, 4, 36, 36, 36, 36, 36];
  const f = sizes.reduce((a, b) => a + b, 0);
  const w = new Float32Array(f * D);
  let i = 0;
  sizes.forEach((size, p) => {
    for (let v = 0; v < size; v++, i++) {
      const phi = (2 * Math.PI * v) / size;
      w[i * D + 2 * p] = Math.cos(phi);
      w[i * D + 2 * p + 1] = Math.sin(phi);
    }
  });
  const rng = new Rng(seed);
  const codes = new Float32Array(n * f);
  for (let k = 0; k < n * f; k++) if (rng.uniform() >= sparsity) codes[k] = rng.uniform();
  const x = new Float32Array(n * D);
  for (let r = 0; r < n; r++) for (let a = 0; a < f; a++) {
    const s = codes[r * f + a]!;
    if (s) for (let q = 0; q < D; q++) x[r * D + q]! += s * w[a * D + q]!;
  }
  return { kind: 'g5', x, n, d: D, features: w, nFeatures: f, bias: new Float32Array(D), codes, meta: { sparsity, polygons: sizes, noise: 0 } };
}

/**
 * L_GT restricted to features [from, to) (same definition as groundTruthMetrics: Hungarian-matched latent's
 * code times its decoder norm against s, relative to Σ s²): on g5-mixed it separates the features of the
 * weakly shared dimensions (squares) from those of the heavily shared ones (36-gons).
 */
function groupLGT(sae: Sae, codesGt: Float32Array, f: number, x: Float32Array, n: number, matched: Int32Array, from: number, to: number): number {
  const m = sae.cfg.dSae, dOut = sae.cfg.dOut;
  const codes = forward(sae, x, n).codes;
  const norm = new Float64Array(m);
  for (let i = 0; i < m; i++) { let s = 0; for (let q = 0; q < dOut; q++) s += sae.wDec[i * dOut + q]! ** 2; norm[i] = Math.sqrt(s); }
  let num = 0, den = 0;
  for (let r = 0; r < n; r++) for (let a = from; a < to; a++) {
    const s = codesGt[r * f + a]!, lat = matched[a]!;
    const eff = lat >= 0 ? codes[r * m + lat]! * norm[lat]! : 0;
    num += (s - eff) ** 2; den += s * s;
  }
  return num / den;
}

interface Weighting { name: string; opts: Partial<TrainOptions> }
const WEIGHTINGS: Weighting[] = [
  { name: 'none', opts: {} },
  { name: 'oracle', opts: { weighting: 'oracle' } },
  { name: 'variance α=-0.5', opts: { weighting: 'variance', weightAlpha: -0.5 } },
  { name: 'variance α=+0.5', opts: { weighting: 'variance', weightAlpha: 0.5 } },
];

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'wsae-bench-'));
  try {
    for (const setting of SETTINGS) {
      for (const s of SPARSITIES) {
        const n = rowsFor(s);
        const ds = setting === 'g5' ? generateG5({ sparsity: s, tokens: n, seed: 1, features: N_FEATURES, dIn: D }) : mixedG5(s, n, 1);
        const dir = join(root, `${setting}-${s}`);
        const files = writeSynthetic(ds, dir);
        const gt = readGroundTruth(dir);
        let baseline = NaN;
        for (const wt of WEIGHTINGS) {
          const out = join(dir, `sae-${wt.name.replace(/[^a-z0-9.+-]/gi, '_')}`);
          const t0 = performance.now();
          const summary = await runTraining({
            activations: [files.activations], outDir: out, arch: 'relu', width: N_FEATURES, l1: L1, batch: 256, tokens: n * EPOCHS,
            lr: LR, seed: 0, threads: 1, engine: 'js', checkpointEvery: 1e9, resampleEvery: 0,
            ...wt.opts, ...(wt.opts.weighting === 'oracle' ? { groundTruth: files.groundTruth } : {}),
          }, { emit: () => undefined, cancelled: () => false });
          const seconds = (performance.now() - t0) / 1000;
          const sae = loadSae(out);
          const m = groundTruthMetrics(sae, gt, ds.x, n);
          if (wt.name === 'none') baseline = m.lGT ?? NaN;
          // g5-mixed: features 0..19 are the squares' (dimensions shared by 2), 20..199 the 36-gons' (by 36)
          const groups = setting === 'g5-mixed' ? {
            lGTSquares: groupLGT(sae, ds.codes!, ds.nFeatures, ds.x, n, m.perFeature.matchedLatent, 0, 20),
            lGT36gons: groupLGT(sae, ds.codes!, ds.nFeatures, ds.x, n, m.perFeature.matchedLatent, 20, 200),
            mmcsSquares: Array.from(m.perFeature.bestCos.subarray(0, 20)).reduce((a, b) => a + b, 0) / 20,
          } : {};
          const gamma = (sae.cfg.training?.reconstructionWeighting as { gamma?: number[] } | undefined)?.gamma;
          console.log(JSON.stringify({
            case: `wsae ${setting} S=${s} ${wt.name}`, setting, S: s, weighting: wt.name, rows: n, tokens: summary.tokens,
            lGT: m.lGT, explainedVariance: m.explainedVariance, mmcs: m.mmcs, recovery09: m.recovery['0.9'], liveLatents: m.liveLatents, ...groups,
            gammaMin: gamma ? Math.min(...gamma) : 1, gammaMax: gamma ? Math.max(...gamma) : 1, seconds,
            baseline: 'unweighted relu SAE, same data and schedule', baselineLGT: baseline, ratio: (m.lGT ?? NaN) / baseline,
          }));
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
void main();
