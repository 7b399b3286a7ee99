/**
 * The synthetic generators of docs/theory.md §G. Each returns x = s·W + b_true + ξ with its ground truth;
 * W's rows are the unit feature directions. Everything is drawn from one seeded Rng, so a dataset is a
 * pure function of (kind, options).
 */
import { matmul } from '../compute/matmul';
import { gram, normalizeRows, orthonormalizeRows } from '../compute/linalg';
import { InputError } from '../errors';
import { Rng, gaussianVector } from './random';
import type { CommonOptions, G1Options, G2Options, G3Options, G4Options, G5Options, G6Options, G7Options, HierarchyGroup, SyntheticDataset, SyntheticKind } from './types';

/** Largest codes matrix a dataset keeps in memory and writes (values). */
export const MAX_KEPT_CODES = 1 << 25;

function need(cond: boolean, option: string, problem: string): void {
  if (!cond) throw new InputError(`--${option}`, problem);
}

function randomBias(rng: Rng, d: number, norm: number): Float32Array {
  const b = gaussianVector(rng, d);
  normalizeRows(b, 1, d);
  for (let j = 0; j < d; j++) b[j] *= norm;
  return b;
}

/** k orthonormal random directions in ℝᵈ (rows), k ≤ d. */
export function orthonormalDirections(rng: Rng, k: number, d: number): Float32Array {
  if (k > d) throw new RangeError(`cannot draw ${k} orthonormal directions in ${d} dimensions`);
  const q = new Float32Array(k * d);
  for (let i = 0; i < k * d; i++) q[i] = rng.normal();
  orthonormalizeRows(q, k, d);
  return q;
}

/** Random unit rows. */
function gaussianFeatures(rng: Rng, f: number, d: number): Float32Array {
  const w = new Float32Array(f * d);
  for (let i = 0; i < f * d; i++) w[i] = rng.normal();
  normalizeRows(w, f, d);
  return w;
}

/**
 * Tang App. C's interference reduction: projected gradient on the hinge L_int = Σ_{i≠j} (|w_iᵀw_j| − t)₊²
 * with unit rows, until max |cos| ≤ target or the step budget runs out. Returns the max |cos| reached.
 */
export function reduceInterference(w: Float32Array, f: number, d: number, target: number, steps: number): number {
  const margin = target * 0.9;
  const push = new Float32Array(f * f);
  let maxCos = Infinity;
  for (let step = 0; step <= steps; step++) {
    const g = gram(w, f, d);
    maxCos = 0;
    push.fill(0);
    for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) {
      if (i === j) continue;
      const c = g[i * f + j];
      const a = Math.abs(c);
      if (a > maxCos) maxCos = a;
      if (a > margin) push[i * f + j] = (a - margin) * Math.sign(c);
    }
    if (maxCos <= target || step === steps) break;
    const grad = matmul(push, w, f, f, d);
    for (let i = 0; i < f * d; i++) w[i] -= 0.5 * grad[i];
    normalizeRows(w, f, d);
  }
  return maxCos;
}

/** x = codes·W + b + ξ, row by row (codes are sparse, so the product skips zeros). */
function assemble(rng: Rng, codes: Float32Array, w: Float32Array, n: number, f: number, d: number, bias: Float32Array, noise: number): Float32Array {
  const x = matmul(codes, w, n, f, d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) x[r * d + j] += bias[j] + (noise > 0 ? noise * rng.normal() : 0);
  return x;
}

function common(o: CommonOptions, defaults: { tokens: number; dIn: number }): { rng: Rng; n: number; d: number; noise: number; biasNorm: number } {
  const n = o.tokens ?? defaults.tokens;
  const d = o.dIn ?? defaults.dIn;
  need(Number.isSafeInteger(n) && n >= 1, 'tokens', `expected a positive integer, got ${n}`);
  need(Number.isSafeInteger(d) && d >= 1, 'd-in', `expected a positive integer, got ${d}`);
  const noise = o.noise ?? 0;
  need(noise >= 0, 'noise', `expected σ ≥ 0, got ${noise}`);
  return { rng: new Rng(o.seed ?? 0), n, d, noise, biasNorm: o.biasNorm ?? 0.5 };
}

