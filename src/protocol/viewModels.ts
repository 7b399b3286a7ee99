/**
 * The data model every panel and the HTML report consume. Type-only (plus flag constants): the host or
 * the report writer fills it, webviews render it. Per-latent and per-token columns are typed arrays so
 * that they cross postMessage by structured clone and the report by base64, never as JSON number lists.
 *
 * Diagnostic sections are optional and shaped after docs/theory.md; each carries a `source` saying whether
 * it came from the diagnostics module (src/diagnostics) or from this module's provisional estimate.
 */

/** Where a number came from: the diagnostics module, or the panels' own provisional estimate. */
export type Provenance = 'diagnostics' | 'provisional';

/** Latent flags, one bit each, in `LatentColumns.flags`. */
export const FLAG = {
  dead: 1,
  dense: 2,
  antipodal: 4,
  absorbed: 8,
  absorber: 16,
  split: 32,
  nonStationary: 64,
} as const;
/** The atom map's flag bit beyond FLAG: the atom's max decoder cosine to another is above src/views/atomMap.ts DUPLICATE_COSINE. */
export const DUPLICATED = 1 << 8;
export type FlagName = keyof typeof FLAG;
export const FLAG_NAMES = Object.keys(FLAG) as FlagName[];

/** Sparse labels: latents[i] has text texts[i]. Labels are user text: always rendered as text. */
export interface LabelMap {
  latents: Int32Array;
  texts: string[];
}

/** What the SAE is (the "card" of the dictionary overview). */
export interface SaeCard {
  name: string;
  path: string;
  format: string;
  architecture: string;
  activation: string;
  k?: number;
  dIn: number;
  dSae: number;
  dOut: number;
  transcoder: boolean;
  hookName?: string;
  modelName?: string;
  dtype: string;
  /** Tokens the SAE was trained on, when its config says. */
  trainingTokens?: number;
  /** GEMM engine used for training, when its config says. */
  engine?: string;
  matryoshkaWidths?: number[];
}

/** Reconstruction metrics on the evaluation sample (docs/metrics.md definitions). NaN = not computed. */
export interface ReconstructionMetrics {
  tokens: number;
  /** Conventional EV: 1 − E‖e‖² / (E‖x‖² − ‖E x‖²), numerator and denominator averaged separately. */
  explainedVariance: number;
  l0: number;
  deadFraction: number;
  /** Fraction of latents with density > 0.1 (docs/theory.md §C1). */
  denseFraction: number;
  /** Per-element MSE: Σ‖e‖² / (n·d). */
  msePerElement: number;
  /** Per-token SSE: Σ‖e‖² / n. */
  ssePerToken: number;
  /** Why some metrics are missing (e.g. a transcoder without its targets). */
  note?: string;
}

/** One value per latent. NaN marks "not known". */
export interface LatentColumns {
  count: number;
  density: Float32Array;
  /** Mean activation over the tokens where the latent fires. */
  meanActivation: Float32Array;
  maxActivation: Float32Array;
  decoderNorm: Float32Array;
  /** max_{j≠i} cos(d_i, d_j); a lower bound when `maxCosineExact` is false. */
  maxDecoderCosine: Float32Array;
  maxCosineExact: boolean;
  /** STAT_i of docs/theory.md §B4 (NaN for dead atoms or when not computed). */
  stationarity: Float32Array;
  stationaritySource?: Provenance;
  /** Bits of FLAG. */
  flags: Uint8Array;
  labels: LabelMap;
  /** Latents that have a feature page in this model (the report includes only some). Empty = all. */
  pages?: Int32Array;
}

/** Parsed training_log.jsonl (or live TrainingProgress events): one entry per logged step. */
export interface TrainingModel {
  runId?: string;
  step: Float64Array;
  tokens: Float64Array;
  /** Loss parts by name, each aligned with `step`. */
  loss: { name: string; values: Float32Array }[];
  explainedVariance: Float32Array;
  l0: Float32Array;
  deadFraction: Float32Array;
  tokensPerSecond: Float32Array;
  totalSteps?: number;
  totalTokens?: number;
  etaSeconds?: number;
  engine?: string;
}

export interface DictionaryModel {
  card: SaeCard;
  metrics: ReconstructionMetrics;
  latents: LatentColumns;
  /** Active latents per evaluated token. */
  l0PerToken: Float32Array;
  training?: TrainingModel;
  /** Where the evaluation sample came from ('' when weights only). */
  activationsPath: string;
  /** What the metrics were measured on, in one line (src/io/rowSample.ts describeSample). */
  measuredOn?: string;
  notes: string[];
  /** Metrics against a known ground truth (synthetic data), or why there are none. */
  groundTruth?: GroundTruthModel;
}

/**
 * An SAE against the synthetic ground truth it was trained on (src/metrics/groundTruth.ts, docs/theory.md §G).
 * `metrics` is absent when no ground truth is known or it does not fit; `reason` then says why.
 */
