/** The trainer worker: runs one training run (./trainer.ts) and reports events, the summary or the failure. */
import { parentPort, workerData } from 'node:worker_threads';
import { MessageHandler } from '../runtime/rpc';
import type { TrainerWorkerData, TrainerWorkerEvents } from '../protocol/training';
import { runTraining } from '../train/trainer';

const data = workerData as TrainerWorkerData;
const channel = new MessageHandler<Record<string, never>, TrainerWorkerEvents, Record<string, never>, Record<string, never>>((m) => parentPort!.postMessage(m));

runTraining(data.opts, {
  emit: (e) => channel.event('training', e),
  cancelled: () => Atomics.load(data.cancelFlag, 0) === 1,
}).then(
  (summary) => channel.event('result', summary),
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    const { source, problem } = err as Error & { source?: string; problem?: string };
    channel.event('failure', { name: err.name, source, problem, message: err.message, stack: err.stack });
  },
);