function dataset(kind: SyntheticKind, c: { rng: Rng; n: number; d: number; noise: number }, w: Float32Array, f: number, codes: Float32Array, bias: Float32Array, meta: Record<string, unknown>, extra: Partial<SyntheticDataset> = {}): SyntheticDataset {
  const x = assemble(c.rng, codes, w, c.n, f, c.d, bias, c.noise);
  const keep = c.n * f <= MAX_KEPT_CODES;
  return { kind, x, n: c.n, d: c.d, features: w, nFeatures: f, bias, codes: keep ? codes : undefined, meta: { ...meta, noise: c.noise }, ...extra };
}

function checkRate(p: number, option: string): void {
  need(p >= 0 && p <= 1, option, `expected a probability in [0, 1], got ${p}`);
}

/** G1: independent sparse features with reduced interference. */
export function generateG1(o: G1Options = {}): SyntheticDataset {
  const c = common(o, { tokens: 4096, dIn: 128 });
  const f = o.features ?? 256;
  const sparsity = o.sparsity ?? 0.99;
  checkRate(sparsity, 'sparsity');
  const target = o.maxInterference ?? 0.1;
  const w = gaussianFeatures(c.rng, f, c.d);
  const maxCos = f > 1 ? reduceInterference(w, f, c.d, target, o.projectionSteps ?? 300) : 0;
  const cMin = o.cMin ?? 1, expMean = o.expMean ?? 0.5;
  const codes = new Float32Array(c.n * f);
  for (let r = 0; r < c.n; r++) for (let i = 0; i < f; i++) {
    if (c.rng.uniform() >= sparsity) codes[r * f + i] = cMin + c.rng.exponential(expMean);
  }
  const bias = randomBias(c.rng, c.d, c.biasNorm);
  return dataset('g1', c, w, f, codes, bias, { sparsity, cMin, expMean, maxInterference: maxCos, interferenceTarget: target });
}

/** G2: parents with exclusive children at angle θ; nested (child only with parent) or solo. */
export function generateG2(o: G2Options = {}): SyntheticDataset {
  const c = common(o, { tokens: 4096, dIn: 32 });
  const parents = o.parents ?? 4, k = o.children ?? 2;
  const parentRate = o.parentRate ?? 0.1, childRate = o.childRate ?? 0.5, soloRate = o.soloRate ?? 0;
  checkRate(parentRate, 'parent-rate'); checkRate(childRate, 'child-rate'); checkRate(soloRate, 'solo-rate');
  const theta = ((o.angleDeg ?? 90) * Math.PI) / 180;
  need(theta > 0 && theta <= Math.PI, 'angle', `expected an angle in (0, 180] degrees, got ${o.angleDeg}`);
  const f = parents * (1 + k);
  need(f <= c.d, 'd-in', `G2 needs d_in ≥ parents·(1+children) = ${f} for orthogonal construction, got ${c.d}`);
  const basis = orthonormalDirections(c.rng, f, c.d);
  // feature order: parent 0, its children, parent 1, its children, ...
  const w = new Float32Array(f * c.d);
  const hierarchy: HierarchyGroup[] = [];
  for (let p = 0; p < parents; p++) {
    const pi = p * (1 + k);
    w.set(basis.subarray(pi * c.d, (pi + 1) * c.d), pi * c.d);
    const children: number[] = [];
    for (let t = 1; t <= k; t++) {
      const ci = pi + t;
      for (let j = 0; j < c.d; j++) w[ci * c.d + j] = Math.cos(theta) * basis[pi * c.d + j] + Math.sin(theta) * basis[ci * c.d + j];
      children.push(ci);
    }
    hierarchy.push({ parent: pi, children });
  }
  const mag = (): number => (o.magnitudes === 'constant' ? 1 : c.rng.range(1, 2));
  const codes = new Float32Array(c.n * f);
  for (let r = 0; r < c.n; r++) for (const g of hierarchy) {
    if (c.rng.uniform() < parentRate) {
      codes[r * f + g.parent] = mag();
      if (k > 0 && c.rng.uniform() < childRate) codes[r * f + g.children[c.rng.int(k)]] = mag();
    } else if (soloRate > 0) {
      for (const ch of g.children) if (c.rng.uniform() < soloRate) codes[r * f + ch] = mag();
    }
  }
  const bias = randomBias(c.rng, c.d, c.biasNorm);
  return dataset('g2', c, w, f, codes, bias, { parents, children: k, parentRate, childRate, soloRate, angleDeg: (theta * 180) / Math.PI, magnitudes: o.magnitudes ?? 'uniform', variant: soloRate > 0 ? 'solo' : 'nested' }, { hierarchy });
}

