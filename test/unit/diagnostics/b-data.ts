/**
 * TEST-ONLY synthetic data and hand-built SAEs for the diagnostics tests of this branch (diag-b).
 * A minimal stand-in for src/synthetic (docs/theory.md §G), which lands from the diag-a branch: once merged,
 * these helpers can be swapped for `generate(kind, {...})`. Do not import from src/.
 *
 * Data: x = Σ_f s_f w_f + bias + σ·ξ with unit feature rows w_f [F, d]. SAEs: ReLU, decoder rows = the
 * chosen atoms, encoder = the dual basis (pseudo-inverse) of the atoms with bias −λ, so codes are the
 * least-squares coefficients shrunk by λ — the structure docs/theory.md's optimum analysis predicts.
 */
import { choleskySolve, seededRandom } from '../../../src/diagnostics/linalg';
import type { Sae } from '../../../src/sae/types';

export interface TestData {
  x: Float32Array;
  n: number;
  d: number;
  /** Unit feature directions [nFeatures, d]. */
  features: Float32Array;
  nFeatures: number;
  /** Ground-truth feature magnitudes [n, nFeatures]. */
  codes: Float32Array;
  bias: Float32Array;
  hierarchy?: { parent: number; children: number[] }[];
  /** Unit dense direction, when added. */
  denseDirection?: Float32Array;
}

export function gaussian(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

/** `count` orthonormal rows in ℝᵈ (Gram–Schmidt of Gaussian vectors). */
export function orthonormalRows(count: number, d: number, rnd: () => number): Float32Array {
  if (count > d) throw new Error('orthonormalRows: count > d');
  const out = new Float64Array(count * d);
  for (let i = 0; i < count; i++) {
    for (;;) {
      for (let j = 0; j < d; j++) out[i * d + j] = gaussian(rnd);
      for (let k = 0; k < i; k++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += out[i * d + j]! * out[k * d + j]!;
        for (let j = 0; j < d; j++) out[i * d + j]! -= dot * out[k * d + j]!;
      }
      let nrm = 0;
      for (let j = 0; j < d; j++) nrm += out[i * d + j]! ** 2;
      nrm = Math.sqrt(nrm);
      if (nrm > 1e-6) { for (let j = 0; j < d; j++) out[i * d + j]! /= nrm; break; }
    }
  }
  return Float32Array.from(out);
}

/** Exactly k of F orthonormal features per row, magnitudes uniform in [1, 2), plus N(0, noise²) per element. */
export function kSparseRows(F: number, d: number, n: number, k: number, rnd: () => number, noise = 0.05): { feats: Float32Array; t: Float32Array } {
  const feats = orthonormalRows(F, d, rnd);
  const t = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const s = new Set<number>();
    while (s.size < k) s.add(Math.floor(rnd() * F));
    for (const i of s) { const c = 1 + rnd(); for (let j = 0; j < d; j++) t[r * d + j]! += c * feats[i * d + j]!; }
    for (let j = 0; j < d; j++) t[r * d + j]! += noise * gaussian(rnd);
  }
  return { feats, t };
}

export function assemble(codes: Float32Array, features: Float32Array, n: number, F: number, d: number, bias: Float32Array, noise: number, rnd: () => number): Float32Array {
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < F; f++) {
      const s = codes[r * F + f]!;
      if (s !== 0) for (let j = 0; j < d; j++) x[r * d + j]! += s * features[f * d + j]!;
    }
    for (let j = 0; j < d; j++) x[r * d + j]! += bias[j]! + (noise ? noise * gaussian(rnd) : 0);
  }
  return x;
}

export function randomBias(d: number, rnd: () => number, scale: number): Float32Array {
  const b = new Float32Array(d);
  for (let j = 0; j < d; j++) b[j] = scale * gaussian(rnd);
  return b;
}

/** G1: independent sparse features with orthonormal directions, P(active) = p, magnitudes U[1,2]. */
export function g1(opts: { seed: number; n: number; d: number; features: number; p: number; noise?: number; biasScale?: number; maxActive?: number }): TestData {
  const rnd = seededRandom(opts.seed);
  const { n, d, p } = opts;
  const F = opts.features;
  const features = orthonormalRows(F, d, rnd);
  const codes = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    let active = 0;
    for (let f = 0; f < F; f++) {
      if (rnd() < p && active < (opts.maxActive ?? Infinity)) { codes[r * F + f] = 1 + rnd(); active++; }
    }
  }
  const bias = randomBias(d, rnd, opts.biasScale ?? 0.1);
  return { x: assemble(codes, features, n, F, d, bias, opts.noise ?? 0, rnd), n, d, features, nFeatures: F, codes, bias };
}

