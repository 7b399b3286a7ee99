/**
 * What every diagnostic starts from: an SAE and a sample of activations, encoded once. Holds the codes (the
 * effective codes ã_i = ‖d_i‖ f_i of docs/theory.md §1, as CSR with residuals and on-support projections — never
 * the dense [n, d_sae] matrix), the residuals, the unit atoms d̂_i, and λ_e. Diagnostics read this; none
 * re-encodes.
 */
import { InputError } from '../errors';
import { archSpec } from '../sae/arch/registry';
import { decoderNorms } from '../sae/forward';
import type { Sae } from '../sae/types';
import { finishCodeSet } from './codeResiduals';
import type { CodeSet } from './codeResiduals';
import { encodeSparse } from './encoderCodes';
import type { CodeKind } from './thresholds';

export interface DiagnosticContext {
  sae: Sae;
  /** Activation rows [n, dIn] (the raw input; for transcoders the input site). */
  x: Float32Array;
  /** Targets [n, dOut]: x itself for SAEs, the output site for transcoders. */
  y: Float32Array;
  n: number;
  /** The SAE's effective codes ã as CSR, with residuals and ⟨d̂_i, r⟩ on the support (source 'sae'). */
  codes: CodeSet;
  /** Residuals r = y − ŷ [n, dOut] (the same array as codes.residual). */
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

/** Which conditions the SAE's codes obey, as its architecture says: L1 (penalty-shrunk codes) or L0-type (fitted magnitudes). */
export function codeKindOfSae(sae: Sae): CodeKind {
  return archSpec(sae.cfg.activation).codeKind;
}

/** ‖r_n‖ per context row (the split tree's residual weights, the panel's residual histogram). */
export function residualNorms(ctx: DiagnosticContext): Float32Array {
  const d = ctx.sae.cfg.dOut;
  const out = new Float32Array(ctx.n);
  for (let r = 0; r < ctx.n; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += ctx.residual[r * d + j]! ** 2;
    out[r] = Math.sqrt(s);
  }
  return out;
}

/** x − b_dec on the first n rows [n, d_out]: the targets of exact and reference codes (docs/theory.md §B5; SAEs only, d_in = d_out). */
export function centredRows(ctx: DiagnosticContext, n: number): Float32Array {
  const d = ctx.sae.cfg.dOut, b = ctx.sae.bDec;
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) out[r * d + j] = ctx.x[r * d + j]! - b[j]!;
  return out;
}

/** Encodes the sample once (rows split across the diagnostics' threads) and derives everything diagnostics share. */
export function buildContext(sae: Sae, x: Float32Array, n: number, opts: ContextOptions = {}): DiagnosticContext {
  const { dIn, dSae, dOut } = sae.cfg;
  if (x.length < n * dIn) throw new InputError('activations', `expected ${n} rows of d_in ${dIn}, got ${x.length} values`);
  const y = opts.y ?? (sae.cfg.transcoder ? undefined : x);
  if (!y) throw new InputError('activations', 'a transcoder needs target activations (the output site)');
  if (y.length < n * dOut) throw new InputError('activations', `expected ${n} target rows of d_out ${dOut}, got ${y.length} values`);
  const enc = encodeSparse(sae, x, n, { y, keep: 'residual' });
  const residual = enc.residual!;
  const atomNorms = decoderNorms(sae);
  const unitAtoms = new Float32Array(dSae * dOut);
  for (let i = 0; i < dSae; i++) {
    const nrm = atomNorms[i]!;
    if (nrm > 0) for (let j = 0; j < dOut; j++) unitAtoms[i * dOut + j] = sae.wDec[i * dOut + j]! / nrm;
  }
  const codes = finishCodeSet({ source: 'sae', kind: codeKindOfSae(sae), d: dOut, residual, onProj: enc.onProj, ...enc.codes }, unitAtoms);
  const firing = Float32Array.from(codes.count, (c) => c / n);
  let lambdaE: number;
  let lambdaSource: DiagnosticContext['lambdaSource'];
  const stored = Number(sae.cfg.training?.lambdaE);
  const lambdaEstimate = estimateLambdaE(codes);
  if (opts.lambdaE !== undefined) { lambdaE = opts.lambdaE; lambdaSource = 'given'; }
  else if (Number.isFinite(stored) && stored > 0) { lambdaE = stored; lambdaSource = 'stored'; }
  else { lambdaE = lambdaEstimate; lambdaSource = 'estimated'; }
  return { sae, x, y, n, codes, residual, atomNorms, unitAtoms, firing, lambdaE, lambdaSource, lambdaEstimate };
}

/**
 * λ̂_e = median of ⟨d̂_i, r⟩ over active pairs (docs/theory.md §1), a consistency check on the stored λ_e: the
 * first 200,000 active pairs in row order.
 */
export function estimateLambdaE(codes: CodeSet): number {
  const take = Math.min(codes.onProj.length, 200_000);
  if (take === 0) return NaN;
  const vals = Float64Array.from(codes.onProj.subarray(0, take)).sort();
  return vals[Math.floor(take / 2)]!;
}