/** G3: G1 plus a dense scalar s along a direction v (two-sided Gaussian, or one-sided |s|). */
export function generateG3(o: G3Options = {}): SyntheticDataset {
  const base = generateG1({ features: 64, ...o });
  const c = common(o, { tokens: 4096, dIn: 128 });
  const rng = new Rng(((o.seed ?? 0) ^ 0x5f3759df) | 0);
  const sigma = o.denseScale ?? 2;
  need(sigma > 0, 'dense-scale', `expected σ_v > 0, got ${sigma}`);
  const v = gaussianVector(rng, c.d);
  normalizeRows(v, 1, c.d);
  const s = new Float32Array(c.n);
  for (let r = 0; r < c.n; r++) {
    const z = sigma * rng.normal();
    s[r] = o.oneSided ? Math.abs(z) : z;
    for (let j = 0; j < c.d; j++) base.x[r * c.d + j] += s[r] * v[j];
  }
  return { ...base, kind: 'g3', denseDirection: v, meta: { ...base.meta, denseScale: sigma, oneSided: !!o.oneSided, denseValues: s } };
}

/** G4: TMS digons, w_{2m+1} = −w_{2m}, each feature independently active. */
export function generateG4(o: G4Options = {}): SyntheticDataset {
  const c = common(o, { tokens: 4096, dIn: 16 });
  const f = o.features ?? 16;
  need(f % 2 === 0, 'features', `G4 needs an even number of features (digons), got ${f}`);
  need(f / 2 <= c.d, 'd-in', `G4 needs d_in ≥ features/2 = ${f / 2}, got ${c.d}`);
  const sparsity = o.sparsity ?? 0.95;
  checkRate(sparsity, 'sparsity');
  const axes = orthonormalDirections(c.rng, f / 2, c.d);
  const w = new Float32Array(f * c.d);
  for (let m = 0; m < f / 2; m++) for (let j = 0; j < c.d; j++) {
    w[2 * m * c.d + j] = axes[m * c.d + j];
    w[(2 * m + 1) * c.d + j] = -axes[m * c.d + j];
  }
  const codes = new Float32Array(c.n * f);
  for (let i = 0; i < c.n * f; i++) if (c.rng.uniform() >= sparsity) codes[i] = c.rng.range(1, 2);
  const bias = randomBias(c.rng, c.d, c.biasNorm);
  return dataset('g4', c, w, f, codes, bias, { sparsity, digons: f / 2 });
}

