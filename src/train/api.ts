/**
 * The trainer's public API, used by the CLI and the extension host alike. Training runs in a worker
 * thread (src/train/trainer.worker.ts, which may start kernel workers of its own); the caller gets typed
 * events and a handle to cancel. Cancellation is a shared flag the loop reads before every step, so it
 * lands within one step even while the worker is busy.
 */
import { CancelledError, InputError } from '../errors';
import type { TrainingEvent } from '../protocol/training';
import { MessageHandler } from '../protocol/rpc';
import type { Activation } from '../sae/types';
import { startWorker } from './workerPath';
import { probeCapabilities } from '../compute/engine';
import type { Capabilities, EnginePreference } from '../compute/engine';
import { runTraining } from './trainer';
import { recordTrainingData } from '../data/saeData';

export interface TrainOptions {
  /** Activation file(s): .npy or .safetensors holding [tokens, d_in] float rows. */
  activations: string[];
  /** Output SAELens v6 folder. */
  outDir: string;
  arch: Activation;
  width: number;
  k?: number;
  /** Sparsity coefficient (relu: L1 λ; jumprelu: L0 coefficient). */
  l1?: number;
  tokens?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  threads?: number;
  /** GEMM engine preference. */
  engine?: EnginePreference;
  /** Continue from the last checkpoint in outDir. */
  resume?: boolean;
  checkpointEvery?: number;
  /** What to do with NaN/Inf rows: skip and count them, or stop with an error. */
  onNonFinite?: 'skip' | 'stop';
  /** Memory budget for activations, bytes. */
  memoryBudget?: number;
  runId?: string;
  // ---- additions of the training engine (all optional; defaults in src/train/trainer.ts resolveOptions)
  /** Name of the 2-D tensor in a .safetensors activation file holding several. */
  tensorName?: string;
  lrWarmupSteps?: number;
  /** Linear decay to 0 over the last N steps. */
  lrDecaySteps?: number;
  /** Linear warm-up of the sparsity coefficient over the first N steps. */
  sparsityWarmupSteps?: number;
  /** relu: unit-norm decoder variant (THEORY A2) instead of the decoder-norm-weighted L1 (A1). */
  unitNormDecoder?: boolean;
  decoderInitNorm?: number;
  /** Scale activations to mean norm √d_in while training (expected_average_only_in), folded into the saved weights. */
  normalize?: boolean;
  /** A latent is dead after this many tokens without firing. */
  deadTokens?: number;
  /** Resample dead latents every N steps (0: never). */
  resampleEvery?: number;
  /** JumpReLU STE bandwidth and initial threshold. */
  bandwidth?: number;
  initThreshold?: number;
  /** TopK/BatchTopK aux-k loss on dead latents (default on). */
  auxK?: boolean;
  // ---- weighted SAE (THEORY.md A7; src/train/weighting.ts)
  /** Per-input-dimension reconstruction weights Γ: none (default), variance (γ = Var^α), oracle (NNLS on the ground-truth mixing). */
  weighting?: 'none' | 'variance' | 'oracle';
  /** Exponent α of the variance weights (default −0.5; see docs/family.md for why negative). */
  weightAlpha?: number;
  /** oracle: a synthetic folder or its ground_truth.safetensors (the mixing matrix W_p). */
  groundTruth?: string;
  // ---- the rest of the family (the same loop and engine; kinds and row-aligned streams in src/train/familyTrainer.ts)
  /** Transcoder: target rows (site B, row-aligned with the single activation file, any width d_out). */
  target?: string;
  /** Transcoder: skip connection ŷ = f W_dec + b_dec + x W_skipᵀ (relu only: SAELens skip_transcoder). */
  skip?: boolean;
  /** Crosscoder: the activation files are L row-aligned sources with shared codes (not more rows). */
  crosscoder?: boolean;
  /** Matryoshka BatchTopK: prefix widths (the full width is appended when missing). */
  matryoshkaWidths?: number[];
  // ---- what the rows are (recorded in cfg.json with the activation files: src/data/saeData.ts)
  /** The model's hook the activations were captured at (SAELens metadata.hook_name). */
  hookName?: string;
  /** The model they come from (SAELens metadata.model_name). */
  modelName?: string;
}

