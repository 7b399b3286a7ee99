/**
 * What every diagnostic starts from: an SAE and a sample of activations, encoded once. Holds the codes,
 * the residuals and the normalised quantities of THEORY.md §1 (unit atoms d̂_i, effective codes
 * ã_i = ‖d_i‖ f_i), and λ_e. Diagnostics read this; none re-encodes.
 */
import { InputError } from '../errors';
import { decoderNorms, forward } from '../sae/forward';
import type { Sae } from '../sae/types';

export interface DiagnosticContext {
  sae: Sae;
  /** Activation rows [n, dIn] (the raw input; for transcoders the input site). */
  x: Float32Array;
  /** Targets [n, dOut]: x itself for SAEs, the output site for transcoders. */
  y: Float32Array;
  n: number;
  /** Raw codes f [n, dSae]. */
  codes: Float32Array;
  /** Effective codes ã = ‖d_i‖ f_i [n, dSae]. */
  effCodes: Float32Array;
  /** Residuals r = y − ŷ [n, dOut]. */
  residual: Float32Array;
  /** Decoder row norms ‖d_i‖ [dSae]. */
  atomNorms: Float32Array;
  /** Unit atoms d̂_i [dSae, dOut] (zero rows stay zero). */
  unitAtoms: Float32Array;
  /** Firing probability p_i [dSae]. */
  firing: Float32Array;
  /** λ_e used by the KKT-type diagnostics, and where it came from. */
  lambdaE: number;
  lambdaSource: 'stored' | 'estimated' | 'given';
  /** λ̂_e estimated from the codes (median ⟨d̂_i, r⟩ over active pairs), always computed as a check; NaN if nothing fires. */
  lambdaEstimate: number;
}

export interface ContextOptions {
  /** Override λ_e. */
  lambdaE?: number;
  /** Targets for transcoders. */
  y?: Float32Array;
}

/** Encodes the sample once and derives everything diagnostics share. */
export function buildContext(sae: Sae, x: Float32Array, n: number, opts: ContextOptions = {}): DiagnosticContext {
  const { dIn, dSae, dOut } = sae.cfg;
  if (x.length < n * dIn) throw new InputError('activations', `expected ${n} rows of d_in ${dIn}, got ${x.length} values`);
  const y = opts.y ?? (sae.cfg.transcoder ? undefined : x);
  if (!y) throw new InputError('activations', 'a transcoder needs target activations (the output site)');
  const { codes, recon } = forward(sae, x, n);
  const residual = new Float32Array(n * dOut);
  for (let i = 0; i < n * dOut; i++) residual[i] = y[i]! - recon[i]!;
  const atomNorms = decoderNorms(sae);
  const unitAtoms = new Float32Array(dSae * dOut);
  for (let i = 0; i < dSae; i++) {
    const nrm = atomNorms[i]!;
    if (nrm > 0) for (let j = 0; j < dOut; j++) unitAtoms[i * dOut + j] = sae.wDec[i * dOut + j]! / nrm;
  }
  const effCodes = new Float32Array(n * dSae);
  const firing = new Float32Array(dSae);
  for (let r = 0; r < n; r++) for (let i = 0; i < dSae; i++) {
    const v = codes[r * dSae + i]! * atomNorms[i]!;
    effCodes[r * dSae + i] = v;
    if (v > 0) firing[i]! += 1;
  }
  for (let i = 0; i < dSae; i++) firing[i]! /= n;
  let lambdaE: number;
  let lambdaSource: DiagnosticContext['lambdaSource'];
  const stored = Number(sae.cfg.training?.lambdaE);
  const lambdaEstimate = estimateLambdaE(residual, unitAtoms, effCodes, n, dSae, dOut);
  if (opts.lambdaE !== undefined) { lambdaE = opts.lambdaE; lambdaSource = 'given'; }
  else if (Number.isFinite(stored) && stored > 0) { lambdaE = stored; lambdaSource = 'stored'; }
  else { lambdaE = lambdaEstimate; lambdaSource = 'estimated'; }
  return { sae, x, y, n, codes, effCodes, residual, atomNorms, unitAtoms, firing, lambdaE, lambdaSource, lambdaEstimate };
}

/** λ̂_e = median of ⟨d̂_i, r⟩ over active pairs (THEORY.md §1), a consistency check on the stored λ_e. */
export function estimateLambdaE(residual: Float32Array, unitAtoms: Float32Array, effCodes: Float32Array, n: number, dSae: number, dOut: number): number {
  const vals: number[] = [];
  const cap = 200_000;
  for (let r = 0; r < n && vals.length < cap; r++) {
    for (let i = 0; i < dSae; i++) {
      if (!(effCodes[r * dSae + i]! > 0)) continue;
      let s = 0;
      for (let j = 0; j < dOut; j++) s += unitAtoms[i * dOut + j]! * residual[r * dOut + j]!;
      vals.push(s);
    }
  }
  if (vals.length === 0) return NaN;
  vals.sort((a, b) => a - b);
  return vals[Math.floor(vals.length / 2)]!;
}
