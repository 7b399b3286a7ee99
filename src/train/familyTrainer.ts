/**
 * What the rest of the sparse-dictionary family (THEORY.md A5 transcoders, A6 crosscoders, A3 Matryoshka)
 * adds around the one training loop of ./trainer.ts: which kind a run is and which forms SAELens can hold,
 * the model shape it gives the step (src/sae/objectives.ts ModelConfig: target width, decoder-norm groups,
 * prefixes, skip), row-aligned streams over several activation files, and the crosscoder's export.
 * The step itself is the shared sparse-aware engine (./step.ts); src/sae/familyObjective.ts is the dense
 * reference of the same losses.
 */
import { join } from 'node:path';
import { InputError } from '../errors';
import { saveCrosscoder } from '../formats/crosscoder';
import { writeFileAtomic } from '../io/atomic';
import { DTYPE_BYTES } from '../io/dtype';
import { RowReader, openRowReader, openRowSource } from '../io/rowReader';
import type { RowReaderState } from '../io/rowReader';
import type { Crosscoder } from '../sae/crosscoder';
import { crosscoderLatentStats } from '../sae/crosscoderAnalysis';
import { batchtopk } from '../sae/arch/batchtopk';
import { archSpec, isTrainable, TRAINABLE_ARCHS } from '../sae/arch/registry';
import type { ArchName } from '../sae/arch/registry';
import { relu } from '../sae/arch/relu';
import type { FamilyShape } from '../sae/objectives';
import type { TrainOptions } from './api';

export type FamilyKind = 'transcoder' | 'crosscoder' | 'matryoshka';
/** Per-latent relative decoder norms and cosines of a trained crosscoder. */
export const CROSSCODER_LATENTS_FILE = 'crosscoder_latents.json';

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
export function familyShape(kind: FamilyKind | undefined, feed: RowFeed, prefixes: number[] | undefined, skip: boolean): FamilyShape {
  if (kind === 'transcoder') return { dOut: feed.dOut, target: true, bDecInput: false, skip };
  if (kind === 'crosscoder') return { bDecInput: false, normGroups: feed.sources };
  return { prefixes };
}

/**
 * Rows for the step: input rows x [n, d_in] and, for a transcoder, target rows y [n, d_out] from another
 * file, row-aligned. A crosscoder's L sources arrive as one input row of width L·d (source l at l·d).
 */
export interface RowFeed {
  readonly dIn: number;
  readonly dOut: number;
  readonly totalRows: number;
  readonly skippedRows: number;
  /** Number of sources concatenated in an input row (crosscoder L; 1 otherwise). */
  readonly sources: number;
  next(x: Float32Array, y: Float32Array | undefined, n: number): number;
  state(): RowReaderState[];
  restore(s: RowReaderState[]): void;
  close(): void;
}

export interface FeedOptions {
  tensorName?: string; seed: number; memoryBudget: number; onNonFinite: 'skip' | 'stop'; loop?: boolean;
  /** Rows per chunk (tests; default from a 4 MB raw chunk of the widest file). */
  chunkRows?: number;
}

/** One reader over one or more files (their rows one after another): plain SAEs and Matryoshka. */
function plainFeed(paths: string[], o: FeedOptions): RowFeed {
  const r = openRowReader(paths, { tensorName: o.tensorName, seed: o.seed, memoryBudget: o.memoryBudget, onNonFinite: o.onNonFinite, loop: o.loop });
  return {
    dIn: r.dIn, dOut: r.dIn, totalRows: r.totalRows, sources: 1,
    get skippedRows() { return r.skippedRows; },
    next: (x, _y, n) => r.next(x, n),
    state: () => [r.state()],
    restore: (s) => r.restore(s[0]!),
    close: () => r.close(),
  };
}

/**
 * Readers over files of equal row counts that serve the same rows in the same order: the same seed, the
 * same rows per chunk (from the widest row) and the same chunks per window (each reader's budget is sized
 * for it). A skipped non-finite row would shift one stream against the others, so such rows stop the run.
 */
function alignedReaders(paths: string[], o: FeedOptions): RowReader[] {
  const sources = paths.map((p) => openRowSource(p, o.tensorName));
  const rows = sources[0]!.rows;
  for (const s of sources) if (s.rows !== rows) throw new InputError(s.path, `${s.rows} rows, but ${sources[0]!.path} has ${rows}: the files must be row-aligned`);
  const rawRow = sources.map((s) => s.dIn * DTYPE_BYTES[s.dtype]);
  const chunkRows = o.chunkRows ?? Math.max(1, Math.floor((4 * 2 ** 20) / Math.max(...rawRow)));
  const raw = rawRow.map((b) => chunkRows * b), f32 = sources.map((s) => chunkRows * s.dIn * 4);
  const sum = (a: number[]): number => a.reduce((p, q) => p + q, 0);
  const perWindow = Math.max(1, Math.floor((o.memoryBudget - sum(raw)) / sum(f32)));
  return sources.map((s, i) => new RowReader([s], { seed: o.seed, chunkRows, memoryBudget: raw[i]! + perWindow * f32[i]!, onNonFinite: 'stop', loop: o.loop }));
}

