/**
 * The training loop of one run, on the thread that calls it (the trainer worker, or a test): set-up
 * (./setup.ts: options, feed, arena, initialisation or resume) → steps with schedules, dead-latent tracking,
 * resampling, checkpoints, progress → export (./export.ts: a SAELens v6 folder with the activation scale
 * folded in, sparsity.safetensors, or the crosscoder format) and training_log.jsonl. The one loop for every
 * kind: SAEs, and the family (transcoders with their target stream, crosscoders with their L source
 * streams, Matryoshka prefixes; ./feeds.ts).
 */
import { CancelledError, InputError } from '../errors';
import type { TrainingEvent, TrainingProgress } from '../protocol/training';
import { trainFacts } from '../sae/arch/registry';
import { hasAuxReconstruction } from '../sae/objectives';
import { checkpointPath, saveCheckpoint } from './checkpoint';
import { exportSae, saveRun } from './export';
import { captureCfgFacts } from '../io/shards';
import { S } from './layout';
import type { ResolvedOptions, TrainOptions } from './options';
import { resampleDead } from './resample';
import { openRun, planRun, startState } from './setup';
import type { Run, RunState } from './setup';
import type { StepStats } from './stepEngine';

export { TRAINING_LOG } from './setup';

export interface TrainHooks {
  emit(e: TrainingEvent): void;
  cancelled(): boolean;
}

export type TrainSummary = Record<string, unknown>;

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
  const run = await openRun(planRun(input));
  try {
    const state = startState(run);
    const startStep = state.step;
    const t0 = performance.now();
    const checkpoint = checkpointer(run, state, hooks);
    const last = trainLoop(run, state, hooks, t0, checkpoint);
    return finish(run, state, last, (performance.now() - t0) / 1000, startStep, checkpoint);
  } finally {
    await run.close();
  }
}

