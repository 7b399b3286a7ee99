// Shared data for the family tests.
import type { Rng } from '../../../src/train/rng';

/**
 * 2048 rows of width 16 built from 24 features: four frequent ones (p = 0.5) and twenty rare ones
 * (p = 0.04), so a Matryoshka SAE's small first prefix should take the frequent ones.
 */
export function matryoshkaData(rng: Rng): { n: number; d: number; data: Float32Array } {
  const n = 2048, d = 16, F = 24;
  const feats = Float32Array.from({ length: F * d }, () => rng.normal() / 4);
  const data = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) {
    if (rng.next() >= (f < 4 ? 0.5 : 0.04)) continue;
    const s = 0.5 + rng.next();
    for (let q = 0; q < d; q++) data[r * d + q]! += s * feats[f * d + q]!;
  }
  return { n, d, data };
}

/** Explained variance of yhat against y (n rows of width d), against y's column means. */
export function explainedVariance(y: Float32Array, yhat: Float32Array, n: number, d: number): number {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let q = 0; q < d; q++) mean[q]! += y[r * d + q]! / n;
  let sse = 0, sst = 0;
  for (let j = 0; j < n * d; j++) { sse += (y[j]! - yhat[j]!) ** 2; sst += (y[j]! - mean[j % d]!) ** 2; }
  return 1 - sse / sst;
}
