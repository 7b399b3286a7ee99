/**
 * Every heuristic ([H]) threshold of docs/theory.md §B–§5 in one place, with the value chosen and why.
 * Calibration on the synthetic suite is described in docs/diagnostics.md.
 */
export const THRESHOLDS = {
  /** B4: KKT_off counts a missed activation when ⟨d̂_i, r⟩ exceeds this multiple of the threshold. */
  kktOffMargin: 1.1,
  /** B4: SAE codes "good" / "poor" bands for KKT_on and KKT_off (docs/theory.md §B4). */
  kktOnGood: 0.25,
  kktOnPoor: 0.5,
  kktOffGood: 0.01,
  kktOffPoor: 0.05,
  /**
   * B4, TopK: a kept code counts toward the row's θ (l0RowScale) when it is at least this fraction of the RMS
   * of the row's kept codes (a quarter of their mean energy); below it the code is one the row does not need
   * (k above the row's features). [H] docs/diagnostics.md "KKT for L0 codes" (bench/calibrate-findings.ts).
   */
  l0MaterialCode: 0.5,
  /** B4: exact-solver sanity (acceptance test 1). */
  kktOnSolver: 1e-3,
  /** B4: flag non-stationary if STAT > max(statSigmas·SE, statFloor) (L1 codes: G1 true dictionary 0/320 flagged, G2 children 100%). */
  statSigmas: 3,
  statFloor: 0.05,
  /**
   * B4, L0 codes (TopK, BatchTopK, JumpReLU; STAT is the code–residual correlation along the pull): flag if
   * STAT > max(statSigmasL0·SE, statFloorL0). [H] Calibrated on SAEs trained on G1 and diagnosed on held-out
   * rows (bench/calibrate-l0stat.ts; docs/diagnostics.md "L0 STAT calibration"): TopK, 5 seeds: 0 of 157
   * converged atoms flagged; atoms rotated by 5° flagged on 93–100% per seed, 10° and 20° 93–100%, an SAE
   * stopped at 1/20 of training 100%. σ = 2 flags 3.2–3.3% of converged atoms on 2 seeds, σ = 4 misses up to 63%
   * at 5°. The floor 0.1 (not 0.05) changes nothing on TopK and clears a converged JumpReLU SAE whose atoms
   * sit at STAT ≈ 0.07 (3.2 SE), flagged 66% at 0.05.
   */
  statSigmasL0: 3,
  statFloorL0: 0.1,
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
  /** B5: IHT (JumpReLU reference codes) stops after this many proximal steps (two GEMMs each) at the latest. */
  ihtMaxIter: 100,
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
   * C2: a frequency-dense axis whose code ŝ = Σ₊ã − Σ₋ã has excess kurtosis above this is reclassified as
   * sparse (opposite sparse features that fire often, like digons). [H] Calibrated: true dictionaries G3
   * −0.1 to 0.7, G4 (S = 0.9) 3.2–3.9; trained SAEs (5 seeds) G3 1.4–1.9, G4 (S = 0.95) 5.9–9.2.
   */
  antipodalHeavyTail: 2.5,
  /** C2: principal components of x compared with each pair's axis. */
  antipodalPcs: 5,
  /** Default rows for the B-diagnostics (docs/theory.md §B4: N = 16384) and for the exact-code (B5/D1) subsample. */
  sampleRows: 16384,
  exactRows: 2048,
} as const;

/** Which conditions apply to a set of codes: L1 (λ_e on the support) or L0-type (TopK, JumpReLU). */
export type CodeKind = 'l1' | 'l0';

/** The B4 non-stationarity rule for a kind of codes: flag when STAT > max(sigmas·SE, floor). */
export function statRule(kind: CodeKind): { sigmas: number; floor: number } {
  return kind === 'l1' ? { sigmas: THRESHOLDS.statSigmas, floor: THRESHOLDS.statFloor } : { sigmas: THRESHOLDS.statSigmasL0, floor: THRESHOLDS.statFloorL0 };
}

/* ---------- duplicated atoms (./duplicates.ts) ---------- */
export const DUPLICATES = {
  /**
   * Two live atoms with decoder cos ≥ this are reported as duplicates. [H] The closest legitimately distinct
   * atoms the synthetic suite produces are merged siblings under absorption at 60° (cos 0.75, docs/theory.md §C3)
   * and a child's merged atom against its parent's at 60° (cos 0.87); 0.9 stays above both.
   */
  cosine: 0.9,
  /** "Together": both fire on ≥ this share of the rarer one's rows; "apart": ≤ this. [H] */
  together: 0.5,
  apart: 0.1,
  /** Pairs listed in the report (closest first); the counts cover all. */
  maxListed: 200,
};

