// Calibration of the L0 STAT flag (docs/theory.md §B4; docs/diagnostics.md "L0 STAT calibration") on SAEs
// trained by the real trainer. Per seed: a TopK SAE (and, with `jumprelu`, a JumpReLU SAE) on G1.
//   negatives: the converged SAE on held-out rows of the same generator (docs/theory.md §G: G1 flags nothing);
//   positives: the same SAE with half of its atoms rotated by a known angle (encoder untouched, so the codes
//     stay and the residual pulls each rotated atom back), and the SAE stopped after 1/20 of the training.
// For each rule STAT > max(σ·SE, floor) on a grid of (σ, floor) it prints the flagged share per seed.
// Run: npx tsx bench/calibrate-l0stat.ts [seeds=5] [topk|jumprelu|both]. Not part of `npm run bench`.
// Environment knobs: L0STAT_STEPS (600), L0STAT_K (3), L0STAT_LR (4e-3), L0STAT_DECAY=0 (no learning-rate
// decay), L0STAT_AUXK=0, and for JumpReLU L0STAT_L0 (1) and L0STAT_THETA (initial threshold 0.01).
import { generate } from '../src/synthetic';
import { buildContext } from '../src/diagnostics/context';
import { runDiagnostics } from '../src/diagnostics';
import type { KktReport } from '../src/diagnostics/kkt';
import type { Sae } from '../src/sae/types';
import { seededRandom } from '../src/util/random';
import { groundTruthMetrics } from '../src/metrics/groundTruth';
import { cleanup, trainOn } from '../test/unit/e2e-theory/harness';

const seeds = Number(process.argv[2] ?? 5);
const which = process.argv[3] ?? 'topk';
const SIGMAS = [2, 3, 4, 5, 6, 8];
const FLOORS = [0.05, 0.1, 0.15, 0.2];
const ANGLES = [5, 10, 20];
const G1 = { tokens: 8192, dIn: 32, features: 32, sparsity: 0.95 };
const STEPS = Number(process.env.L0STAT_STEPS ?? 600);
const K = Number(process.env.L0STAT_K ?? 3);
/** Linear decay of the learning rate to 0 over the last half: Adam at a constant rate keeps jittering around the optimum. */
const DECAY = process.env.L0STAT_DECAY === '0' ? 0 : STEPS / 2;
const SKIP = ['identity', 'amortisation', 'deadDense', 'antipodal', 'absorption', 'residual', 'coactivation', 'wideLimit', 'convexReference'];

function kkt(sae: Sae, x: Float32Array, n: number): { sae: KktReport; exact: KktReport | null } {
  const r = runDiagnostics(buildContext(sae, x, n), { skip: SKIP });
  return r.sections.kkt as unknown as { sae: KktReport; exact: KktReport | null };
}

/** Share of `atoms` flagged by STAT > max(σ·SE, floor), per grid cell "σ/floor". */
function rates(k: KktReport, atoms: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  const measured = atoms.filter((i) => Number.isFinite(k.perLatent.stat[i]!) && Number.isFinite(k.perLatent.statSE[i]!));
  for (const s of SIGMAS) for (const f of FLOORS) {
    let hit = 0;
    for (const i of measured) if (k.perLatent.stat[i]! > Math.max(s * k.perLatent.statSE[i]!, f)) hit++;
    out[`${s}/${f}`] = measured.length ? +(hit / measured.length).toFixed(3) : NaN;
  }
  return out;
}

function zStats(k: KktReport, atoms: number[]): { zMax: number; zMedian: number; statMedian: number; seMedian: number } {
  const z = atoms.map((i) => k.perLatent.stat[i]! / k.perLatent.statSE[i]!).filter(Number.isFinite).sort((a, b) => a - b);
  const st = atoms.map((i) => k.perLatent.stat[i]!).filter(Number.isFinite).sort((a, b) => a - b);
  const se = atoms.map((i) => k.perLatent.statSE[i]!).filter(Number.isFinite).sort((a, b) => a - b);
  const med = (v: number[]): number => +(v[v.length >> 1] ?? NaN).toFixed(3);
  return { zMax: +(z[z.length - 1] ?? NaN).toFixed(2), zMedian: med(z), statMedian: med(st), seMedian: med(se) };
}

