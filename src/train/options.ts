/**
 * A training run's options, in one place: what the caller gives (TrainOptions, used by the CLI, the
 * extension and tests), every option resolved to a value (ResolvedOptions, stored in checkpoints so that a
 * resume repeats the run), and the model config the step is built from — the architecture's defaults from
 * its spec (src/sae/arch), the family kind (transcoder, crosscoder, Matryoshka) and the weighting (WSAE).
 */
import { InputError } from '../errors';
import type { EnginePreference } from '../compute/engine';
import { batchtopk } from '../sae/arch/batchtopk';
import { archSpec, isTrainable, trainFacts, TRAINABLE_ARCHS } from '../sae/arch/registry';
import { unitNormDecoderOf } from '../sae/arch/spec';
import type { ArchName } from '../sae/arch/registry';
import { relu } from '../sae/arch/relu';
import { modelConfig } from '../sae/objectives';
import type { FamilyShape, ModelConfig } from '../sae/objectives';
import type { BDecInit, TrainOptions } from '../protocol/training';

export type { TrainOptions };


/** Every option resolved to a value; stored in checkpoints so that a resume repeats the same run. */
export interface ResolvedOptions {
  activations: string[];
  tensorName?: string;
  outDir: string;
  arch: ArchName;
  width: number;
  k: number;
  sparsityCoef: number;
  tokens: number;
  batch: number;
  lr: number;
  lrWarmupSteps: number;
  lrDecaySteps: number;
  sparsityWarmupSteps: number;
  seed: number;
  threads: number;
  engine: EnginePreference;
  checkpointEvery: number;
  onNonFinite: 'skip' | 'stop';
  memoryBudget: number;
  unitNormDecoder: boolean;
  decoderInitNorm: number;
  /** Where b_dec starts (SAELens b_dec_init_method); absent in checkpoints written before it existed (it only acts at step 0). */
  bDecInit: BDecInit;
  normalize: boolean;
  deadTokens: number;
  resampleEvery: number;
  bandwidth: number;
  initThreshold: number;
  auxK: boolean;
  weighting: 'none' | 'variance' | 'oracle';
  weightAlpha: number;
  groundTruth?: string;
  /** Γ as computed at the start of the run (kept so that a resume trains the same objective). */
  reconWeights?: number[];
  runId: string;
  // ---- the family (./feeds.ts); absent for plain SAEs
  kind?: FamilyKind;
  /** Transcoder target file (row-aligned with the single activation file). */
  target?: string;
  skip?: boolean;
  /** Matryoshka prefix widths, ending at the width. */
  prefixes?: number[];
}

export type FamilyKind = 'transcoder' | 'crosscoder' | 'matryoshka';

export const B_DEC_INITS: readonly BDecInit[] = ['geometric_median', 'mean', 'zeros'];

export type WeightingMode = 'none' | 'variance' | 'oracle';
export const WEIGHTING_MODES: readonly WeightingMode[] = ['none', 'variance', 'oracle'];
/**
 * Default exponent of the variance weights. Negative: Var(x_i) = Σ_j W_ij² Var(s_j) grows with the number
 * of features sharing dimension i, so α > 0 would up-weight exactly the polysemantic dimensions the WSAE
 * principle says to down-weight; the G5 bench (docs/family.md) measures both signs.
 */
export const DEFAULT_WEIGHT_ALPHA = -0.5;

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`--${name}`, `expected a positive integer, got ${String(v)}`);
  return n;
}

export function familyKind(o: TrainOptions): FamilyKind | undefined {
  const kinds: FamilyKind[] = [];
  if (o.target) kinds.push('transcoder');
  if (o.crosscoder) kinds.push('crosscoder');
  if (o.matryoshkaWidths) kinds.push('matryoshka');
  if (kinds.length > 1) throw new InputError('--arch', `choose one of transcoder (--target), crosscoder (--crosscoder) and Matryoshka (--matryoshka-widths), got ${kinds.join(' and ')}`);
  return kinds[0];
}

