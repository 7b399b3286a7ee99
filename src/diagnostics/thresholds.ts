/**
 * Every heuristic ([H]) threshold of THEORY.md §3–§5 in one place, with the value chosen and why.
 * Calibration on the synthetic suite is described in docs/diagnostics.md.
 */
export const THRESHOLDS = {
  /** B4: KKT_off counts a missed activation when ⟨d̂_i, r⟩ exceeds this multiple of the threshold. */
  kktOffMargin: 1.1,
  /** B4: SAE codes "good" / "poor" bands for KKT_on and KKT_off (THEORY.md B4). */
  kktOnGood: 0.25,
  kktOnPoor: 0.5,
  kktOffGood: 0.01,
  kktOffPoor: 0.05,
  /** B4: exact-solver sanity (acceptance test 1). */
  kktOnSolver: 1e-3,
  /** B4: flag non-stationary if STAT > max(statSigmas·SE, statFloor). */
  statSigmas: 3,
  statFloor: 0.05,
  /** B4: an atom's STAT/KKT_on need at least this many firings in the sample; below it they are not computed. */
  minFirings: 10,
  /** B4: how many atoms get a pull direction (the most non-stationary first). */
  maxPullAtoms: 512,
  pullTop: 3,
  /** B3: identity residual over live pairs with cos_ij above this. */
  identityMinCos: 0.1,
  /** B3: at most this many pairs are kept (highest cosine first). */
  maxIdentityPairs: 2_000_000,
  /** B5: FISTA stops when the max KKT violation < solverTol·λ_e, or after solverMaxIter iterations. */
  solverTol: 1e-4,
  solverMaxIter: 500,
  /** B5: outer working-set rounds (each adds the worst off-support violators per row). */
  solverMaxRounds: 12,
  solverAddPerRound: 16,
  /** C1: dense / ultra-dense firing rates; dead = no firing (reported bound p < 3/N); N for a trustworthy dead count. */
  dense: 0.1,
  ultraDense: 0.5,
  deadMinRows: 100_000,
  /** C2: antipodal when cos ≤ −0.9; dense when min p ≥ 0.05; exclusive when P(both)/min p ≤ 0.05. */
  antipodalCos: -0.9,
  antipodalDenseP: 0.05,
  antipodalCoactivation: 0.05,
  /**
   * C2: a dense pair whose ŝ has excess kurtosis above this is heavy-tailed — more like opposite sparse
   * features that fire often (G4 at S = 0.9: 3.2–3.9) than a dense direction (G3: −0.1 to 0.7).
   */
  antipodalHeavyTail: 2,
  /** C2: principal components of x compared with each pair's axis. */
  antipodalPcs: 5,
  /** Default rows for the B-diagnostics (THEORY.md B4: N = 16384) and for the exact-code (B5/D1) subsample. */
  sampleRows: 16384,
  exactRows: 2048,
} as const;

/** Which conditions apply to a set of codes: L1 (λ_e on the support) or L0-type (TopK, JumpReLU). */
export type CodeKind = 'l1' | 'l0';