export interface GroundTruthModel {
  /** The ground_truth.safetensors and the activation rows the metrics were computed on. */
  groundTruthPath: string;
  activationsPath: string;
  /** How the ground truth was found: beside the evaluation activations, or beside the training log's. */
  foundBy: 'evaluation activations' | 'training log' | '';
  reason?: string;
  metrics?: {
    features: number;
    liveLatents: number;
    rows: number;
    mmcs: number;
    recovery90: number;
    recovery95: number;
    recoveryHungarian90: number;
    recoveryHungarian95: number;
    meanHungarianCos: number;
    /** NaN when not computed; `reasons.lGT` says why. */
    lGT: number;
    aaf: number;
    polysemanticFraction: number;
    encoderMaxAbsCos: number;
    verdict: string;
    reasons: Record<string, string>;
  };
  /** Per latent: max over ground-truth features of cos(d̂_i, w_f), and that feature (−1 for a zero atom). */
  bestCos?: Float32Array;
  bestFeature?: Int32Array;
}

/** One example row with its token context. */
export interface Example {
  row: number;
  activation: number;
  /** Decoded token pieces around the row (its document or sequence only), when token ids and a tokenizer exist. */
  tokens?: string[];
  /** PIECE kind of each token (src/tokens/decode.ts: 0 text, 1 special, 2 partial character, 3 unknown id). */
  kinds?: Uint8Array;
  /** This latent's activation on each context token. */
  values?: Float32Array;
  /** Index of the example's own token within `tokens`. */
  focus?: number;
  /** The row's own label (labels.json / labels.txt beside the data), when there is one. */
  label?: string;
}

export interface QuantileBin {
  /** Activation range [lo, hi] of the bin. */
  lo: number;
  hi: number;
  /** Firings in the band (over the rows the pass has read). */
  count?: number;
  examples: Example[];
}

/** Tokens a latent's decoder direction promotes and suppresses through the unembedding: W_dec[i]·W_U. */
export interface LogitEffects {
  top: { tokens: string[]; values: Float32Array };
  bottom: { tokens: string[]; values: Float32Array };
  histogram: { edges: Float32Array; counts: Uint32Array };
  /** The W_U file. */
  path: string;
}

/** What a feature page's statistics were computed on, and how far the pass has got. */
export interface PassCoverage {
  /** Rows read so far (finite and skipped), of `rows`. */
  rowsRead: number;
  rows: number;
  complete: boolean;
  /** One line for the page, e.g. "all 20,000 rows of emb.npy (one pass)". */
  describe: string;
}

export interface Neighbours {
  latents: Int32Array;
  values: Float32Array;
}

/** Per-atom optimality diagnostics (docs/theory.md §B4); every field optional. */
export interface AtomDiagnostics {
  source: Provenance;
  lambdaE: number;
  kktOn?: number;
  kktOff?: number;
  stationarity?: number;
  radial?: number;
  noiseFloor?: number;
  /** Atoms this one "wants to rotate toward" (B4 pull direction). */
  pullToward?: Int32Array;
  flags: FlagName[];
}

export interface FeatureModel {
  latent: number;
  sae: SaeCard;
  label: string;
  note: string;
  density: number;
  meanActivation: number;
  maxActivation: number;
  decoderNorm: number;
  /** Histogram of the activation over firing tokens (geometric bins): edges has counts.length + 1 entries. */
  histogram: { edges: Float32Array; counts: Uint32Array };
  top: Example[];
  /** Examples by activation band (quantiles of the firings), highest band first. */
  quantiles: QuantileBin[];
  /** True when examples carry token contexts; false means row labels or row indices only. */
  hasTokens: boolean;
  /** Why there are no token contexts (said on the page). */
  noTokens?: string;
  /** The pass the activity, examples and histogram come from. */
  pass?: PassCoverage;
  logits?: LogitEffects;
  /** Why there are no logit effects. */
  noLogits?: string;
  nearestByDecoder: Neighbours;
  /** By Jaccard index of firing sets. */
  nearestByCoactivation: Neighbours;
  diagnostics?: AtomDiagnostics;
  /** This latent's closest ground-truth feature by decoder cosine, when a ground truth is known. */
  groundTruth?: { feature: number; cosine: number; features: number };
  /** The atom itself: its decoder direction, encoder agreement and nearest inputs (src/views/atomView.ts). */
  atom?: AtomView;
}

/** Split-tree node kinds (bits). */
export const NODE_KIND = { split: 1, merge: 2, novel: 4, absorbed: 8 } as const;
export type NodeKindName = keyof typeof NODE_KIND;
/** Edge kinds. */
export const EDGE_KIND = { child: 0, merge: 1, absorbed: 2 } as const;

/**
 * Feature-split tree across SAEs of different widths (or Matryoshka prefixes), columnar. Node n is
 * latent `latent[n]` of `saes[sae[n]]`. Edges go from the narrower SAE's node to the wider one's.
 */
export interface SplitTreeModel {
  saes: { name: string; width: number; path: string }[];
  nodes: { sae: Uint8Array; latent: Int32Array; density: Float32Array; kind: Uint8Array; labels: string[] };
  edges: { from: Int32Array; to: Int32Array; cosine: Float32Array; containment: Float32Array; kind: Uint8Array };
  source: Provenance;
  /** Which rows the tree was built on (src/io/rowSample.ts describeSample), when known. */
  sample?: string;
}

