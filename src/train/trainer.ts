/**
 * The training loop of one run, on the thread that calls it (the trainer worker, or a test): options →
 * arena → init or resume → steps with schedules, dead-latent tracking, resampling, checkpoints, progress →
 * a SAELens v6 folder with the activation scale folded in, sparsity.safetensors and training_log.jsonl.
 * The one loop for every kind: SAEs, and the family of ./familyTrainer.ts (transcoders with their target
 * stream, crosscoders with their L source streams and their own format, Matryoshka prefixes).
 */
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { chooseEngine, threadGemm } from '../compute/engine';
import type { EngineChoice, EnginePreference } from '../compute/engine';
import { CancelledError, InputError } from '../errors';
import { saveSaeLens } from '../formats/saelens';
import { captureCfgFacts } from '../io/shards';
import type { TrainingEvent, TrainingProgress } from '../protocol/training';
import { lossFacts, modelConfig, TRAIN_ARCHS } from '../sae/objectives';
import type { ModelConfig, TrainArch } from '../sae/objectives';
import type { Sae } from '../sae/types';
import type { TrainOptions } from './api';
import { checkpointPath, readCheckpointMeta, restoreCheckpoint, saveCheckpoint } from './checkpoint';
import type { CheckpointMeta } from './checkpoint';
import { activationScale, geometricMedian, initWeights } from './init';
import { computeReconWeights, resolveWeighting } from './wsae';
import { familyArch, familyKind, familyShape, matryoshkaPrefixes, openFeed, saveTrainedCrosscoder } from './familyTrainer';
import type { FamilyKind, RowFeed } from './familyTrainer';
import { buildLayout, S } from './layout';
import { WorkerPool } from './pool';
import { Rng } from './rng';
import { StepEngine } from './stepEngine';
import type { StepStats } from './stepEngine';

export const TRAINING_LOG = 'training_log.jsonl';

/** Every option resolved to a value; stored in checkpoints so that a resume repeats the same run. */
export interface ResolvedOptions {
  activations: string[];
  tensorName?: string;
  outDir: string;
  arch: TrainArch;
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
  // ---- the family (./familyTrainer.ts); absent for plain SAEs
  kind?: FamilyKind;
  /** Transcoder target file (row-aligned with the single activation file). */
  target?: string;
  skip?: boolean;
  /** Matryoshka prefix widths, ending at the width. */
  prefixes?: number[];
}

export interface TrainHooks {
  emit(e: TrainingEvent): void;
  cancelled(): boolean;
}

export type TrainSummary = Record<string, unknown>;

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`--${name}`, `expected a positive integer, got ${String(v)}`);
  return n;
}

