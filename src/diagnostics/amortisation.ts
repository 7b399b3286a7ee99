/**
 * The amortisation gap (docs/theory.md §B5): exact codes a* by nonnegative FISTA on (D̂, b_dec, λ_e), warm-started
 * at the encoder's codes ã, compared with ã: objective gap, support Jaccard, per-latent false negatives and
 * positives, and the liveness split (encoder-dead: dead under ã but live under a* — resample the encoder
 * only; dictionary-dead: dead under both).
 */
import { archSpec } from '../sae/arch/registry';
import type { CodeSet } from './codeResiduals';
import { finishCodeSet, perRowObjective } from './codeResiduals';
import { quantile } from './linalg';
import { exactCodes } from './lassoCodes';
import type { ExactCodes } from './lassoCodes';
import { centredRows } from './context';
import type { DiagnosticContext } from './context';
import { REFERENCE_DESCRIPTION, ihtCodes, l0Objective, ompCodes } from './l0ReferenceCodes';
import type { ReferenceKind } from './l0ReferenceCodes';

export interface AmortisationReport {
  rows: number;
  /** The reference codes the encoder's codes are compared with: lasso (L1), OMP (TopK), IHT (JumpReLU). */
  reference: { kind: ReferenceKind; description: string };
  objectiveSae: number;
  objectiveExact: number;
  /** Δ_obj = (ℓ(ã) − ℓ(a*))/ℓ(a*). */
  objectiveGap: number;
  meanJaccard: number;
  /** a* solver facts: max KKT violation (units of λ_e), rounds, rows left unconverged. */
  solver: { maxViolation: number; rounds: number; unconvergedRows: number };
  perLatent: { fn: Float32Array; fp: Float32Array };
  /** Median / 90th percentile over latents live under a*. */
  summary: { fnMedian: number; fnP90: number; fpMedian: number; fpP90: number };
  encoderDead: number[];
  dictionaryDead: number[];
  reason: Record<string, string>;
}

/** Computes a* for the rows of an SAE code set (targets = x − b_dec) and returns it as a code set. */
export function exactCodeSet(sae: CodeSet, targets: Float32Array, unitAtoms: Float32Array, lambdaE: number): { codes: CodeSet; solver: ExactCodes } {
  const sol = exactCodes(targets, unitAtoms, sae.n, sae.m, sae.d, lambdaE, sae);
  const codes = finishCodeSet({ source: 'exact', kind: 'l1', n: sae.n, m: sae.m, d: sae.d, rowPtr: sol.rowPtr, idx: sol.idx, val: sol.val, residual: sol.residual }, unitAtoms);
  return { codes, solver: sol };
}

/**
 * Compares SAE codes with exact codes on the same rows. `deadUnderSae` marks latents that never fire under ã
 * on the larger sample (C1), so that the liveness split uses the best estimate of "dead".
 */
