/**
 * The nonparametric bootstrap over rows (docs/theory.md §B4: "Bootstrap SEs are reported"). A resample draws n
 * rows with replacement; it is represented by its multinomial counts w (Σ w = n), so that any statistic
 * written as weighted sums over rows is recomputed for a resample without copying data. Seeded by
 * src/util/random.ts, so a report is reproducible.
 */
import { seededRandom } from '../util/random';

export interface BootstrapOptions {
  /** Number of resamples B (default 200). */
  resamples?: number;
  /** Seed of the row draws (default 1). */
  seed?: number;
}

export const BOOTSTRAP_DEFAULTS = { resamples: 200, seed: 1 } as const;

/**
 * [resamples, n] counts, row b = how often each of the n rows is drawn in resample b. Float32 so that a
 * block of it can enter a GEMM directly.
 */
export function resampleCounts(n: number, resamples: number, seed: number): Float32Array {
  if (!(n > 0) || !(resamples > 0)) throw new Error(`resampleCounts: need n > 0 and resamples > 0 (got ${n}, ${resamples})`);
  const rnd = seededRandom(seed);
  const w = new Float32Array(resamples * n);
  for (let b = 0; b < resamples; b++) {
    const o = b * n;
    for (let t = 0; t < n; t++) w[o + Math.floor(rnd() * n)]! += 1;
  }
  return w;
}

/** Sample standard deviation (divisor B − 1) of the finite values; NaN with fewer than two. */
export function standardDeviation(values: ArrayLike<number>): number {
  let k = 0, mean = 0, m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    k++;
    const delta = v - mean;
    mean += delta / k;
    m2 += delta * (v - mean);
  }
  return k >= 2 ? Math.sqrt(m2 / (k - 1)) : NaN;
}

/**
 * Bootstrap standard error of a statistic of n rows. `statistic(w)` gets one resample's counts (length n,
 * Σ w = n) and returns the statistic on that resample; the SE is the standard deviation over resamples.
 */
export function bootstrapSE(n: number, statistic: (weights: Float32Array) => number, opts: BootstrapOptions = {}): { se: number; values: Float64Array } {
  const resamples = opts.resamples ?? BOOTSTRAP_DEFAULTS.resamples;
  const w = resampleCounts(n, resamples, opts.seed ?? BOOTSTRAP_DEFAULTS.seed);
  const values = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) values[b] = statistic(w.subarray(b * n, (b + 1) * n));
  return { se: standardDeviation(values), values };
}