/** The architecture a family run trains, after refusing the forms the output formats cannot hold. */
export function familyArch(kind: FamilyKind | undefined, o: TrainOptions): ArchName {
  if (o.skip && kind !== 'transcoder') throw new InputError('--skip', 'only transcoders have a skip connection');
  if (!kind) return o.arch;
  const arch = kind === 'matryoshka' ? batchtopk.name : o.arch;
  if (!isTrainable(arch)) throw new InputError('--arch', `'${String(o.arch)}' cannot be trained as a ${kind} (trainable: ${TRAINABLE_ARCHS.join(', ')})`);
  if (kind === 'crosscoder' && arch !== relu.name) throw new InputError('--arch', `the crosscoder format is ReLU (f = ReLU(Σ_l x_l W_enc,l + b_enc)); got ${arch}`);
  if (kind === 'transcoder' && !archSpec(arch).saeLens.transcoder) {
    const forms = TRAINABLE_ARCHS.filter((a) => archSpec(a).saeLens.transcoder);
    throw new InputError('--arch', `SAELens has no ${arch} transcoder form; use one of ${forms.join(', ')}`);
  }
  if (kind === 'transcoder' && o.skip && arch !== relu.name) throw new InputError('--skip', `SAELens's skip_transcoder is ReLU; got ${arch}`);
  return arch;
}

/** Matryoshka prefix widths, increasing, ending at the full width. */
export function matryoshkaPrefixes(widths: number[], dSae: number): number[] {
  const ok = widths.length > 0 && widths.every((w, i) => Number.isSafeInteger(w) && w > 0 && (i === 0 || w > widths[i - 1]!));
  if (!ok) throw new InputError('--matryoshka-widths', `expected increasing positive integers, got ${widths.join(',')}`);
  if (widths[widths.length - 1]! > dSae) throw new InputError('--matryoshka-widths', `the last prefix ${widths[widths.length - 1]} is larger than the width ${dSae}`);
  return widths[widths.length - 1] === dSae ? widths : [...widths, dSae];
}

/** The model shape of a kind (ModelConfig's family fields). */
export function familyShape(kind: FamilyKind | undefined, feed: { dOut: number; sources: number }, prefixes: number[] | undefined, skip: boolean): FamilyShape {
  if (kind === 'transcoder') return { dOut: feed.dOut, target: true, bDecInput: false, skip };
  if (kind === 'crosscoder') return { bDecInput: false, normGroups: feed.sources };
  return { prefixes };
}

export function resolveWeighting(o: TrainOptions): { weighting: WeightingMode; weightAlpha: number; groundTruth?: string } {
  const weighting = o.weighting ?? 'none';
  if (!WEIGHTING_MODES.includes(weighting)) throw new InputError('--weighting', `expected one of ${WEIGHTING_MODES.join(', ')}, got '${String(weighting)}'`);
  const weightAlpha = o.weightAlpha ?? DEFAULT_WEIGHT_ALPHA;
  if (!Number.isFinite(weightAlpha)) throw new InputError('--weight-alpha', `expected a finite number, got ${weightAlpha}`);
  if (weighting === 'oracle' && !o.groundTruth) throw new InputError('--ground-truth', 'oracle weighting needs the synthetic folder (or its ground_truth.safetensors) holding the mixing matrix');
  if (weighting !== 'oracle' && o.groundTruth) throw new InputError('--ground-truth', 'only used with --weighting oracle');
  return { weighting, weightAlpha, ...(o.groundTruth ? { groundTruth: o.groundTruth } : {}) };
}

