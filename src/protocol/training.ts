/**
 * Progress of a training run, as the trainer (in a worker) reports it to its caller (the extension host
 * or the CLI) and as the training monitor panel receives it. Type-only module.
 */
export interface TrainingProgress {
  runId: string;
  step: number;
  totalSteps: number;
  tokens: number;
  totalTokens: number;
  /** Loss parts by name, e.g. { mse: 0.12, l1: 0.03, auxk: 0.001 }. */
  loss: Record<string, number>;
  explainedVariance: number;
  l0: number;
  deadFraction: number;
  tokensPerSecond: number;
  /** Seconds to the end at the current rate. */
  etaSeconds: number;
  /** The GEMM engine in use ('wasm-simd', 'tfjs-node', 'js', ...). */
  engine: string;
}

export type TrainingEvent =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'checkpoint'; runId: string; step: number; path: string }
  | { type: 'done'; runId: string; outDir: string; summary: Record<string, unknown> }
  | { type: 'error'; runId: string; message: string; lastCheckpoint?: string }
  | { type: 'cancelled'; runId: string; lastCheckpoint?: string };
