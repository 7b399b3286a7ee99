// A small generator of activations with known features, for the trainer's tests (the real synthetic suite
// lives in src/synthetic): F random unit directions in d dimensions; each row switches each feature on
// with probability p, with magnitude uniform in [0.5, 1.5].
import { writeNpy } from '../../../src/io/npy';
import { Rng } from '../../../src/train/rng';

export interface Synthetic { x: Float32Array; features: Float32Array; n: number; d: number; f: number }

export function sparseFeatures(n: number, d: number, f: number, p: number, seed = 1): Synthetic {
  const rng = new Rng(seed);
  const features = new Float32Array(f * d);
  for (let i = 0; i < f; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) { const v = rng.normal(); features[i * d + j] = v; s += v * v; }
    for (let j = 0; j < d; j++) features[i * d + j]! /= Math.sqrt(s);
  }
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < f; i++) {
      if (rng.next() >= p) continue;
      const a = 0.5 + rng.next();
      for (let j = 0; j < d; j++) x[r * d + j]! += a * features[i * d + j]!;
    }
  }
  return { x, features, n, d, f };
}

export function writeSynthetic(path: string, s: Synthetic): void {
  writeNpy(path, { dtype: 'F32', shape: [s.n, s.d], data: s.x });
}

/** For each true feature, the best cosine with any decoder row (rows of wDec [m, d]). */
export function maxCosines(features: Float32Array, f: number, wDec: Float32Array, m: number, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < f; i++) {
    let best = -1;
    for (let a = 0; a < m; a++) {
      let dot = 0, nn = 0;
      for (let j = 0; j < d; j++) { dot += features[i * d + j]! * wDec[a * d + j]!; nn += wDec[a * d + j]! ** 2; }
      best = Math.max(best, dot / Math.sqrt(nn || 1));
    }
    out.push(best);
  }
  return out;
}