export function resolveOptions(o: TrainOptions, rows: number): ResolvedOptions {
  const kind = familyKind(o);
  const arch = familyArch(kind, o);
  if (!isTrainable(arch)) throw new InputError('--arch', `'${String(o.arch)}' cannot be trained (trainable: ${TRAINABLE_ARCHS.join(', ')})`);
  const facts = trainFacts(arch);
  const width = positiveInt('width', o.width, 0);
  const batch = positiveInt('batch', o.batch, 4096);
  const tokens = positiveInt('tokens', o.tokens, rows);
  const totalSteps = Math.ceil(tokens / batch);
  const usesK = archSpec(arch).usesK;
  const constantLr = facts.selection === 'row-topk' || facts.selection === 'batch-topk';
  const k = usesK ? positiveInt('k', o.k, Math.min(32, width)) : 0;
  if (usesK && k > width) throw new InputError('--k', `k = ${k} is larger than the width ${width}`);
  const lr = o.lr ?? 3e-4;
  if (!(lr > 0 && Number.isFinite(lr))) throw new InputError('--lr', `expected a positive number, got ${lr}`);
  const sparsityCoef = o.l1 ?? facts.defaultSparsityCoef;
  if (!(sparsityCoef >= 0 && Number.isFinite(sparsityCoef))) throw new InputError('--l1', `expected a non-negative number, got ${sparsityCoef}`);
  if (o.unitNormDecoder !== undefined && facts.decoderNorm !== 'option') {
    const takes = TRAINABLE_ARCHS.filter((a) => trainFacts(a).decoderNorm === 'option');
    throw new InputError('--unit-norm-decoder', `${arch}'s decoder rows are always ${facts.decoderNorm === 'unit' ? 'unit-norm' : 'free'} (the choice is ${takes.join(' and ')}'s)`);
  }
  const unitNormDecoder = unitNormDecoderOf(facts, o.unitNormDecoder);
  const bDecInit = o.bDecInit ?? 'geometric_median';
  if (!B_DEC_INITS.includes(bDecInit)) throw new InputError('--b-dec-init', `expected one of ${B_DEC_INITS.join(', ')}, got '${String(bDecInit)}'`);
  if (kind && batch > rows) throw new InputError('--batch', `batch ${batch} is larger than the ${rows} rows`);
  return {
    ...(kind ? { kind, target: o.target, skip: !!o.skip, ...(kind === 'matryoshka' ? { prefixes: matryoshkaPrefixes(o.matryoshkaWidths!, width) } : {}) } : {}),
    activations: o.activations, tensorName: o.tensorName, outDir: o.outDir, arch, width, k, sparsityCoef, tokens, batch, lr,
    // TopK/BatchTopK: a constant lr, as SAELens trains them. Warm-up (5%) and decay to 0 (last 20%) cost
    // them sparse recovery in short runs: MMCS 0.928 against 0.969 at 3 M tokens (docs/training.md, Quality)
    lrWarmupSteps: o.lrWarmupSteps ?? (constantLr ? 0 : Math.min(1000, Math.floor(totalSteps * 0.05))),
    lrDecaySteps: o.lrDecaySteps ?? (constantLr ? 0 : Math.floor(totalSteps * 0.2)),
    sparsityWarmupSteps: o.sparsityWarmupSteps ?? Math.floor(totalSteps * 0.05),
    seed: o.seed ?? 0,
    threads: positiveInt('threads', o.threads, 1),
    engine: o.engine ?? 'auto',
    checkpointEvery: positiveInt('checkpoint-every', o.checkpointEvery, 1000),
    // row-aligned streams cannot skip a row in one file only
    onNonFinite: kind === 'transcoder' || kind === 'crosscoder' ? 'stop' : (o.onNonFinite ?? 'skip'),
    memoryBudget: o.memoryBudget ?? 256 * 2 ** 20,
    unitNormDecoder,
    decoderInitNorm: o.decoderInitNorm ?? facts.decoderInitNorm(unitNormDecoder),
    bDecInit,
    // the family trains on activations as they are: the transcoder and crosscoder formats have no scale to fold
    normalize: kind ? false : (o.normalize ?? true),
    deadTokens: o.deadTokens ?? Math.min(10_000_000, Math.max(batch * 10, Math.floor(tokens / 5))),
    resampleEvery: o.resampleEvery ?? 0,
    bandwidth: o.bandwidth ?? 0.05,
    initThreshold: o.initThreshold ?? 0.01,
    auxK: o.auxK ?? true,
    ...resolveWeighting(o),
    runId: o.runId ?? `run-${Date.now().toString(36)}`,
  };
}

/** The step's model config of a resolved run, for the rows its feed serves (input width d_in, target width d_out, sources). */
export function runModelConfig(o: ResolvedOptions, feed: { dIn: number; dOut: number; sources: number }): ModelConfig {
  return modelConfig(o.arch, feed.dIn, o.width, o.batch, {
    k: o.k, unitNormDecoder: o.unitNormDecoder, bandwidth: o.bandwidth, auxK: o.auxK, reconWeighted: (o.weighting ?? 'none') !== 'none',
    ...familyShape(o.kind, feed, o.prefixes, !!o.skip),
  });
}

/** A resumed run's options: the checkpoint's, with what may change between sessions taken from the caller. */
export function resumedOptions(input: TrainOptions, stored: ResolvedOptions, ckptPath: string): ResolvedOptions {
  for (const key of ['arch', 'width', 'k'] as const) {
    const given = (input as unknown as Record<string, unknown>)[key];
    if (given !== undefined && given !== stored[key] && !(key === 'k' && stored.k === 0)) {
      throw new InputError(`--${key}`, `${String(given)} differs from the checkpoint's ${String(stored[key])} (${ckptPath})`);
    }
  }
  return { ...stored, activations: input.activations, outDir: input.outDir, threads: input.threads ?? stored.threads, engine: input.engine ?? stored.engine, ...(stored.target ? { target: input.target ?? stored.target } : {}) };
}