/**
 * G2: `parents` parents, each with `children` mutually exclusive children that fire only with their
 * parent (P(some child | parent) = q). Child direction = cos θ·w_parent + sin θ·e (e orthonormal to the
 * rest). Features are laid out parent, its children, next parent, ... then `extra` independent features.
 */
export function g2(opts: { seed: number; n: number; d: number; parents: number; children: number; pParent: number; q: number; thetaDeg: number; constant?: boolean; extra?: number; pExtra?: number; noise?: number }): TestData {
  const rnd = seededRandom(opts.seed);
  const { n, d, parents: H, children: k } = opts;
  const extra = opts.extra ?? 0;
  const F = H * (k + 1) + extra;
  const basis = orthonormalRows(F, d, rnd);
  const features = new Float32Array(F * d);
  const theta = (opts.thetaDeg * Math.PI) / 180;
  const hierarchy: { parent: number; children: number[] }[] = [];
  for (let h = 0; h < H; h++) {
    const p = h * (k + 1);
    for (let j = 0; j < d; j++) features[p * d + j] = basis[p * d + j]!;
    const children: number[] = [];
    for (let c = 1; c <= k; c++) {
      const f = p + c;
      for (let j = 0; j < d; j++) features[f * d + j] = Math.cos(theta) * basis[p * d + j]! + Math.sin(theta) * basis[f * d + j]!;
      children.push(f);
    }
    hierarchy.push({ parent: p, children });
  }
  for (let e = H * (k + 1); e < F; e++) for (let j = 0; j < d; j++) features[e * d + j] = basis[e * d + j]!;
  const mag = (): number => (opts.constant ? 1 : 1 + rnd());
  const codes = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    for (let h = 0; h < H; h++) {
      if (rnd() >= opts.pParent) continue;
      const p = h * (k + 1);
      codes[r * F + p] = mag();
      if (rnd() < opts.q) codes[r * F + p + 1 + Math.floor(rnd() * k)] = mag();
    }
    for (let e = H * (k + 1); e < F; e++) if (rnd() < (opts.pExtra ?? 0.05)) codes[r * F + e] = mag();
  }
  const bias = randomBias(d, rnd, 0.1);
  return { x: assemble(codes, features, n, F, d, bias, opts.noise ?? 0, rnd), n, d, features, nFeatures: F, codes, bias, hierarchy };
}

/** Adds a dense Gaussian direction s·v (s ~ N(0, σ²), or |s| when oneSided) orthogonal to every feature. */
export function withDense(data: TestData, opts: { seed: number; sigma: number; oneSided?: boolean }): TestData {
  const rnd = seededRandom(opts.seed);
  const { d, n } = data;
  const all = orthonormalRows(Math.min(data.nFeatures + 1, d), d, rnd);
  // Orthogonalise a fresh direction against the features explicitly (they are not part of `all`).
  const v = Float64Array.from(all.subarray(0, d));
  for (let f = 0; f < data.nFeatures; f++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += v[j]! * data.features[f * d + j]!;
    for (let j = 0; j < d; j++) v[j]! -= dot * data.features[f * d + j]!;
  }
  let nrm = 0;
  for (let j = 0; j < d; j++) nrm += v[j]! ** 2;
  const dir = Float32Array.from(v, (t) => t / Math.sqrt(nrm));
  const x = data.x.slice();
  for (let r = 0; r < n; r++) {
    let s = opts.sigma * gaussian(rnd);
    if (opts.oneSided) s = Math.abs(s);
    for (let j = 0; j < d; j++) x[r * d + j]! += s * dir[j]!;
  }
  return { ...data, x, denseDirection: dir };
}

/** Unit-normalised copy of a set of rows [m, d]. */
export function unitRows(rows: Float32Array, m: number, d: number): Float32Array {
  const out = rows.slice(0, m * d);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += out[i * d + j]! ** 2;
    const nrm = Math.sqrt(s) || 1;
    for (let j = 0; j < d; j++) out[i * d + j]! /= nrm;
  }
  return out;
}

