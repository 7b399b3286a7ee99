/**
 * The trainer's public API, used by the CLI and the extension host alike. Training runs in a worker
 * thread (src/workers/trainer.worker.ts, which may start kernel workers of its own); the caller gets typed
 * events and a handle to cancel. Cancellation is a shared flag the loop reads before every step, so it
 * lands within one step even while the worker is busy.
 */
import { CancelledError, InputError } from '../errors';
import type { TrainerWorkerData, TrainerWorkerEvents, TrainingEvent } from '../protocol/training';
import { MessageHandler } from '../runtime/rpc';
import { startWorker } from '../runtime/workerPath';
import { probeCapabilities } from '../compute/engine';
import type { Capabilities } from '../compute/engine';
import { runTraining } from './trainer';
import type { TrainOptions } from './options';
import { recordTrainingData } from '../data/saeData';

export type { TrainOptions } from './options';


export interface TrainHandle {
  runId: string;
  /** Resolves with the final summary (metrics, tokens/s, engine), rejects with an InputError or a crash. */
  done: Promise<Record<string, unknown>>;
  /** Asks the run to stop within one step; `done` then rejects with CancelledError. */
  cancel(): void;
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
      // the SAE knows its data: activation files, tokens, hook and model go into its cfg.json
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
