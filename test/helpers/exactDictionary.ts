/**
 * A small exact-code dictionary learner: the reference optimum of F(D) = E min_{a≥0} ½‖x − b − Da‖² +
 * λ_e Σa with unit atoms (docs/theory.md §B). It alternates exact codes (./lassoCodes) with block-coordinate
 * atom updates d_i ← normalise(Σ_n a_in (r_n + a_in d_i)), each the exact minimiser over the unit sphere
 * for fixed codes, so F never increases. At a fixed point E[a_i r] ∥ d_i — the stationarity of B2 — which
 * makes it the test bed for the identity of B3 and the tool to compute reference optima on small data.
 * Also builds a ReLU SAE around any dictionary (tied encoder, b_enc = −λ_e) for tests and references.
 */
import { relu } from '../../src/sae/arch/relu';
import { normalizeRows } from '../../src/compute/linalg';
import type { Sae } from '../../src/sae/types';
import { exactCodes } from '../../src/diagnostics/lassoCodes';
import type { ExactCodes } from '../../src/diagnostics/lassoCodes';

export interface DictionaryLearnResult {
  atoms: Float32Array;
  codes: ExactCodes;
  /** F(D) per iteration. */
  objective: number[];
  iterations: number;
  /** Largest atom change (1 − cos) in the last iteration. */
  lastChange: number;
}

/** Learns unit atoms [m, d] from initial atoms, for rows x [n, d] and fixed offset b. */
export function learnExactDictionary(x: Float32Array, n: number, d: number, b: Float32Array, init: Float32Array, m: number, lambdaE: number, opts: { maxIter?: number; tol?: number } = {}): DictionaryLearnResult {
  const atoms = init.slice();
  normalizeRows(atoms, m, d);
  const targets = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) targets[r * d + j] = x[r * d + j] - b[j];
  const objective: number[] = [];
  let codes = exactCodes(targets, atoms, n, m, d, lambdaE, undefined, { tol: 1e-7, maxIter: 3000 });
  let it = 0, lastChange = Infinity;
  const maxIter = opts.maxIter ?? 500, tol = opts.tol ?? 1e-10;
  for (; it < maxIter; it++) {
    objective.push(objectiveOf(codes, n, d, lambdaE));
    const r = codes.residual;
    // per-atom list of (row, value)
    const byAtom: { row: number; v: number }[][] = Array.from({ length: m }, () => []);
    for (let row = 0; row < n; row++) for (let k = codes.rowPtr[row]; k < codes.rowPtr[row + 1]; k++) byAtom[codes.idx[k]].push({ row, v: codes.val[k] });
    lastChange = 0;
    for (let i = 0; i < m; i++) {
      const list = byAtom[i];
      if (list.length === 0) continue;
      const next = new Float64Array(d);
      for (const { row, v } of list) for (let j = 0; j < d; j++) next[j] += v * (r[row * d + j] + v * atoms[i * d + j]);
      let nrm = 0;
      for (let j = 0; j < d; j++) nrm += next[j] ** 2;
      nrm = Math.sqrt(nrm);
      if (nrm === 0) continue;
      let c = 0;
      for (let j = 0; j < d; j++) { const v = next[j] / nrm; c += v * atoms[i * d + j]; }
      // move residuals to the new atom before the next atom's update (Gauss–Seidel)
      for (const { row, v } of list) for (let j = 0; j < d; j++) r[row * d + j] += v * (atoms[i * d + j] - next[j] / nrm);
      for (let j = 0; j < d; j++) atoms[i * d + j] = next[j] / nrm;
      lastChange = Math.max(lastChange, 1 - c);
    }
    codes = exactCodes(targets, atoms, n, m, d, lambdaE, codes, { tol: 1e-7, maxIter: 3000 });
    if (lastChange < tol) { it++; break; }
  }
  objective.push(objectiveOf(codes, n, d, lambdaE));
  return { atoms, codes, objective, iterations: it, lastChange };
}

function objectiveOf(c: ExactCodes, n: number, d: number, lambda: number): number {
  let s = 0;
  for (let i = 0; i < n * d; i++) s += c.residual[i] ** 2;
  let l1 = 0;
  for (const v of c.val) l1 += v;
  return (0.5 * s + lambda * l1) / n;
}

/**
 * A ReLU SAE whose decoder is the given dictionary (rows normalised), with a tied encoder W_enc = D̂ᵀ and
 * b_enc = −λ_e: for near-orthogonal atoms its codes approximate the exact lasso codes. Stores λ_e.
 */
export function dictionarySae(atoms: Float32Array, m: number, d: number, bDec: Float32Array, lambdaE: number): Sae {
  const wDec = atoms.slice();
  normalizeRows(wDec, m, d);
  const wEnc = new Float32Array(d * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) wEnc[j * m + i] = wDec[i * d + j];
  return {
    cfg: {
      activation: relu.name, dIn: d, dSae: m, dOut: d, transcoder: false, applyBDecToInput: true,
      normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32',
      training: { lambdaE, lossConvention: 'half-sum-of-squares' }, metadata: {},
    },
    wEnc, bEnc: new Float32Array(m).fill(-lambdaE), wDec, bDec: bDec.slice(),
  };
}