/** Rows of `features` picked by index [idx.length, d]. */
export function pickRows(features: Float32Array, idx: number[], d: number): Float32Array {
  const out = new Float32Array(idx.length * d);
  idx.forEach((f, i) => out.set(features.subarray(f * d, (f + 1) * d), i * d));
  return out;
}

/** Encoder columns = the dual basis of the atoms (pseudo-inverse rows), so pre-activations are LS coefficients. */
export function dualEncoder(atoms: Float32Array, m: number, d: number): Float32Array {
  const G = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let k = 0; k < m; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += atoms[i * d + j]! * atoms[k * d + j]!;
    G[i * m + k] = s;
  }
  // W_enc [d, m]: column i = Σ_k (G⁻¹)_{ik} atom_k.
  const cols = Array.from({ length: m }, (_, i) => { const e = new Float64Array(m); e[i] = 1; return e; });
  const { solutions } = choleskySolve(G, m, cols);
  const wEnc = new Float32Array(d * m);
  for (let i = 0; i < m; i++) for (let k = 0; k < m; k++) {
    const g = solutions[i]![k]!;
    if (g !== 0) for (let j = 0; j < d; j++) wEnc[j * m + i]! += g * atoms[k * d + j]!;
  }
  return wEnc;
}

/**
 * A ReLU SAE with decoder rows `atoms` [m, d] (scaled by `atomScale` to exercise ã = ‖d‖f), encoder
 * `wEnc` [d, m] (default: the dual basis) with bias −λ, b_dec = bias, and λ_e = λ stored.
 */
export function reluSae(atoms: Float32Array, m: number, d: number, opts: { lambda: number; bias: Float32Array; wEnc?: Float32Array; atomScale?: number; matryoshkaWidths?: number[] }): Sae {
  const scale = opts.atomScale ?? 1;
  const wEnc = (opts.wEnc ?? dualEncoder(atoms, m, d)).slice();
  // f = ã/‖d‖: divide the encoder by the scale so that ã is unchanged.
  for (let i = 0; i < wEnc.length; i++) wEnc[i]! /= scale;
  const wDec = atoms.slice(0, m * d);
  for (let i = 0; i < wDec.length; i++) wDec[i]! *= scale;
  return {
    cfg: {
      activation: 'relu', dIn: d, dSae: m, dOut: d, transcoder: false, applyBDecToInput: true, normalizeActivations: 'none',
      rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {}, training: { lambdaE: opts.lambda },
      ...(opts.matryoshkaWidths ? { matryoshkaWidths: opts.matryoshkaWidths } : {}),
    },
    wEnc,
    bEnc: new Float32Array(m).fill(-opts.lambda / scale),
    wDec,
    bDec: opts.bias.slice(),
  };
}

/**
 * Three families, each a parent with 3 exclusive children at 60° (every parent event carries exactly one
 * child: the parent is the union of its children); a, b that always fire together; c and z independent.
 * Feature rows: P_h at 4h, children 4h+1..4h+3, then a (12), b (13), c (14), z (15).
 */
export function familyData(seed: number, n: number, d = 32) {
  const rnd = seededRandom(seed);
  const basis = orthonormalRows(16, d, rnd);
  const F = 16;
  const features = basis.slice();
  const cos60 = 0.5, sin60 = Math.sqrt(3) / 2;
  for (let h = 0; h < 3; h++) for (let c = 1; c <= 3; c++) {
    const f = 4 * h + c;
    for (let j = 0; j < d; j++) features[f * d + j] = cos60 * basis[4 * h * d + j]! + sin60 * basis[f * d + j]!;
  }
  const codes = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    for (let h = 0; h < 3; h++) if (rnd() < 0.15) { codes[r * F + 4 * h] = 1; codes[r * F + 4 * h + 1 + Math.floor(rnd() * 3)] = 1; }
    if (rnd() < 0.1) { codes[r * F + 12] = 1; codes[r * F + 13] = 1; }
    if (rnd() < 0.1) codes[r * F + 14] = 1;
    if (rnd() < 0.1) codes[r * F + 15] = 1;
  }
  const bias = randomBias(d, rnd, 0.1);
  return { x: assemble(codes, features, n, F, d, bias, 0.005, rnd), n, features, bias, F };
}

