/**
 * The trainer's public API, used by the CLI and the extension host alike. Training runs in worker
 * threads; the caller gets typed events and a handle to cancel. (Contract first; the engine fills it in.)
 */
import type { TrainingEvent } from '../protocol/training';
import type { Activation } from '../sae/types';

export interface TrainOptions {
  /** Activation file(s): .npy, .safetensors, or an Arrow activation cache folder. */
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
  engine?: 'auto' | 'tfjs-node' | 'wasm' | 'js';
  /** Continue from the last checkpoint in outDir. */
  resume?: boolean;
  checkpointEvery?: number;
  /** What to do with NaN/Inf rows: skip and count them, or stop with an error. */
  onNonFinite?: 'skip' | 'stop';
  /** Memory budget for activations, bytes. */
  memoryBudget?: number;
  runId?: string;
}

export interface TrainHandle {
  runId: string;
  /** Resolves with the final summary (metrics, tokens/s, engine), rejects with an InputError or a crash. */
  done: Promise<Record<string, unknown>>;
  /** Asks the run to stop within one step; `done` then rejects with CancelledError. */
  cancel(): void;
}

export function startTraining(_opts: TrainOptions, _onEvent: (e: TrainingEvent) => void): TrainHandle {
  throw new Error('the trainer is not built yet');
}