export interface TrainHandle {
  runId: string;
  /** Resolves with the final summary (metrics, tokens/s, engine), rejects with an InputError or a crash. */
  done: Promise<Record<string, unknown>>;
  /** Asks the run to stop within one step; `done` then rejects with CancelledError. */
  cancel(): void;
}

/** What the trainer worker starts with. */
export interface TrainerWorkerData { opts: TrainOptions; cancelFlag: Int32Array }

/** Events the trainer worker sends (MessageHandler event envelopes). */
export interface TrainerWorkerEvents extends Record<string, unknown> {
  training: TrainingEvent;
  result: Record<string, unknown>;
  failure: { name: string; source?: string; problem?: string; message: string; stack?: string };
}

export function startTraining(opts: TrainOptions, onEvent: (e: TrainingEvent) => void): TrainHandle {
  const runId = opts.runId ?? `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const caps = probeCapabilities();
  if (!caps.workerThreads || !caps.sharedArrayBuffer) return startInProcess({ ...opts, runId, threads: 1 }, onEvent, caps);
  const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
  const data: TrainerWorkerData = { opts: { ...opts, runId }, cancelFlag };
  let lastCheckpoint: string | undefined;
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    const worker = startWorker('trainer', data);
    let settled = false;
    const settle = (fn: () => void): void => { if (!settled) { settled = true; fn(); } };
    const channel = new MessageHandler<Record<string, never>, Record<string, never>, Record<string, never>, TrainerWorkerEvents>((m) => worker.postMessage(m));
    channel.onEvent('training', (e) => {
      if (e.type === 'checkpoint') lastCheckpoint = e.path;
      onEvent(e);
    });
    channel.onEvent('result', (summary) => {
      try { recordTrainingData(opts); } catch (e) { settle(() => reject(e)); return; }
      onEvent({ type: 'done', runId, outDir: opts.outDir, summary });
      settle(() => resolve(summary));
    });
    channel.onEvent('failure', (f) => {
      let err: Error;
      if (f.name === 'CancelledError') {
        onEvent({ type: 'cancelled', runId, lastCheckpoint });
        err = new CancelledError();
      } else {
        onEvent({ type: 'error', runId, message: f.message, lastCheckpoint });
        err = f.name === 'InputError' ? new InputError(f.source ?? '', f.problem ?? f.message) : Object.assign(new Error(f.message), { stack: f.stack });
      }
      settle(() => reject(err));
    });
    worker.on('message', (m) => { void channel.receive(m); });
    worker.on('error', (e) => {
      onEvent({ type: 'error', runId, message: e.message, lastCheckpoint });
      settle(() => reject(e));
    });
    worker.on('exit', (code) => settle(() => reject(new Error(`the trainer worker exited (code ${code}) before finishing`))));
  });
  return {
    runId,
    done,
    cancel: () => { Atomics.store(cancelFlag, 0, 1); },
  };
}

/**
 * The last resort when this runtime has no worker_threads or SharedArrayBuffer: the loop runs on the
 * caller's thread, yielding to its event loop between steps is not possible, so the UI stalls; said so in
 * the summary's engine notes rather than failing.
 */
function startInProcess(opts: TrainOptions & { runId: string }, onEvent: (e: TrainingEvent) => void, caps: Capabilities): TrainHandle {
  let cancelled = false;
  let lastCheckpoint: string | undefined;
  const note = `worker_threads ${caps.workerThreads ? 'available' : 'unavailable'}, SharedArrayBuffer ${caps.sharedArrayBuffer ? 'available' : 'unavailable'}: training on the calling thread`;
  const done = runTraining(opts, {
    emit: (e) => { if (e.type === 'checkpoint') lastCheckpoint = e.path; onEvent(e); },
    cancelled: () => cancelled,
  }).then((summary) => {
    recordTrainingData(opts);
    const s = { ...summary, engineNotes: [...((summary.engineNotes as string[] | undefined) ?? []), note] };
    onEvent({ type: 'done', runId: opts.runId, outDir: opts.outDir, summary: s });
    return s;
  }, (e: unknown) => {
    if (e instanceof CancelledError) onEvent({ type: 'cancelled', runId: opts.runId, lastCheckpoint });
    else onEvent({ type: 'error', runId: opts.runId, message: e instanceof Error ? e.message : String(e), lastCheckpoint });
    throw e;
  });
  return { runId: opts.runId, done, cancel: () => { cancelled = true; } };
}