/* ---------- C3 absorption (docs/theory.md §C C3) ---------- */
export const ABSORPTION = {
  /** τ_p = this × median(q | ã_p > 0). [H] */
  presenceFraction: 0.5,
  /**
   * An absorber c must be nested in p: mean(q_p | ã_c > 0) ≥ this × median(q_p | ã_p > 0), i.e. c's
   * firings carry p's direction at full strength on average. Without it, at the absorbing optimum each
   * merged atom m ∝ w_P + w_c looks absorbed by the parent latent (its direction is present on parent-only
   * rows at exactly half strength: ⟨m, w_P⟩/⟨m, w_P + w_c⟩ = 1/2 for equal magnitudes, any angle) and by
   * its siblings (3/4 at 60°). Genuine absorbers give ≈ 1. [H, calibrated on G2-style data; see
   * docs/diagnostics-absorption.md]
   */
  minNesting: 0.85,
  /** A hole is absorbed when ã_c cos(d̂_c, d̂_p) ≥ this × q_n. [H] */
  attributedShare: 0.5,
  /** Minimum cos(d̂_c, d̂_p) of an absorber (as SAEBench's absorption metric). [H] */
  minAbsorberCosine: 0.1,
  /** Full absorption: AR_p ≥ this … [H] */
  fullRate: 0.1,
  /** … and some absorber with exclusivity E_pc ≥ this. [H] */
  fullExclusivity: 0.9,
  /** Partial absorption: p co-fires with c at < this × its median activation. [H] */
  partialActivationRatio: 0.5,
  /** Partial absorption needs p to co-fire on at least this share of c's firings (else it is chance). [H] */
  partialMinCoFiring: 0.1,
  /** Encoder suppression: relative response below −this × ⟨w_enc,p, d̂_p⟩. [H] */
  encoderSuppressionMargin: 0.05,
  /** Minimum #{n : q_n ≥ τ_p} for AR_p to be reported (below: NaN with a reason). [H] */
  minPresentRows: 10,
  /**
   * The no-absorption sentence says "the latent itself fires" only when the median share of present rows on
   * which the latent is silent is at most this; otherwise it reports the holes and what absorbers take. [H]
   */
  fewHoles: 0.1,
  /** Ground truth: the absorber must have cos ≥ this with the true parent direction (docs/theory.md §C3). */
  gtAbsorberCosine: 0.1,
};

/* ---------- C4 split trees (docs/theory.md §C C4) ---------- */
export const SPLIT_TREE = {
  /** Within one dictionary, edge j → i: P(ã_j > 0 | ã_i > 0) ≥ this … [H] */
  dagParentGivenChild: 0.9,
  /** … P(ã_i > 0 | ã_j > 0) ≤ this … [H] */
  dagChildGivenParent: 0.5,
  /** … and cos_ij ≥ this. [H] */
  dagMinCosine: 0.2,
  /**
   * No within-dictionary edge (co-firing or direction) between atoms at cos ≥ this: they are one feature split
   * in two, not parent and child (a child k levels down sits at cos k/√(k(k+1)) to its parent, 0.82 at depth 2;
   * on seeds 6–10 true edges reach 0.76, same-feature pairs 0.67–0.94).
   */
  dagMaxCosine: 0.85,
  /**
   * Across widths (./widthEdges.ts): a parent is kept when its confidence — the mean of decoder cosine and
   * encoder agreement — reaches this … [H, calibrated: bench/calibrate-tree.ts on seeds 6–10 (trained ReLU
   * and TopK SAEs on three synthetic hierarchies), a grid over τ 0.2–0.6 × ρ 0.4–0.9 and nine forms of the
   * confidence (with and without containment, strength-weighted containment, weights, geometric mean)
   * maximising the worst label's min(precision, recall); τ 0.2–0.3 give the same figures; reported on
   * seeds 1–5 in docs/split-trees.md "Calibration"]
   */
  edgeConfidence: 0.3,
  /**
   * … and at least this × the best candidate's confidence (a second parent makes a merge; when the best is
   * j's own feature, at decoder cos ≥ DUPLICATES.cosine, only its duplicates are further parents). [H, same grid;
   * re-chosen on seeds 6–10 with that same-feature rule after TopK's free decoder rows: 0.45]
   */
  mergeRelative: 0.45,
  /** Same-index atoms this close across widths are the shared initialisation of one seed (./widthEdges.ts). [D] */
  sharedInitCosine: 0.99999,
  /** A split needs coverage P(some child fires | ã^S_i > 0) ≥ this … [H] */
  splitCoverage: 0.8,
  /** … and pairwise co-activation ratio of the children ≤ this. [H] */
  splitMaxCoActivation: 0.1,
  /**
   * A row counts as a co-activation of two children only when both codes are at least this share of the
   * row's strongest child code: an amortised encoder fires a merged child atom m_c ∝ w_P + w_c on its
   * siblings' rows too (a tied ReLU encoder at 1/√2 − λ against √2 − λ for the owner), which is leakage,
   * not a shared feature; duplicate children fire at similar strength. [H] (docs/split-trees.md)
   */
  coActivationShare: 0.5,
  /** Two co-active children this close are reported as duplicates when they keep a latent from splitting. [H] */
  duplicateCosine: 0.9,
  /** Centroid check (B2, near-1-sparse codes): cos(d̂^S_i, centroid) ≥ this. [D, Med] */
  centroidMinCosine: 0.9,
  /** Matryoshka prefix levels: parent = the earlier-level latent with the highest containment among cos ≥ dagMinCosine; kept if containment ≥ this. [H] */
  matryoshkaMinContainment: 0.8,
  /** Fewer firings than this: a latent's conditional frequencies are not estimated (no edges). [H] */
  minFirings: 5,
  /** Robust ρ for V_ij: this quantile of ‖r‖ (docs/theory.md: q₉₉). */
  robustRhoQuantile: 0.99,
};

