/**
 * The set-up of a run, before its first step: options resolved (or read back from the checkpoint), the row
 * feed opened, the model config built, the engine chosen and the shared arena laid out (refusing what
 * cannot fit), then the parameters initialised from a sample of rows or restored from the checkpoint.
 */
import { rmSync } from 'node:fs';
import { appendLineWhole, ensureFolder } from '../io/atomic';
import { recoverFolder } from '../io/folderSave';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { chooseEngine, threadGemm } from '../compute/engine';
import { InputError } from '../errors';
import type { ModelConfig } from '../sae/objectives';
import { trainFacts } from '../sae/arch/registry';
import { CHECKPOINT_DIR, readCheckpointMeta, restoreCheckpoint } from './checkpoint';
import type { CheckpointMeta } from './checkpoint';
import { openFeed } from './feeds';
import type { RowFeed } from './feeds';
import { activationScale, bDecStart, initWeights } from './init';
import { buildLayout, S } from './layout';
import { familyArch, familyKind, resolveOptions, resumedOptions, runModelConfig } from './options';
import type { ResolvedOptions, TrainOptions } from './options';
import { WorkerPool } from './pool';
import { Rng } from './rng';
import { StepEngine } from './stepEngine';
import { computeReconWeights } from './weighting';

export const TRAINING_LOG = 'training_log.jsonl';

/** A run's options, and the checkpoint it resumes from (if any). */
export interface RunPlan { o: ResolvedOptions; meta?: CheckpointMeta; ckptPath?: string }

