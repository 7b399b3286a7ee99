/**
 * The atom map's layout: every decoder direction placed in 2-D so that atoms with a small cosine distance
 * sit together. Steps, each seeded and deterministic:
 *   1. unit atoms (dead all-zero rows stay at the origin of the direction space and are marked);
 *   2. when d_in is large, a projection onto the top principal directions of the atoms' second-moment
 *      matrix (cosine neighbourhoods survive it; the k-nearest-neighbour search gets d/p times cheaper);
 *   3. the exact k nearest neighbours by cosine, in blocks through the GEMM engine (BLAS, WebAssembly or
 *      JS), so memory stays at one block of similarities;
 *   4. UMAP (umap-js) on that precomputed neighbour graph, with a seeded generator.
 * PCA to 2-D (`pcaLayout`) is the floor the benchmark compares against.
 */
import { UMAP } from 'umap-js';
import { fastMatmul, fastMatmulBT } from '../compute/fastMatmul';
import { symmetricEigen } from '../diagnostics/linalg';
import { seededRandom } from '../util/random';

export interface AtomLayoutOptions {
  seed?: number;
  /** Neighbours per atom in the UMAP graph (default 15). */
  neighbors?: number;
  /** Dimensions kept before the neighbour search (default 64; d_in when smaller). */
  reducedDims?: number;
  /** UMAP epochs (default: 500 below 10,000 atoms, 200 above, as UMAP's reference implementation). */
  epochs?: number;
  onProgress?: (stage: 'project' | 'neighbours' | 'layout', fraction: number) => void;
}

export interface AtomLayout {
  /** x, y per atom, scaled into [-1, 1]. */
  xy: Float32Array;
  seed: number;
  neighbors: number;
  reducedDims: number;
  epochs: number;
}

/** Rows scaled to unit length (all-zero rows stay zero). */
export function unitRows(w: Float32Array, m: number, d: number): Float32Array {
  const out = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += w[i * d + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = w[i * d + j]! * inv;
  }
  return out;
}

/** The p leading eigenvectors (rows, [p, d]) of XᵀX for rows X [m, d], accumulated in row blocks. */
function principalDirections(x: Float32Array, m: number, d: number, p: number): Float32Array {
  const g = new Float32Array(d * d);
  const block = Math.max(1, Math.min(m, Math.floor((16 << 20) / (4 * d))));
  const t = new Float32Array(d * block);
  for (let r0 = 0; r0 < m; r0 += block) {
    const r = Math.min(block, m - r0);
    for (let i = 0; i < r; i++) for (let j = 0; j < d; j++) t[j * r + i] = x[(r0 + i) * d + j]!;
    fastMatmul(t.subarray(0, d * r), x.subarray(r0 * d, (r0 + r) * d), d, r, d, g, true);
  }
  const { vectors } = symmetricEigen(g, d);
  return Float32Array.from(vectors.subarray(0, p * d));
}

/** Rows projected on p principal directions and renormalised, [m, p]. */
export function reduceRows(unit: Float32Array, m: number, d: number, p: number): Float32Array {
  if (p >= d) return unit;
  const v = principalDirections(unit, m, d, p);
  return unitRows(fastMatmulBT(unit, v, m, d, p), m, p);
}

/**
 * The k nearest rows of each row by cosine (rows must be unit or zero), self excluded; distances are
 * 1 − cos. Zero rows get arbitrary neighbours at distance 1.
 */