/**
 * C4 within one dictionary when absorption hides the nesting (./nesting.ts): parent j → child i when j's
 * direction is carried at full strength on i's rows but not conversely. [H, calibrated: bench/calibrate-tree.ts
 * on seeds 6–10, figures quoted on seeds 1–5; docs/split-trees.md "Within one SAE"]
 */
export const NESTING = {
  /**
   * Candidate parents: atoms at decoder cos ≥ this (a child k levels below a root sits at cos √(k/(k+1)) ≥ 0.71
   * to its parent) and below DUPLICATES.cosine (closer pairs are duplicated atoms, ./duplicates.ts) …
   */
  minCosine: 0.3,
  /** … at most this many per latent, closest first. */
  maxCandidates: 8,
  /** forward = median ⟨x̂, d̂_j⟩ on i's rows / median on j's own rows ≥ this (≈ 1 for a parent) … */
  minForward: 0.8,
  /**
   * … and ≤ this: far above 1, j's own rows carry its direction more weakly than i's rows do, so j is not a
   * parent but a latent doing another's work too (a TopK child atom firing on its parent's rows, whose
   * sibling then looks nested under it; seeds 6–10: 0.75 → 0.79 precision at the same recall).
   */
  maxForward: 1.3,
  /** … and forward − reverse ≥ this (siblings and duplicates are symmetric; a child at depth k gives 1 − k/(k+1)). */
  minMargin: 0.25,
  /**
   * A latent with no parent by the rule above (co-firing or direction) takes its candidate of largest margin
   * when forward ≥ minForward and forward − reverse ≥ this: below the root level the reverse ratio is raised by
   * the parent's other children on its rows, so a true nesting can sit under minMargin (seeds 6–10).
   */
  orphanMargin: 0.2,
  /** Rows per latent for the medians (spread evenly over its firings). */
  maxRows: 256,
};

/* ---------- C5 residual structure (docs/theory.md §C C5) ---------- */
export const RESIDUAL = {
  /** Flag a spike when μ₁/median(μ) > this. [H] */
  spikeRatio: 5,
  /**
   * A spike must also carry variance beyond what KKT-consistent residuals allow along one direction:
   * ⟨d̂, r⟩ ∈ [·, λ_e] on and off support, and a variable confined to an interval of width λ_e has
   * variance ≤ λ_e²/4 (Popoviciu). [D]
   */
  spikeMinVarianceOverLambda2: 0.25,
  /** |cos(u_k, d̂_j)| ≥ this: the spike is along an existing atom (partial-absorption residue). [H] */
  atomAlignedCosine: 0.7,
  /** Excess kurtosis ≥ this: heavy-tailed (unlearned sparse feature). [H] */
  heavyTailKurtosis: 3,
  /** |excess kurtosis| ≤ this and both signs ≥ twoSidedMinShare: dense Gaussian-like direction. [H] */
  gaussianKurtosis: 1,
  twoSidedMinShare: 0.25,
  /** G* ≤ this × E[½‖r‖²] counts as zero (float32 round-off of ‖r‖ = λ_e exactly). [numerical] */
  gainZeroRelative: 1e-9,
  /** Off-support tail histogram: range ±this·λ_e with histogramBins bins (q₉₉ resolution 8/512 λ_e). */
  histogramRange: 4,
  histogramBins: 512,
};

/* ---------- D2 convex reference (docs/theory.md §D D2) ---------- */
export const CONVEX_REFERENCE = {
  /** FISTA stops at relative objective change < this … */
  relativeTolerance: 1e-6,
  /** … or after this many iterations. */
  maxIterations: 1000,
  /** A row of A counts as a used atom when its norm exceeds this × the largest row norm. [numerical] */
  usedAtomRelative: 1e-6,
};