export function amortisationGap(sae: CodeSet, exact: CodeSet, solver: Pick<ExactCodes, 'maxViolation' | 'rounds' | 'unconvergedRows'>, lambdaE: number, deadUnderSae: Uint8Array,
  reference: { kind: ReferenceKind; objective?: (c: CodeSet) => Float64Array } = { kind: 'lasso' }): AmortisationReport {
  const { n, m } = sae;
  const reason: Record<string, string> = {};
  const objective = reference.objective ?? ((c: CodeSet) => perRowObjective(c, lambdaE));
  const lS = objective(sae), lE = objective(exact);
  let objS = 0, objE = 0;
  for (let r = 0; r < n; r++) { objS += lS[r]; objE += lE[r]; }
  objS /= n; objE /= n;
  let jac = 0;
  const onS = new Uint8Array(m);
  const fnCount = new Float64Array(m), fpCount = new Float64Array(m);
  for (let r = 0; r < n; r++) {
    for (let k = sae.rowPtr[r]; k < sae.rowPtr[r + 1]; k++) onS[sae.idx[k]] = 1;
    let inter = 0;
    const sizeE = exact.rowPtr[r + 1] - exact.rowPtr[r], sizeS = sae.rowPtr[r + 1] - sae.rowPtr[r];
    for (let k = exact.rowPtr[r]; k < exact.rowPtr[r + 1]; k++) {
      const i = exact.idx[k];
      if (onS[i]) { inter++; onS[i] = 2; } else fnCount[i]++;
    }
    for (let k = sae.rowPtr[r]; k < sae.rowPtr[r + 1]; k++) { const i = sae.idx[k]; if (onS[i] === 1) fpCount[i]++; onS[i] = 0; }
    const uni = sizeE + sizeS - inter;
    jac += uni === 0 ? 1 : inter / uni;
  }
  const fn = new Float32Array(m).fill(NaN), fp = new Float32Array(m).fill(NaN);
  const fnVals: number[] = [], fpVals: number[] = [];
  const encoderDead: number[] = [], dictionaryDead: number[] = [];
  for (let i = 0; i < m; i++) {
    const exactOn = exact.count[i], exactOff = n - exact.count[i];
    if (exactOn > 0) { fn[i] = fnCount[i] / exactOn; fnVals.push(fn[i]); }
    if (exactOff > 0 && (sae.count[i] > 0 || exactOn > 0)) { fp[i] = fpCount[i] / exactOff; fpVals.push(fp[i]); }
    if (deadUnderSae[i]) (exactOn > 0 ? encoderDead : dictionaryDead).push(i);
  }
  if (fnVals.length < m) reason.perLatent = 'FN is null for latents that never fire under a* in the sample; FP is null for latents dead under both';
  const gap = objE > 0 ? (objS - objE) / objE : NaN;
  if (!Number.isFinite(gap)) reason.objectiveGap = 'the exact objective is 0 (the sample is reconstructed exactly by b_dec)';
  if (solver.unconvergedRows > 0) reason.solver = reference.kind === 'lasso' ? `${solver.unconvergedRows} rows still violate KKT by more than the tolerance after ${solver.rounds} working-set rounds` : `${solver.unconvergedRows} rows still changed their support in the last of ${solver.rounds} iterations`;
  if (!Number.isFinite(solver.maxViolation)) reason.solverViolation = 'the KKT violation is defined for lasso codes only';
  return {
    rows: n, reference: { kind: reference.kind, description: REFERENCE_DESCRIPTION[reference.kind] }, objectiveSae: objS, objectiveExact: objE, objectiveGap: gap, meanJaccard: jac / n,
    solver: { maxViolation: solver.maxViolation, rounds: solver.rounds, unconvergedRows: solver.unconvergedRows },
    perLatent: { fn, fp },
    summary: { fnMedian: quantile(fnVals, 0.5), fnP90: quantile(fnVals, 0.9), fpMedian: quantile(fpVals, 0.5), fpP90: quantile(fpVals, 0.9) },
    encoderDead, dictionaryDead, reason,
  };
}

/**
 * The amortisation gap of an L0-type SAE against its own reference codes (docs/theory.md §B5): OMP with k atoms
 * for TopK/BatchTopK, IHT with the per-atom thresholds ‖d_i‖θ_i for JumpReLU. `sae` holds the SAE's codes
 * on the first rows of the context; undefined with a reason when no reference applies.
 */
export function l0AmortisationGap(ctx: DiagnosticContext, sae: CodeSet, deadUnderSae: Uint8Array): AmortisationReport | { reason: string } {
  const { cfg } = ctx.sae;
  if (cfg.transcoder) return { reason: 'transcoders have no reference codes (the codes cannot see the target y)' };
  const { n, m, d } = sae;
  const targets = centredRows(ctx, n);
  let ref;
  let tau: Float32Array | undefined;
  const spec = archSpec(cfg.activation);
  if (spec.codeKind === 'l0' && !spec.usesK) {
    if (!ctx.sae.threshold) return { reason: `the ${cfg.activation} SAE has no thresholds θ: IHT needs them` };
    tau = Float32Array.from(ctx.sae.threshold, (t, i) => t * ctx.atomNorms[i]!);
    ref = { kind: 'iht' as const, codes: ihtCodes(targets, ctx.unitAtoms, n, m, d, tau, sae) };
  } else if (spec.usesK) {
    if (!(cfg.k !== undefined && cfg.k >= 1)) return { reason: `the ${cfg.activation} SAE has no k: OMP needs it` };
    ref = { kind: 'omp' as const, codes: ompCodes(targets, ctx.unitAtoms, n, m, d, cfg.k) };
  } else return { reason: `no L0 reference for ${cfg.activation} codes` };
  const c = ref.codes;
  const codes = finishCodeSet({ source: 'exact', kind: 'l0', n, m, d, rowPtr: c.rowPtr, idx: c.idx, val: c.val, residual: c.residual }, ctx.unitAtoms);
  return amortisationGap(sae, codes, { maxViolation: NaN, rounds: c.iterations, unconvergedRows: c.unconvergedRows }, NaN, deadUnderSae, { kind: ref.kind, objective: (cs) => l0Objective(cs, tau) });
}