/** Writes the run's checkpoint now (returns its path); a failure says whether an earlier one is intact. */
function checkpointer(run: Run, state: RunState, hooks: TrainHooks): () => string {
  const { o, eng, reader } = run;
  const v = eng.views;
  const totalSteps = Math.ceil(o.tokens / o.batch);
  let lastCheckpoint: string | undefined;
  return () => {
    try {
      const states = reader.state();
      lastCheckpoint = saveCheckpoint(o.outDir, v, {
        version: 1, options: o as unknown as Record<string, unknown>, dIn: reader.dIn, ...(reader.dOut !== reader.dIn ? { dOut: reader.dOut } : {}), step: state.step, totalSteps, tokens: state.tokens, adamT: eng.adamT,
        reader: states[0]!, ...(states.length > 1 ? { readers: states } : {}), rng: state.rng.state, activationScale: state.scale, bTopkThreshold: v.f64.scalars![S.bTopkThreshold]!, windowTokens: state.windowTokens, engine: run.engineName,
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new InputError(checkpointPath(o.outDir), `cannot write the checkpoint at step ${state.step} (${code}); ${lastCheckpoint || run.meta ? 'the previous checkpoint is intact, --resume continues from it' : 'no earlier checkpoint exists'}`);
    }
    hooks.emit({ type: 'checkpoint', runId: o.runId, step: state.step, path: lastCheckpoint });
    return lastCheckpoint;
  };
}

function deadFraction(run: Run): number {
  const since = run.eng.views.f64.tokensSinceFired!;
  let dead = 0;
  for (let i = 0; i < run.o.width; i++) if (since[i]! >= run.o.deadTokens) dead++;
  return dead / run.o.width;
}

/** The steps from state.step to the end, with progress, the log, resampling and checkpoints; returns the last step's statistics. */
function trainLoop(run: Run, state: RunState, hooks: TrainHooks, t0: number, checkpoint: () => string): StepStats | undefined {
  const { o, cfg, eng, reader } = run;
  const v = eng.views;
  const totalSteps = Math.ceil(o.tokens / o.batch);
  const startStep = state.step;
  let last: StepStats | undefined;
  let lastEmit = 0;
  const x = v.f32.x!, y = cfg.target ? v.f32.y! : undefined;
  const penaltyLabel = trainFacts(cfg.arch).penaltyLabel;
  const showAux = hasAuxReconstruction(cfg);
  while (state.step < totalSteps) {
    if (hooks.cancelled()) {
      checkpoint();
      throw new CancelledError();
    }
    const got = reader.next(x, y, o.batch);
    if (got < o.batch) throw new InputError(o.activations[0]!, 'ran out of rows');
    if (state.scale !== 1) for (let i = 0; i < x.length; i++) x[i]! *= state.scale;
    last = eng.step({ lr: lrAt(o, state.step, totalSteps), sparsityCoef: sparsityAt(o, state.step), deadTokens: o.deadTokens });
    if (!Number.isFinite(last.loss)) throw new InputError(o.activations[0]!, `the loss became ${last.loss} at step ${state.step} (try a smaller --lr)`);
    const step = ++state.step;
    state.tokens += o.batch; state.windowTokens += o.batch;
    if (o.resampleEvery > 0 && step % o.resampleEvery === 0 && step < totalSteps * 0.8) {
      const n = resampleDead(eng, o, state.rng);
      if (n) run.log({ type: 'resample', step, latents: n });
    }
    const now = performance.now();
    const tps = ((step - startStep) * o.batch) / ((now - t0) / 1000);
    const progress: TrainingProgress = {
      runId: o.runId, step, totalSteps, tokens: state.tokens, totalTokens: totalSteps * o.batch,
      loss: { total: last.loss, mse: last.mse, ...(penaltyLabel ? { [penaltyLabel]: last.sparsity } : {}), ...(showAux ? { auxk: last.auxk } : {}) },
      explainedVariance: last.explainedVariance, l0: last.l0, deadFraction: deadFraction(run), tokensPerSecond: tps,
      etaSeconds: ((totalSteps - step) * o.batch) / Math.max(tps, 1e-9), engine: run.engineName,
    };
    const logEvery = Math.max(1, Math.floor(totalSteps / 200));
    if (step % logEvery === 0 || step === totalSteps) run.log({ type: 'step', ...progress });
    if (now - lastEmit > 250 || step === totalSteps || step - startStep <= 3) { hooks.emit({ type: 'progress', progress }); lastEmit = now; }
    if (step % o.checkpointEvery === 0 && step < totalSteps) checkpoint();
  }
  return last;
}

/** Saves the trained SAE (or crosscoder), logs and returns the summary. */
function finish(run: Run, state: RunState, last: StepStats | undefined, seconds: number, startStep: number, checkpoint: () => string): TrainSummary {
  const { o, cfg, reader } = run;
  const sae = exportSae(run.eng, o, state.scale, state.tokens, run.engineName);
  // an SAE trained on a capture records the model and hook it came from
  Object.assign(sae.cfg, captureCfgFacts(sae.cfg.metadata, o.activations[0]!, o.tensorName, o.target));
  const crosscoder = saveRun(o, sae, reader.sources, checkpoint);
  const summary: TrainSummary = {
    runId: o.runId, outDir: o.outDir, ...(o.kind ? { kind: o.kind, dOut: reader.dOut } : {}), arch: o.arch, dIn: reader.dIn, width: o.width, ...(cfg.k ? { k: cfg.k } : {}),
    steps: state.step, tokens: state.tokens, seconds, tokensPerSecond: ((state.step - startStep) * o.batch) / Math.max(seconds, 1e-9),
    engine: run.engineName, engineNotes: run.notes, threads: run.threads,
    final: last ? { mse: last.mse, explainedVariance: last.explainedVariance, l0: last.l0, deadFraction: deadFraction(run), loss: last.loss } : undefined,
    skippedRows: reader.skippedRows, activationScale: state.scale, resumedFrom: run.meta ? run.meta.step : undefined,
    ...(crosscoder ? { crosscoder } : {}),
  };
  run.log({ type: 'summary', ...summary, time: new Date().toISOString() });
  return summary;
}