/** Transcoder: input rows from `input`, target rows from `target`. */
export function transcoderFeed(input: string[], target: string, o: FeedOptions): RowFeed {
  if (input.length !== 1) throw new InputError('--activations', `a transcoder reads one input file, got ${input.length}`);
  const [a, b] = alignedReaders([input[0]!, target], o);
  return {
    dIn: a!.dIn, dOut: b!.dIn, totalRows: a!.totalRows, sources: 1, skippedRows: 0,
    next: (x, y, n) => {
      const got = a!.next(x, n);
      if (b!.next(y!, n) !== got) throw new InputError(target, 'the target stream fell out of step with the input');
      return got;
    },
    state: () => [a!.state(), b!.state()],
    restore: (s) => { a!.restore(s[0]!); b!.restore(s[1]!); },
    close: () => { a!.close(); b!.close(); },
  };
}

/** Crosscoder: L sources of one width d, concatenated per row into [n, L·d]. */
export function crosscoderFeed(paths: string[], o: FeedOptions): RowFeed {
  if (paths.length < 2) throw new InputError('--activations', `a crosscoder needs at least 2 source files (one per layer or model), got ${paths.length}`);
  const readers = alignedReaders(paths, o);
  const d = readers[0]!.dIn, L = readers.length;
  readers.forEach((r, l) => { if (r.dIn !== d) throw new InputError(paths[l]!, `width ${r.dIn}, but ${paths[0]} has ${d}: the crosscoder format needs one d_in for all sources`); });
  let part = new Float32Array(0);
  return {
    dIn: L * d, dOut: L * d, totalRows: readers[0]!.totalRows, sources: L, skippedRows: 0,
    next: (x, _y, n) => {
      if (part.length < n * d) part = new Float32Array(n * d);
      let got = -1;
      readers.forEach((r, l) => {
        const k = r.next(part, n);
        if (got >= 0 && k !== got) throw new InputError(paths[l]!, 'this source fell out of step with the others');
        got = k;
        for (let row = 0; row < k; row++) x.set(part.subarray(row * d, (row + 1) * d), row * L * d + l * d);
      });
      return got;
    },
    state: () => readers.map((r) => r.state()),
    restore: (s) => readers.forEach((r, l) => r.restore(s[l]!)),
    close: () => readers.forEach((r) => r.close()),
  };
}

export function openFeed(kind: FamilyKind | undefined, activations: string[], target: string | undefined, o: FeedOptions): RowFeed {
  if (kind === 'transcoder') return transcoderFeed(activations, target!, o);
  if (kind === 'crosscoder') return crosscoderFeed(activations, o);
  if (kind === 'matryoshka' && activations.length !== 1) throw new InputError('--activations', `give one activation file for a Matryoshka SAE, got ${activations.length}`);
  return plainFeed(activations, o);
}

/**
 * A trained crosscoder in its format (our [L·d, H] encoder and [H, L·d] decoder are the format's [L, d, H]
 * and [H, L, d] row-major as they are), plus crosscoder_latents.json. Returns the summary's crosscoder facts.
 */
export function saveTrainedCrosscoder(outDir: string, p: { wEnc: Float32Array; bEnc: Float32Array; wDec: Float32Array; bDec: Float32Array }, nSources: number, dSae: number, training: Record<string, unknown>): Record<string, unknown> {
  const cc: Crosscoder = {
    cfg: { nSources, dIn: p.bDec.length / nSources, dSae, dtype: 'float32', metadata: { sae_workbench: { training } } },
    wEnc: p.wEnc, bEnc: p.bEnc, wDec: p.wDec, bDec: p.bDec,
  };
  saveCrosscoder(cc, outDir);
  const st = crosscoderLatentStats(cc);
  // per latent, beside the weights: what the relative-norm and cosine plots are drawn from
  writeFileAtomic(join(outDir, CROSSCODER_LATENTS_FILE), JSON.stringify({ nSources, normShare: Array.from(st.normShare), cosineToFirst: Array.from(st.cosineToFirst) }) + '\n');
  return { latentsFile: CROSSCODER_LATENTS_FILE, ...(st.counts ? { relativeNormCounts: st.counts } : {}) };
}