export function resolveOptions(o: TrainOptions, rows: number): ResolvedOptions {
  const kind = familyKind(o);
  const arch = familyArch(kind, o);
  if (!TRAIN_ARCHS.includes(arch)) throw new InputError('--arch', `'${o.arch}' cannot be trained (trainable: ${TRAIN_ARCHS.join(', ')})`);
  const width = positiveInt('width', o.width, 0);
  const batch = positiveInt('batch', o.batch, 4096);
  const tokens = positiveInt('tokens', o.tokens, rows);
  const totalSteps = Math.ceil(tokens / batch);
  const isTopk = arch === 'topk' || arch === 'batchtopk';
  const k = isTopk ? positiveInt('k', o.k, Math.min(32, width)) : 0;
  if (isTopk && k > width) throw new InputError('--k', `k = ${k} is larger than the width ${width}`);
  const lr = o.lr ?? 3e-4;
  if (!(lr > 0 && Number.isFinite(lr))) throw new InputError('--lr', `expected a positive number, got ${lr}`);
  const sparsityCoef = o.l1 ?? (arch === 'relu' ? 5 : arch === 'jumprelu' ? 1 : 0);
  if (!(sparsityCoef >= 0 && Number.isFinite(sparsityCoef))) throw new InputError('--l1', `expected a non-negative number, got ${sparsityCoef}`);
  const unitNormDecoder = isTopk ? true : arch === 'relu' ? !!o.unitNormDecoder : false;
  if (kind && batch > rows) throw new InputError('--batch', `batch ${batch} is larger than the ${rows} rows`);
  return {
    ...(kind ? { kind, target: o.target, skip: !!o.skip, ...(kind === 'matryoshka' ? { prefixes: matryoshkaPrefixes(o.matryoshkaWidths!, width) } : {}) } : {}),
    activations: o.activations, tensorName: o.tensorName, outDir: o.outDir, arch, width, k, sparsityCoef, tokens, batch, lr,
    lrWarmupSteps: o.lrWarmupSteps ?? Math.min(1000, Math.floor(totalSteps * 0.05)),
    lrDecaySteps: o.lrDecaySteps ?? Math.floor(totalSteps * 0.2),
    sparsityWarmupSteps: o.sparsityWarmupSteps ?? Math.floor(totalSteps * 0.05),
    seed: o.seed ?? 0,
    threads: positiveInt('threads', o.threads, 1),
    engine: o.engine ?? 'auto',
    checkpointEvery: positiveInt('checkpoint-every', o.checkpointEvery, 1000),
    // row-aligned streams cannot skip a row in one file only
    onNonFinite: kind === 'transcoder' || kind === 'crosscoder' ? 'stop' : (o.onNonFinite ?? 'skip'),
    memoryBudget: o.memoryBudget ?? 256 * 2 ** 20,
    unitNormDecoder,
    decoderInitNorm: o.decoderInitNorm ?? (arch === 'relu' && !unitNormDecoder ? 0.1 : 1),
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

/** Bytes a run needs in memory (arena + reader + per-latent lists), to refuse what cannot fit before starting. */
export function estimateBytes(cfg: ModelConfig, threads: number, readerBudget: number): { arena: number; total: number } {
  const arena = buildLayout(cfg, threads).bytes;
  const activePerRow = cfg.arch === 'topk' || cfg.arch === 'batchtopk' ? cfg.k + cfg.kAux : Math.ceil(cfg.dSae / 2);
  const lists = cfg.batch * activePerRow * 8 * 1.5;
  return { arena, total: arena + readerBudget + lists + 64 * 2 ** 20 };
}

const GiB = 2 ** 30;
const fmtGiB = (b: number): string => `${(b / GiB).toFixed(2)} GiB`;

function lrAt(o: ResolvedOptions, step: number, total: number): number {
  let f = 1;
  if (o.lrWarmupSteps > 0) f *= Math.min(1, (step + 1) / o.lrWarmupSteps);
  if (o.lrDecaySteps > 0 && step >= total - o.lrDecaySteps) f *= (total - step) / o.lrDecaySteps;
  return o.lr * f;
}

function sparsityAt(o: ResolvedOptions, step: number): number {
  return o.sparsityCoef * (o.sparsityWarmupSteps > 0 ? Math.min(1, (step + 1) / o.sparsityWarmupSteps) : 1);
}

/** Runs (or resumes) a training run to the end. Throws CancelledError after writing a checkpoint when cancelled. */
export async function runTraining(input: TrainOptions, hooks: TrainHooks): Promise<TrainSummary> {
  let o: ResolvedOptions;
  let meta: CheckpointMeta | undefined;
  let ckptPath: string | undefined;
  if (input.resume) {
    const found = readCheckpointMeta(input.outDir);
    if (!found) throw new InputError(input.outDir, 'nothing to resume: no checkpoint in this folder');
    ({ meta, path: ckptPath } = found);
    const stored = meta.options as unknown as ResolvedOptions;
    for (const key of ['arch', 'width', 'k'] as const) {
      const given = (input as unknown as Record<string, unknown>)[key];
      if (given !== undefined && given !== stored[key] && !(key === 'k' && stored.k === 0)) {
        throw new InputError(`--${key}`, `${String(given)} differs from the checkpoint's ${String(stored[key])} (${ckptPath})`);
      }
    }
    o = { ...stored, activations: input.activations, outDir: input.outDir, threads: input.threads ?? stored.threads, engine: input.engine ?? stored.engine, ...(stored.target ? { target: input.target ?? stored.target } : {}) };
  } else {
    const kind = familyKind(input);
    familyArch(kind, input);
    const probe = openFeed(kind, input.activations, input.target, { tensorName: input.tensorName, seed: 0, loop: false, memoryBudget: 8 * 2 ** 20, onNonFinite: 'skip' });
    const rows = probe.totalRows;
    probe.close();
    o = resolveOptions(input, rows);
  }
  const kind = o.kind;
  const reader: RowFeed = openFeed(kind, o.activations, o.target, { tensorName: o.tensorName, seed: o.seed, memoryBudget: o.memoryBudget, onNonFinite: o.onNonFinite });
  const { dIn, dOut } = reader;
  if (meta && (meta.dIn !== dIn || (meta.dOut ?? dIn) !== dOut)) {
    reader.close();
    throw new InputError(o.target && meta.dIn === dIn ? o.target : o.activations[0]!, `${kind === 'transcoder' ? `d_in ${dIn}, d_out ${dOut} differ from the checkpoint's ${meta.dIn}, ${meta.dOut}` : `d_in ${dIn} differs from the checkpoint's ${meta.dIn}`} (${ckptPath}); resume with the activations the run started on`);
  }
  const cfg = modelConfig(o.arch, dIn, o.width, o.batch, {
    k: o.k, unitNormDecoder: o.unitNormDecoder, bandwidth: o.bandwidth, auxK: o.auxK, reconWeighted: (o.weighting ?? 'none') !== 'none',
    ...familyShape(kind, reader, o.prefixes, !!o.skip),
  });

  // engine and threads
  const engine: EngineChoice = chooseEngine(o.engine);
  const notes = [...engine.notes];
  let threads = o.threads;
  if (threads > 1 && (!engine.caps.workerThreads || !engine.caps.sharedArrayBuffer)) {
    notes.push(`worker_threads or SharedArrayBuffer unavailable: running on 1 thread instead of ${threads}`);
    threads = 1;
  }
  const need = estimateBytes(cfg, threads, o.memoryBudget);
  const limit = Math.min(totalmem() * 0.8, Number(process.env.SAE_WORKBENCH_MEMORY_LIMIT ?? Infinity));
  if (need.total > limit) {
    reader.close();
    throw new InputError('--width', `d_sae ${o.width} × d_in ${dIn}${dOut !== dIn ? ` → d_out ${dOut}` : ''} at batch ${o.batch} needs about ${fmtGiB(need.total)}; this machine allows ${fmtGiB(limit)} (reduce --width or --batch)`);
  }
  if (engine.makeMemory && need.arena > 4 * GiB - 65536) {
    reader.close();
    throw new InputError('--width', `d_sae ${o.width} × d_in ${dIn}${dOut !== dIn ? ` → d_out ${dOut}` : ''} at batch ${o.batch} needs ${fmtGiB(need.arena)} of WebAssembly memory, above its 4 GiB limit (reduce --width or --batch)`);
  }
  const memory = engine.makeMemory?.(need.arena);
  // without SharedArrayBuffer (threads were forced to 1 above) a plain ArrayBuffer does for one thread
  const buffer: ArrayBufferLike = memory ? memory.buffer : engine.caps.sharedArrayBuffer ? new SharedArrayBuffer(need.arena) : new ArrayBuffer(need.arena);
  const layout = buildLayout(cfg, threads);
  const engineName = `${engine.gemm.name}${threads > 1 ? ` ×${threads} threads` : ''}`;
  let pool: WorkerPool | undefined;
  let eng: StepEngine;
  try {
    const control = new Int32Array(buffer, layout.regions.get('control')!.offset, 16);
    // every thread (this one and each kernel worker) builds its provider from the same spec
    const spec = { blas: engine.blas, memory, module: engine.module };
    pool = threads > 1 ? new WorkerPool(control, cfg, threads, buffer as SharedArrayBuffer, spec) : undefined;
    eng = new StepEngine(cfg, buffer, threadGemm(spec), threads, pool);
  } catch (e) {
    reader.close();
    await pool?.close();
    throw e;
  }
  const v = eng.views;
  const sc = v.f64.scalars!;
  const totalSteps = Math.ceil(o.tokens / o.batch);
  let step = 0, tokens = 0, windowTokens = 0;
  let scale = 1;
  const rng = new Rng(o.seed ^ 0x5eed);
  mkdirSync(o.outDir, { recursive: true });
  const logPath = join(o.outDir, TRAINING_LOG);
  const log = (rec: Record<string, unknown>): void => appendFileSync(logPath, JSON.stringify(rec) + '\n');

  try {
    if (meta && ckptPath) {
      restoreCheckpoint(ckptPath, v);
      step = meta.step; tokens = meta.tokens; eng.adamT = meta.adamT; rng.state = meta.rng; scale = meta.activationScale;
      sc[S.bTopkThreshold] = meta.bTopkThreshold; windowTokens = meta.windowTokens;
      reader.restore(meta.readers ?? [meta.reader]);
      log({ type: 'resume', runId: o.runId, step, engine: engineName, notes, time: new Date().toISOString() });
    } else {
      rmSync(logPath, { force: true });
      // sample for the activation scale and the geometric median, from a separate reader (the training stream is untouched)
      const sampleRows = Math.min(4096, reader.totalRows);
      const sampler = openFeed(kind, o.activations, o.target, { tensorName: o.tensorName, seed: o.seed + 1, memoryBudget: Math.min(o.memoryBudget, 64 * 2 ** 20), onNonFinite: o.onNonFinite === 'stop' ? 'stop' : 'skip', loop: false });
      const sample = new Float32Array(sampleRows * dIn);
      const targetSample = cfg.target ? new Float32Array(sampleRows * dOut) : sample;
      let got: number;
      try { got = sampler.next(sample, targetSample, sampleRows); } finally { sampler.close(); }
      if (got === 0) throw new InputError(o.activations[0]!, 'no finite rows to train on');
      scale = o.normalize ? activationScale(sample, got, dIn) : 1;
      for (let i = 0; i < got * dIn; i++) sample[i]! *= scale;
      // b_dec and Γ live in the target space
      v.f32.bDec!.set(geometricMedian(targetSample, got, dOut));
      // the family's encoder rows start at unit norm (transcoders: random, as their input is another space)
      initWeights(v.f32.wDec!, v.f32.wEncT!, o.width, dIn, dOut, o.decoderInitNorm, kind ? 1 : o.decoderInitNorm, rng);
      if (cfg.arch === 'jumprelu') v.f32.logTheta!.fill(Math.log(o.initThreshold));
      if (cfg.reconWeighted) o.reconWeights = Array.from(computeReconWeights(o, targetSample, got, dOut));
      log({ type: 'start', runId: o.runId, ...(kind ? { kind, dOut } : {}), options: o, dIn, totalSteps, engine: engineName, notes, activationScale: scale, time: new Date().toISOString() });
    }

    if (cfg.reconWeighted) {
      const gamma = o.reconWeights;
      if (!gamma || gamma.length !== dOut) throw new InputError(ckptPath ?? o.outDir, `the weighted run's Γ has ${gamma?.length ?? 0} entries, expected ${dOut}`);
      for (let q = 0; q < dOut; q++) v.f32.gamma2![q] = gamma[q]! ** 2;
    }
    let last: StepStats | undefined;
    const t0 = performance.now();
    const startStep = step;
    let lastEmit = 0;
    const x = v.f32.x!, y = cfg.target ? v.f32.y! : undefined;
    let lastCheckpoint: string | undefined;
    const checkpoint = (): string => {
      try {
        const states = reader.state();
        lastCheckpoint = saveCheckpoint(o.outDir, v, {
          version: 1, options: o as unknown as Record<string, unknown>, dIn, ...(dOut !== dIn ? { dOut } : {}), step, totalSteps, tokens, adamT: eng.adamT,
          reader: states[0]!, ...(states.length > 1 ? { readers: states } : {}), rng: rng.state, activationScale: scale, bTopkThreshold: sc[S.bTopkThreshold]!, windowTokens, engine: engineName,
        });
        return lastCheckpoint;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw new InputError(checkpointPath(o.outDir), `cannot write the checkpoint at step ${step} (${code}); ${lastCheckpoint || meta ? 'the previous checkpoint is intact, --resume continues from it' : 'no earlier checkpoint exists'}`);
      }
    };
    const deadFraction = (): number => {
      const since = v.f64.tokensSinceFired!;
      let dead = 0;
      for (let i = 0; i < o.width; i++) if (since[i]! >= o.deadTokens) dead++;
      return dead / o.width;
    };
    while (step < totalSteps) {
      if (hooks.cancelled()) {
        const path = checkpoint();
        hooks.emit({ type: 'checkpoint', runId: o.runId, step, path });
        throw new CancelledError();
      }
      const got = reader.next(x, y, o.batch);
      if (got < o.batch) throw new InputError(o.activations[0]!, 'ran out of rows');
      if (scale !== 1) for (let i = 0; i < x.length; i++) x[i]! *= scale;
      last = eng.step({ lr: lrAt(o, step, totalSteps), sparsityCoef: sparsityAt(o, step), deadTokens: o.deadTokens });
      if (!Number.isFinite(last.loss)) throw new InputError(o.activations[0]!, `the loss became ${last.loss} at step ${step} (try a smaller --lr)`);
      step++; tokens += o.batch; windowTokens += o.batch;
      if (o.resampleEvery > 0 && step % o.resampleEvery === 0 && step < totalSteps * 0.8) {
        const n = resampleDead(eng, o, rng);
        if (n) log({ type: 'resample', step, latents: n });
      }
      const now = performance.now();
      const tps = ((step - startStep) * o.batch) / ((now - t0) / 1000);
      const progress: TrainingProgress = {
        runId: o.runId, step, totalSteps, tokens, totalTokens: totalSteps * o.batch,
        loss: { total: last.loss, mse: last.mse, ...(cfg.arch === 'relu' ? { l1: last.sparsity } : {}), ...(cfg.arch === 'jumprelu' ? { l0: last.sparsity } : {}), ...(cfg.auxK ? { auxk: last.auxk } : {}) },
        explainedVariance: last.explainedVariance, l0: last.l0, deadFraction: deadFraction(), tokensPerSecond: tps,
        etaSeconds: ((totalSteps - step) * o.batch) / Math.max(tps, 1e-9), engine: engineName,
      };
      const logEvery = Math.max(1, Math.floor(totalSteps / 200));
      if (step % logEvery === 0 || step === totalSteps) log({ type: 'step', ...progress });
      if (now - lastEmit > 250 || step === totalSteps || step - startStep <= 3) { hooks.emit({ type: 'progress', progress }); lastEmit = now; }
      if (step % o.checkpointEvery === 0 && step < totalSteps) {
        const path = checkpoint();
        hooks.emit({ type: 'checkpoint', runId: o.runId, step, path });
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const sae = exportSae(eng, o, scale, tokens, engineName);
    Object.assign(sae.cfg, captureCfgFacts(sae.cfg.metadata, o.activations[0]!, o.tensorName, o.target));
    let crosscoder: Record<string, unknown> | undefined;
    if (kind === 'crosscoder') crosscoder = saveTrainedCrosscoder(o.outDir, sae, reader.sources, o.width, sae.cfg.training!);
    else saveSaeLens(sae, o.outDir);
    const summary: TrainSummary = {
      runId: o.runId, outDir: o.outDir, ...(kind ? { kind, dOut } : {}), arch: o.arch, dIn, width: o.width, ...(cfg.k ? { k: cfg.k } : {}),
      steps: step, tokens, seconds, tokensPerSecond: ((step - startStep) * o.batch) / Math.max(seconds, 1e-9),
      engine: engineName, engineNotes: notes, threads,
      final: last ? { mse: last.mse, explainedVariance: last.explainedVariance, l0: last.l0, deadFraction: deadFraction(), loss: last.loss } : undefined,
      skippedRows: reader.skippedRows, activationScale: scale, resumedFrom: meta ? meta.step : undefined,
      ...(crosscoder ? { crosscoder } : {}),
    };
    log({ type: 'summary', ...summary, time: new Date().toISOString() });
    return summary;
  } finally {
    reader.close();
    await pool?.close();
  }
}

/**
 * Dead latents restart toward inputs the SAE reconstructs worst (Bricken et al.; THEORY C1): the decoder row
 * along that row's residual, the encoder row along the residual too when input and target are one space,
 * else (transcoders) along the row's encoder input. Returns how many.
 */
function resampleDead(eng: StepEngine, o: ResolvedOptions, rng: Rng): number {
  const { dIn, dOut, dSae, batch: B } = eng.cfg;
  const f = eng.views.f32, since = eng.views.f64.tokensSinceFired!;
  const dead: number[] = [];
  for (let i = 0; i < dSae; i++) if (since[i]! >= o.deadTokens) dead.push(i);
  if (dead.length === 0 || dead.length === dSae) return 0;
  // the last batch's residuals of the full reconstruction (the last Matryoshka segment): g = 2(ŷ − y)/B, so r = −g·B/2
  const g = f.g!.subarray((eng.cfg.prefixes.length - 1) * B * dOut, eng.cfg.prefixes.length * B * dOut);
  const xc = f.xc!;
  const weights = new Float64Array(B);
  let total = 0;
  for (let n = 0; n < B; n++) { let s = 0; for (let q = 0; q < dOut; q++) s += g[n * dOut + q]! ** 2; weights[n] = s; total += s; }
  if (!(total > 0)) return 0;
  let encNorm = 0, decNorm = 0, live = 0;
  for (let i = 0; i < dSae; i++) {
    if (since[i]! >= o.deadTokens) continue;
    let se = 0, sd = 0;
    for (let q = 0; q < dIn; q++) se += f.wEncT![i * dIn + q]! ** 2;
    for (let q = 0; q < dOut; q++) sd += f.wDec![i * dOut + q]! ** 2;
    encNorm += Math.sqrt(se); decNorm += Math.sqrt(sd); live++;
  }
  encNorm /= live; decNorm /= live;
  const dNorm = eng.cfg.unitNormDecoder ? 1 : decNorm;
  for (const i of dead) {
    let u = rng.next() * total, n = 0;
    while (n < B - 1 && u >= weights[n]!) { u -= weights[n]!; n++; }
    const rn = Math.sqrt(weights[n]!) || 1;
    for (let q = 0; q < dOut; q++) f.wDec![i * dOut + q] = (dNorm * -g[n * dOut + q]!) / rn;
    if (!eng.cfg.target) for (let q = 0; q < dIn; q++) f.wEncT![i * dIn + q] = (0.2 * encNorm * -g[n * dOut + q]!) / rn;
    else {
      let xn = 0;
      for (let q = 0; q < dIn; q++) xn += xc[n * dIn + q]! ** 2;
      xn = Math.sqrt(xn) || 1;
      for (let q = 0; q < dIn; q++) f.wEncT![i * dIn + q] = (0.2 * encNorm * xc[n * dIn + q]!) / xn;
    }
    f.bEnc![i] = 0;
    for (const [p, len] of [['wDec', dOut], ['wEncT', dIn]] as const) { f[`m_${p}`]!.fill(0, i * len, (i + 1) * len); f[`v_${p}`]!.fill(0, i * len, (i + 1) * len); }
    f.m_bEnc![i] = 0; f.v_bEnc![i] = 0;
    if (f.logTheta && f.logTheta.length) { f.m_logTheta![i] = 0; f.v_logTheta![i] = 0; }
    since[i] = 0;
  }
  return dead.length;
}

/** The trained SAE in SAELens orientation, with the activation scale folded in (SAELens fold_activation_norm_scaling_factor). */
export function exportSae(eng: StepEngine, o: ResolvedOptions, scale: number, tokens: number, engineName: string): Sae {
  const { dIn, dOut, dSae, arch } = eng.cfg;
  const f = eng.views.f32;
  const wEnc = new Float32Array(dIn * dSae);
  for (let i = 0; i < dSae; i++) for (let q = 0; q < dIn; q++) wEnc[q * dSae + i] = f.wEncT![i * dIn + q]! * scale;
  const wDec = f.wDec!.slice();
  for (let i = 0; i < wDec.length; i++) wDec[i]! /= scale;
  const bDec = f.bDec!.slice();
  for (let q = 0; q < dOut; q++) bDec[q]! /= scale;
  let threshold: Float32Array | undefined;
  if (arch === 'jumprelu') threshold = Float32Array.from(f.logTheta!, Math.exp);
  if (arch === 'batchtopk') threshold = new Float32Array(dSae).fill(eng.views.f64.scalars![S.bTopkThreshold]!);
  const fires = eng.views.f64.windowFires!;
  const logDensity = new Float32Array(dSae);
  const denom = Math.max(tokens, 1);
  for (let i = 0; i < dSae; i++) logDensity[i] = Math.log10(fires[i]! / denom + 1e-10);
  const transcoder = o.kind === 'transcoder';
  return {
    cfg: {
      // BatchTopK transcoders are saved as SAELens does: a JumpReLU with the global threshold broadcast
      activation: transcoder && arch === 'batchtopk' ? 'jumprelu' : arch, dIn, dSae, dOut, transcoder, k: eng.cfg.k || undefined,
      applyBDecToInput: eng.cfg.bDecInput, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32',
      ...(eng.cfg.prefixes.length > 1 ? { matryoshkaWidths: eng.cfg.prefixes } : {}),
      training: {
        ...lossFacts(eng.cfg, o.sparsityCoef, scale),
        tokens, steps: Math.ceil(tokens / o.batch), batch: o.batch, lr: o.lr, seed: o.seed, engine: engineName,
        activationScaleFolded: scale, normalizeActivations: o.normalize ? 'expected_average_only_in' : 'none',
        ...(arch === 'batchtopk' ? { topkThreshold: eng.views.f64.scalars![S.bTopkThreshold]! } : {}),
        // Γ is per input dimension and scale-free (x and x̂ are scaled alike), so it holds for the saved SAE as is
        ...(o.reconWeights ? { reconstructionWeighting: { mode: o.weighting, ...(o.weighting === 'variance' ? { alpha: o.weightAlpha } : {}), gamma: o.reconWeights } } : {}),
      },
      metadata: { metadata: {} },
    },
    wEnc, bEnc: f.bEnc!.slice(), wDec, bDec, threshold, logDensity,
    // the family trains unscaled (scale 1), so W_skip needs no folding
    ...(eng.cfg.skip ? { wSkip: f.wSkip!.slice() } : {}),
  };
}