/** G5: Cui's superposition: regular polygons in orthogonal planes, s = Bern(1−S)·U[0,1], no offset. */
export function generateG5(o: G5Options = {}): SyntheticDataset {
  const c = common({ biasNorm: 0, ...o }, { tokens: 4096, dIn: 20 });
  const f = o.features ?? 200;
  const planes = Math.floor(c.d / 2);
  need(planes >= 1, 'd-in', 'G5 needs d_in ≥ 2');
  const polygon = o.polygon ?? Math.ceil(f / planes);
  need(Number.isSafeInteger(polygon) && polygon >= 2, 'polygon', `expected an integer ≥ 2, got ${polygon}`);
  need(f <= planes * polygon, 'features', `G5 fits at most ${planes * polygon} features (${planes} planes × ${polygon}-gons) in d_in ${c.d}`);
  const sparsity = o.sparsity ?? 0.9;
  checkRate(sparsity, 'sparsity');
  const basis = orthonormalDirections(c.rng, 2 * planes, c.d);
  const w = new Float32Array(f * c.d);
  for (let i = 0; i < f; i++) {
    const p = Math.floor(i / polygon), v = i % polygon;
    const phi = (2 * Math.PI * v) / polygon;
    for (let j = 0; j < c.d; j++) w[i * c.d + j] = Math.cos(phi) * basis[2 * p * c.d + j] + Math.sin(phi) * basis[(2 * p + 1) * c.d + j];
  }
  const codes = new Float32Array(c.n * f);
  for (let i = 0; i < c.n * f; i++) if (c.rng.uniform() >= sparsity) codes[i] = c.rng.uniform();
  const bias = randomBias(c.rng, c.d, c.biasNorm);
  return dataset('g5', c, w, f, codes, bias, { sparsity, polygon, planes });
}

/** G6: two features A, B with exclusive events "A alone", "B alone", "A and B", plus sparse distractors. */
export function generateG6(o: G6Options = {}): SyntheticDataset {
  const c = common(o, { tokens: 4096, dIn: 16 });
  const a = o.soloA ?? 0.05, b = o.soloB ?? 0.05, joint = o.joint ?? 0.1;
  for (const [p, name] of [[a, 'solo-a'], [b, 'solo-b'], [joint, 'joint']] as const) checkRate(p, name);
  need(a + b + joint <= 1, 'joint', `solo-a + solo-b + joint must be ≤ 1, got ${a + b + joint}`);
  const distractors = o.distractors ?? 4, distractorRate = o.distractorRate ?? 0.05;
  checkRate(distractorRate, 'distractor-rate');
  const f = 2 + distractors;
  need(f <= c.d, 'd-in', `G6 needs d_in ≥ ${f}`);
  const theta = ((o.angleDeg ?? 90) * Math.PI) / 180;
  const basis = orthonormalDirections(c.rng, f, c.d);
  const w = basis.slice();
  for (let j = 0; j < c.d; j++) w[c.d + j] = Math.cos(theta) * basis[j] + Math.sin(theta) * basis[c.d + j];
  const codes = new Float32Array(c.n * f);
  for (let r = 0; r < c.n; r++) {
    const u = c.rng.uniform();
    if (u < a) codes[r * f] = c.rng.range(1, 2);
    else if (u < a + b) codes[r * f + 1] = c.rng.range(1, 2);
    else if (u < a + b + joint) { codes[r * f] = c.rng.range(1, 2); codes[r * f + 1] = c.rng.range(1, 2); }
    for (let i = 2; i < f; i++) if (c.rng.uniform() < distractorRate) codes[r * f + i] = c.rng.range(1, 2);
  }
  const bias = randomBias(c.rng, c.d, c.biasNorm);
  return dataset('g6', c, w, f, codes, bias, { soloA: a, soloB: b, joint, distractors, distractorRate, angleDeg: (theta * 180) / Math.PI });
}

/**
 * G7 (Tang Fig. 4): exactly one feature per row, more features than dimensions, no offset or noise. The
 * signed standard basis (2d atoms, encoder [I; −I]) reconstructs every row exactly, so zero loss is
 * reachable with a dictionary unrelated to the features: reconstruction good, recovery poor.
 */
export function generateG7(o: G7Options = {}): SyntheticDataset {
  const c = common({ biasNorm: 0, ...o }, { tokens: 4096, dIn: 6 });
  const f = o.features ?? 12;
  need(f >= 2, 'features', `G7 needs at least 2 features, got ${f}`);
  const w = gaussianFeatures(c.rng, f, c.d);
  const codes = new Float32Array(c.n * f);
  for (let r = 0; r < c.n; r++) codes[r * f + c.rng.int(f)] = c.rng.range(1, 2);
  const bias = randomBias(c.rng, c.d, c.biasNorm);
  return dataset('g7', c, w, f, codes, bias, { zeroLossDictionary: 'signed standard basis ±e_j (2·d_in atoms)', activePerRow: 1 });
}
