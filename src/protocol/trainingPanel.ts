/** Training monitor panel protocol (type-only); progress payloads are src/protocol/training.ts's. */
import type { TrainingModel } from './viewModels';
import type { ErrorEvent, PanelArgs, ReadyEvent } from './panels';
import type { TrainingProgress } from './training';

export const TRAINING_VIEW_TYPE = 'saeWorkbench.training';

export type RunState = 'running' | 'cancelling' | 'cancelled' | 'done' | 'error';

export type HostToTrainingEvents = ErrorEvent & {
  /** Everything logged so far (on ready, and after a restore). */
  history: { model: TrainingModel; args: PanelArgs; state: RunState; message?: string; resumable?: boolean };
  progress: { progress: TrainingProgress };
  /** `resumable`: the run left a checkpoint that Resume continues from. */
  status: { state: RunState; message?: string; lastCheckpoint?: string; resumable?: boolean };
};
/** Cancel the run; resume it from its last checkpoint. */
export type TrainingToHostEvents = ReadyEvent & { cancel: { runId: string }; resume: { runId: string } };
export type TrainingRequests = Record<never, [unknown, unknown]>;