/** docs/theory.md §C5/B4/B5/D1/C2/C3 quantities; each section optional, each with its provenance. */
export interface DiagnosticsModel {
  sae: SaeCard;
  lambdaE: number;
  lambdaSource: string;
  tokens: number;
  /** Which rows the figures are from, in one line (src/io/rowSample.ts describeSample), when known. */
  sample?: string;
  residualNorms?: { values: Float32Array; source: Provenance };
  perAtom?: { kktOn: Float32Array; kktOff: Float32Array; stationarity: Float32Array; flagged: Uint8Array; density: Float32Array; source: Provenance };
  spectrum?: { eigenvalues: Float32Array; spikeRatio: number; effectiveRank: number; source: Provenance };
  topDirections?: { kurtosis: Float32Array; maxCosine: Float32Array; nearestAtom: Int32Array; source: Provenance };
  amortisation?: { objectiveGap: number; supportJaccard: number; encoderDead: number; dictionaryDead: number; source: Provenance };
  widthGap?: { objective: number; wideLimit: number; gap: number; source: Provenance };
  bestNewAtom?: { gain: number; gainFraction: number; source: Provenance };
  antipodal?: { a: Int32Array; b: Int32Array; cosine: Float32Array; coactivation: Float32Array; varianceShare: Float32Array; dense: Uint8Array; source: Provenance };
  absorption?: { parent: Int32Array; absorber: Int32Array; rate: Float32Array; cosine: Float32Array; exclusivity: Float32Array; full: Uint8Array; source: Provenance };
  notes: string[];
  /** Why a section is absent, keyed by the field name above (the module's `reason`, or "skipped by request"). */
  reasons?: Record<string, string>;
  /** The module's findings, one sentence each. */
  findings?: { severity: 'info' | 'warning' | 'problem'; message: string }[];
}

/** Everything one report holds. */
export interface ReportModel {
  title: string;
  createdAt: string;
  dictionary: DictionaryModel;
  features: FeatureModel[];
  diagnostics?: DiagnosticsModel;
  splitTree?: SplitTreeModel;
  training?: TrainingModel;
  /** Every latent's decoder direction in 2-D (src/views/atomMap.ts). */
  atomMap?: AtomMapModel;
}

/** The atom map (src/views/atomMap.ts atomMapModel): one 2-D point per latent of one or more SAEs. */
export interface AtomMapSae { name: string; dir: string; width: number; offset: number }

export interface AtomMapModel {
  saes: AtomMapSae[];
  count: number;
  /** x, y per atom in [-1, 1]. */
  xy: Float32Array;
  /** Firing density per atom (NaN: not measured). */
  density: Float32Array;
  /** FLAG bits per atom, plus DUPLICATED. */
  flags: Uint16Array;
  /** Antipodal pairs to draw as lines (global atom indexes); `dense` marks dense pairs. */
  pairs: { a: Int32Array; b: Int32Array; dense: Uint8Array };
  /** Split-tree family per atom (a connected component of the cross-width edges), −1 for none. */
  family: Int32Array;
  /** Best cosine to a ground-truth feature (NaN: no ground truth). */
  groundTruthCos: Float32Array;
  /** Annotation labels (global indexes). */
  labels: LabelMap;
  /** Index into `tagNames` of each atom's first annotation tag, −1 for none. */
  tag: Int16Array;
  tagNames: string[];
  /** What the layout is and what the colours were measured on, one line each. */
  notes: string[];
  layout: { seed: number; neighbors: number; epochs: number; cached: boolean };
}

/** A feature page's view of the atom itself (src/views/atomView.ts). */
export interface AtomView {
  /** The unit decoder direction d̂_i, [d_out]. */
  decoder: Float32Array;
  /** The largest components by magnitude. */
  top: { dim: number; value: number }[];
  /** cos(encoder row i, decoder atom i); NaN for transcoders (the two live in different spaces). */
  encoderDecoderCos: number;
  /** Sample rows nearest to the atom by cosine, with the row's token (or row label) when the data has them. */
  nearestInputs: { row: number; cosine: number; token?: string }[];
}

/** An SAE's metrics on its data, cached beside it as eval.json (src/views/evalCache.ts). */
export interface EvalRecord {
  format: 'sae-workbench.eval';
  key: string;
  /** The weights file's size and mtime when evaluated: a cheap check that the record still applies. */
  weights: { size: number; mtimeMs: number };
  activations: string;
  /** What the metrics were measured on ("a uniform sample of 4,096 of 32,768 rows (seed 0)"). */
  sample: string;
  tokens: number;
  explained_variance: number;
  l0: number;
  dead_fraction: number;
  dense_fraction: number;
  mse_per_element: number;
}

/** How far a feature-page pass has got (throttled events of the panel-data worker). */
export interface PassProgress extends PassCoverage {
  saeDir: string;
  activations: string;
  /** Set when the pass failed (one line). */
  error?: string;
}

/** An atom map's 2-D layout and how it was made (cached beside the SAE). */
export interface CachedLayout { xy: Float32Array; seed: number; neighbors: number; epochs: number; cached: boolean; file: string }