/** Rotates atom i by `deg` toward a random unit direction orthogonal to it, keeping its norm. */
function rotateAtoms(sae: Sae, atoms: number[], deg: number, seed: number): Sae {
  const { dSae, dOut } = sae.cfg;
  const w = Float32Array.from(sae.wDec);
  const rnd = seededRandom(seed);
  const th = (deg * Math.PI) / 180;
  for (const i of atoms) {
    const a = w.subarray(i * dOut, (i + 1) * dOut);
    let na = 0;
    for (let j = 0; j < dOut; j++) na += a[j]! ** 2;
    na = Math.sqrt(na);
    const v = new Float64Array(dOut);
    for (let j = 0; j < dOut; j++) v[j] = rnd() - 0.5;
    let p = 0;
    for (let j = 0; j < dOut; j++) p += v[j]! * a[j]! / na;
    let nv = 0;
    for (let j = 0; j < dOut; j++) { v[j] = v[j]! - p * a[j]! / na; nv += v[j]! ** 2; }
    nv = Math.sqrt(nv);
    for (let j = 0; j < dOut; j++) a[j] = Math.cos(th) * a[j]! + Math.sin(th) * na * v[j]! / nv;
  }
  if (dSae <= 0) throw new Error('empty SAE');
  return { ...sae, wDec: w };
}

async function main(): Promise<void> {
  const archs = which === 'both' ? ['topk', 'jumprelu'] : [which];
  for (const arch of archs) for (let seed = 1; seed <= seeds; seed++) {
    const train = arch === 'topk'
      ? { arch: 'topk' as const, k: K, width: 32, batch: 256, lr: Number(process.env.L0STAT_LR ?? 4e-3), seed, lrDecaySteps: DECAY, auxK: process.env.L0STAT_AUXK !== '0' }
      : { arch: 'jumprelu' as const, l1: Number(process.env.L0STAT_L0 ?? 1), initThreshold: Number(process.env.L0STAT_THETA ?? 0.01), width: 32, batch: 256, lr: 4e-3, seed, lrDecaySteps: DECAY };
    const full = await trainOn(`${arch}-${seed}`, 'g1', { seed, ...G1 }, { ...train, tokens: 256 * STEPS });
    const early = await trainOn(`${arch}-early-${seed}`, 'g1', { seed, ...G1 }, { ...train, lrDecaySteps: 0, tokens: 256 * (STEPS / 20) });
    // held-out rows: the same generator drawn twice as long has the same features but draws its offset b_true
    // after the codes, so the rows are moved to the training set's offset; the SAE saw neither half
    const seen = generate('g1', { ...G1, seed });
    const both = generate('g1', { ...G1, seed, tokens: 2 * G1.tokens });
    if (both.features.some((v, j) => v !== seen.features[j])) throw new Error('held-out rows come from other features');
    const d = both.d;
    const x = both.x.slice(G1.tokens * d);
    for (let r = 0; r < G1.tokens; r++) for (let j = 0; j < d; j++) x[r * d + j] += seen.bias[j]! - both.bias[j]!;
    const test = { x, n: G1.tokens };
    const all = Array.from({ length: full.sae.cfg.dSae }, (_, i) => i);
    const gt = groundTruthMetrics(full.sae, full.gt);
    const kFull = kkt(full.sae, test.x, test.n);
    console.log(JSON.stringify({ arch, seed, case: 'G1 converged (negatives)', rec95: gt.recovery['0.95'], measured: kFull.sae.measured, ...zStats(kFull.sae, all), flaggedSae: rates(kFull.sae, all), flaggedExact: kFull.exact ? rates(kFull.exact, all) : null }));
    const kTrain = kkt(full.sae, seen.x, seen.n);
    console.log(JSON.stringify({ arch, seed, case: 'G1 converged, on its training rows', ...zStats(kTrain.sae, all), flaggedSae: rates(kTrain.sae, all) }));
    const gtEarly = groundTruthMetrics(early.sae, early.gt);
    const kEarly = kkt(early.sae, test.x, test.n);
    console.log(JSON.stringify({ arch, seed, case: 'G1 stopped at 1/20 (positives)', rec95: gtEarly.recovery['0.95'], ...zStats(kEarly.sae, all), flaggedSae: rates(kEarly.sae, all) }));
    const rnd = seededRandom(seed + 7);
    const chosen = all.filter(() => rnd() < 0.5);
    const rest = all.filter((i) => !chosen.includes(i));
    for (const deg of ANGLES) {
      const k = kkt(rotateAtoms(full.sae, chosen, deg, seed + deg), test.x, test.n);
      console.log(JSON.stringify({ arch, seed, case: `rotated ${deg}° (positives: ${chosen.length} atoms)`, ...zStats(k.sae, chosen), flaggedRotated: rates(k.sae, chosen), flaggedOthers: rates(k.sae, rest) }));
    }
  }
  cleanup();
}
void main();