/** Everything a run holds while it trains; `close` releases the feed and the kernel workers. */
export interface Run extends RunPlan {
  reader: RowFeed;
  cfg: ModelConfig;
  eng: StepEngine;
  pool?: WorkerPool;
  threads: number;
  engineName: string;
  notes: string[];
  log(rec: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Where the loop stands: restored from a checkpoint, or at step 0 after initialisation. */
export interface RunState { step: number; tokens: number; windowTokens: number; scale: number; rng: Rng }

/** The options of a new run (rows counted from its files), or of the run a checkpoint in outDir belongs to. */
export function planRun(input: TrainOptions): RunPlan {
  if (input.resume) {
    const found = readCheckpointMeta(input.outDir);
    if (!found) throw new InputError(input.outDir, 'nothing to resume: no checkpoint in this folder');
    return { o: resumedOptions(input, found.meta.options as unknown as ResolvedOptions, found.path), meta: found.meta, ckptPath: found.path };
  }
  const kind = familyKind(input);
  familyArch(kind, input);
  const probe = openFeed(kind, input.activations, input.target, { tensorName: input.tensorName, seed: 0, loop: false, memoryBudget: 8 * 2 ** 20, onNonFinite: 'skip' });
  const rows = probe.totalRows;
  probe.close();
  return { o: resolveOptions(input, rows) };
}

/** Bytes a run needs in memory (arena + reader + per-latent lists), to refuse what cannot fit before starting. */
export function estimateBytes(cfg: ModelConfig, threads: number, readerBudget: number): { arena: number; total: number } {
  const arena = buildLayout(cfg, threads).bytes;
  const activePerRow = cfg.k > 0 ? cfg.k + cfg.kAux : Math.ceil(cfg.dSae / 2);
  const lists = cfg.batch * activePerRow * 8 * 1.5;
  return { arena, total: arena + readerBudget + lists + 64 * 2 ** 20 };
}

const GiB = 2 ** 30;
const fmtGiB = (b: number): string => `${(b / GiB).toFixed(2)} GiB`;

/** Opens the feed, builds the model config, chooses the engine and lays out the arena with its workers. */
export async function openRun(plan: RunPlan): Promise<Run> {
  const { o, meta, ckptPath } = plan;
  const kind = o.kind;
  const reader = openFeed(kind, o.activations, o.target, { tensorName: o.tensorName, seed: o.seed, memoryBudget: o.memoryBudget, onNonFinite: o.onNonFinite });
  const { dIn, dOut } = reader;
  let pool: WorkerPool | undefined;
  try {
    if (meta && (meta.dIn !== dIn || (meta.dOut ?? dIn) !== dOut)) {
      throw new InputError(o.target && meta.dIn === dIn ? o.target : o.activations[0]!, `${kind === 'transcoder' ? `d_in ${dIn}, d_out ${dOut} differ from the checkpoint's ${meta.dIn}, ${meta.dOut}` : `d_in ${dIn} differs from the checkpoint's ${meta.dIn}`} (${ckptPath}); resume with the activations the run started on`);
    }
    const cfg = runModelConfig(o, reader);
    const engine = chooseEngine(o.engine);
    const notes = [...engine.notes];
    let threads = o.threads;
    if (threads > 1 && (!engine.caps.workerThreads || !engine.caps.sharedArrayBuffer)) {
      notes.push(`worker_threads or SharedArrayBuffer unavailable: running on 1 thread instead of ${threads}`);
      threads = 1;
    }
    const need = estimateBytes(cfg, threads, o.memoryBudget);
    const limit = Math.min(totalmem() * 0.8, Number(process.env.SAE_WORKBENCH_MEMORY_LIMIT ?? Infinity));
    const shape = `d_sae ${o.width} × d_in ${dIn}${dOut !== dIn ? ` → d_out ${dOut}` : ''} at batch ${o.batch}`;
    if (need.total > limit) throw new InputError('--width', `${shape} needs about ${fmtGiB(need.total)}; this machine allows ${fmtGiB(limit)} (reduce --width or --batch)`);
    if (engine.makeMemory && need.arena > 4 * GiB - 65536) throw new InputError('--width', `${shape} needs ${fmtGiB(need.arena)} of WebAssembly memory, above its 4 GiB limit (reduce --width or --batch)`);
    const memory = engine.makeMemory?.(need.arena);
    // without SharedArrayBuffer (threads were forced to 1 above) a plain ArrayBuffer does for one thread
    const buffer: ArrayBufferLike = memory ? memory.buffer : engine.caps.sharedArrayBuffer ? new SharedArrayBuffer(need.arena) : new ArrayBuffer(need.arena);
    const layout = buildLayout(cfg, threads);
    const control = new Int32Array(buffer, layout.regions.get('control')!.offset, 16);
    // every thread (this one and each kernel worker) builds its provider from the same spec
    const spec = { blas: engine.blas, memory, module: engine.module };
    pool = threads > 1 ? new WorkerPool(control, cfg, threads, buffer as SharedArrayBuffer, spec) : undefined;
    const eng = new StepEngine(cfg, buffer, threadGemm(spec), threads, pool);
    ensureFolder(o.outDir); recoverFolder(o.outDir, [CHECKPOINT_DIR]); // finish or clean up an interrupted save
    const logPath = join(o.outDir, TRAINING_LOG);
    if (!meta) rmSync(logPath, { force: true });
    const workers = pool;
    return {
      ...plan, reader, cfg, eng, pool, threads, notes, engineName: `${engine.gemm.name}${threads > 1 ? ` ×${threads} threads` : ''}`,
      log: (rec) => { appendLineWhole(logPath, JSON.stringify(rec)); }, // a full disk drops a line, never tears one
      close: async () => { reader.close(); await workers?.close(); },
    };
  } catch (e) {
    reader.close();
    await pool?.close();
    throw e;
  }
}

/**
 * Step 0 of a new run — the activation scale and b_dec (geometric median by default) from a sample read by a separate
 * reader (the training stream is untouched), the weights, the thresholds, Γ — or the checkpoint's state.
 */
export function startState(run: Run): RunState {
  const { o, meta, ckptPath, reader, cfg, eng } = run;
  const v = eng.views;
  const { dIn, dOut } = reader;
  const rng = new Rng(o.seed ^ 0x5eed);
  const state: RunState = { step: 0, tokens: 0, windowTokens: 0, scale: 1, rng };
  if (meta && ckptPath) {
    restoreCheckpoint(ckptPath, v);
    Object.assign(state, { step: meta.step, tokens: meta.tokens, windowTokens: meta.windowTokens, scale: meta.activationScale });
    eng.adamT = meta.adamT; rng.state = meta.rng;
    v.f64.scalars![S.bTopkThreshold] = meta.bTopkThreshold;
    reader.restore(meta.readers ?? [meta.reader]);
    run.log({ type: 'resume', runId: o.runId, step: state.step, engine: run.engineName, notes: run.notes, time: new Date().toISOString() });
  } else {
    const sampleRows = Math.min(4096, reader.totalRows);
    const sampler = openFeed(o.kind, o.activations, o.target, { tensorName: o.tensorName, seed: o.seed + 1, memoryBudget: Math.min(o.memoryBudget, 64 * 2 ** 20), onNonFinite: o.onNonFinite === 'stop' ? 'stop' : 'skip', loop: false });
    const sample = new Float32Array(sampleRows * dIn);
    const targetSample = cfg.target ? new Float32Array(sampleRows * dOut) : sample;
    let got: number;
    try { got = sampler.next(sample, targetSample, sampleRows); } finally { sampler.close(); }
    if (got === 0) throw new InputError(o.activations[0]!, 'no finite rows to train on');
    state.scale = o.normalize ? activationScale(sample, got, dIn) : 1;
    for (let i = 0; i < got * dIn; i++) sample[i]! *= state.scale;
    // b_dec and Γ live in the target space
    v.f32.bDec!.set(bDecStart(o.bDecInit, targetSample, got, dOut));
    // the family's encoder rows start at unit norm (transcoders: random, as their input is another space)
    initWeights(v.f32.wDec!, v.f32.wEncT!, o.width, dIn, dOut, o.decoderInitNorm, o.kind ? 1 : o.decoderInitNorm, rng, !!trainFacts(o.arch).uniformInit);
    if (cfg.selection === 'threshold') v.f32.logTheta!.fill(Math.log(o.initThreshold));
    if (cfg.reconWeighted) o.reconWeights = Array.from(computeReconWeights(o, targetSample, got, dOut));
    const totalSteps = Math.ceil(o.tokens / o.batch);
    run.log({ type: 'start', runId: o.runId, ...(o.kind ? { kind: o.kind, dOut } : {}), options: o, dIn, totalSteps, engine: run.engineName, notes: run.notes, activationScale: state.scale, time: new Date().toISOString() });
  }
  if (cfg.reconWeighted) {
    const gamma = o.reconWeights;
    if (!gamma || gamma.length !== dOut) throw new InputError(ckptPath ?? o.outDir, `the weighted run's Γ has ${gamma?.length ?? 0} entries, expected ${dOut}`);
    for (let q = 0; q < dOut; q++) v.f32.gamma2![q] = gamma[q]! ** 2;
  }
  return state;
}