export function cosineNeighbours(y: Float32Array, m: number, p: number, k: number, onProgress?: (fraction: number) => void): { indices: Int32Array; distances: Float32Array } {
  const indices = new Int32Array(m * k);
  const sims = new Float32Array(m * k).fill(-Infinity);
  const block = Math.max(1, Math.min(m, Math.floor((64 << 20) / (4 * m))));
  const s = new Float32Array(block * m);
  for (let q0 = 0; q0 < m; q0 += block) {
    const b = Math.min(block, m - q0);
    fastMatmulBT(y.subarray(q0 * p, (q0 + b) * p), y, b, p, m, s.subarray(0, b * m));
    for (let r = 0; r < b; r++) {
      const row = q0 + r, base = row * k, off = r * m;
      let worst = -Infinity;
      for (let j = 0; j < m; j++) {
        const v = s[off + j]!;
        if (v <= worst || j === row) continue;
        // insert into the row's sorted list (descending), dropping the last
        let t = k - 1;
        while (t > 0 && sims[base + t - 1]! < v) { sims[base + t] = sims[base + t - 1]!; indices[base + t] = indices[base + t - 1]!; t--; }
        sims[base + t] = v;
        indices[base + t] = j;
        worst = sims[base + k - 1]!;
      }
    }
    onProgress?.((q0 + b) / m);
  }
  const distances = Float32Array.from(sims, (v) => (Number.isFinite(v) ? Math.max(0, 1 - v) : 1));
  return { indices, distances };
}

/** The map: UMAP over the cosine neighbour graph of the atoms (rows of w, [m, d]). */
export function layoutAtoms(w: Float32Array, m: number, d: number, opts: AtomLayoutOptions = {}): AtomLayout {
  const seed = opts.seed ?? 0;
  const neighbors = Math.max(2, Math.min(opts.neighbors ?? 15, m - 1));
  const reducedDims = Math.min(d, opts.reducedDims ?? 64);
  const epochs = opts.epochs ?? (m > 10_000 ? 200 : 500);
  if (m < 3) return { xy: new Float32Array(m * 2).map((_, i) => (i % 2 === 0 ? (m === 1 ? 0 : (i === 0 ? -1 : 1)) : 0)), seed, neighbors, reducedDims, epochs };
  opts.onProgress?.('project', 0);
  const y = reduceRows(unitRows(w, m, d), m, d, reducedDims);
  opts.onProgress?.('neighbours', 0);
  const knn = cosineNeighbours(y, m, reducedDims, neighbors, (f) => opts.onProgress?.('neighbours', f));
  const rows = (a: Int32Array | Float32Array): number[][] => Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * neighbors, (i + 1) * neighbors)));
  const umap = new UMAP({ nComponents: 2, nNeighbors: neighbors, minDist: 0.1, nEpochs: epochs, random: seededRandom(seed) });
  umap.setPrecomputedKNN(rows(knn.indices), rows(knn.distances));
  // umap-js reads only the row count from X when the neighbours are given
  const total = umap.initializeFit(Array.from({ length: m }, () => [] as number[]));
  for (let e = 0; e < total; e++) {
    umap.step();
    if (e % 10 === 0) opts.onProgress?.('layout', e / total);
  }
  return { xy: scaleToUnitBox(umap.getEmbedding(), m), seed, neighbors, reducedDims, epochs };
}

/** PCA to two dimensions of the unit atoms: the fast floor the benchmark compares against. */
export function pcaLayout(w: Float32Array, m: number, d: number): Float32Array {
  const unit = unitRows(w, m, d);
  const v = principalDirections(unit, m, d, Math.min(2, d));
  const p = fastMatmulBT(unit, v, m, d, Math.min(2, d));
  return scaleToUnitBox(Array.from({ length: m }, (_, i) => [p[i * 2] ?? 0, p[i * 2 + 1] ?? 0]), m);
}

function scaleToUnitBox(points: number[][], m: number): Float32Array {
  let lo0 = Infinity, hi0 = -Infinity, lo1 = Infinity, hi1 = -Infinity;
  for (const [a = 0, b = 0] of points) { lo0 = Math.min(lo0, a); hi0 = Math.max(hi0, a); lo1 = Math.min(lo1, b); hi1 = Math.max(hi1, b); }
  const half = Math.max(hi0 - lo0, hi1 - lo1, 1e-12) / 2;
  const c0 = (lo0 + hi0) / 2, c1 = (lo1 + hi1) / 2;
  const xy = new Float32Array(m * 2);
  points.forEach(([a = 0, b = 0], i) => { xy[2 * i] = (a - c0) / half; xy[2 * i + 1] = (b - c1) / half; });
  return xy;
}
