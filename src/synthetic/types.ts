/** The shape every synthetic generator returns (docs/theory.md §G): data, ground truth and how it was made. */
export type SyntheticKind = 'g1' | 'g2' | 'g3' | 'g4' | 'g5' | 'g6' | 'g7';

export interface HierarchyGroup {
  parent: number;
  children: number[];
}

export interface SyntheticDataset {
  kind: SyntheticKind;
  /** Activations [n, d]. */
  x: Float32Array;
  n: number;
  d: number;
  /** Ground-truth feature directions [F, d], unit rows. */
  features: Float32Array;
  nFeatures: number;
  /** The true offset b_true [d]. */
  bias: Float32Array;
  /** Ground-truth magnitudes s [n, F] (absent when too large to keep). */
  codes?: Float32Array;
  hierarchy?: HierarchyGroup[];
  /** G3: the dense direction v (unit); its per-row scalar is meta.denseScale. */
  denseDirection?: Float32Array;
  meta: Record<string, unknown>;
}

/** Options every generator understands; each kind adds its own (unknown keys are ignored). */
export interface CommonOptions {
  seed?: number;
  /** Rows n. */
  tokens?: number;
  dIn?: number;
  features?: number;
  /** Standard deviation σ of isotropic Gaussian noise ξ (docs/theory.md §G: 0 or 0.01). */
  noise?: number;
  /** Norm of the true offset b_true (a random direction); 0 for none. */
  biasNorm?: number;
}

export interface G1Options extends CommonOptions {
  /** Feature sparsity S: each feature is active with probability 1 − S. */
  sparsity?: number;
  /** Magnitude c_min + Exp(mean expMean). */
  cMin?: number;
  expMean?: number;
  /** Target max |cos| between features for the interference-reducing projection. */
  maxInterference?: number;
  projectionSteps?: number;
}

export interface G2Options extends CommonOptions {
  parents?: number;
  /** Exclusive children per parent. */
  children?: number;
  /** P(parent active). */
  parentRate?: number;
  /** q = P(some child | parent); the child is picked uniformly among the parent's children. */
  childRate?: number;
  /** Parent–child angle θ in degrees (90 or 60 in docs/theory.md). */
  angleDeg?: number;
  magnitudes?: 'constant' | 'uniform';
  /** "Solo" variant: P(child ∧ ¬parent) per child and row; 0 is the nested case. */
  soloRate?: number;
}

export interface G3Options extends G1Options {
  /** Standard deviation σ_v of the dense scalar s (σ_v ≫ λ_e). */
  denseScale?: number;
  /** One-sided s = |N(0, σ_v²)| instead of two-sided. */
  oneSided?: boolean;
}

export interface G4Options extends CommonOptions {
  sparsity?: number;
}

export interface G5Options extends CommonOptions {
  sparsity?: number;
  /** Vertices per polygon (2 = digons); default features / (d/2). */
  polygon?: number;
}

export interface G6Options extends CommonOptions {
  /** Rates of the three exclusive events: A alone, B alone, A and B together. */
  soloA?: number;
  soloB?: number;
  joint?: number;
  /** Angle between A and B in degrees. */
  angleDeg?: number;
  /** Independent sparse distractor features (each active with probability distractorRate). */
  distractors?: number;
  distractorRate?: number;
}

export type G7Options = CommonOptions;

export type GenerateOptions = G1Options & G2Options & G3Options & G4Options & G5Options & G6Options;
