/** A kernel worker: runs its share of each phase of the step when the coordinator bumps the generation. */
import { workerData } from 'node:worker_threads';
import { threadGemm } from '../compute/engine';
import { buildLayout, viewsOf } from '../train/layout';
import { C } from '../train/pool';
import type { KernelWorkerData } from '../train/pool';
import { runPhase } from '../train/step';
import { makeStepThread } from '../train/stepThread';
import type { Phase } from '../train/step';

const data = workerData as KernelWorkerData;
const layout = buildLayout(data.cfg, data.threads);
const buffer = data.gemm.memory ? (data.gemm.memory.buffer as unknown as SharedArrayBuffer) : data.buffer;
// each worker instantiates the wasm kernels over the arena and loads the BLAS addon for itself
const gemm = threadGemm(data.gemm);
const views = viewsOf(buffer, layout);
const thread = makeStepThread(data.cfg, layout, buffer, views, gemm, data.worker);
const control = views.i32.control!;
let seen = 0;
Atomics.add(control, C.ready, 1);
for (;;) {
  while (Atomics.load(control, C.gen) === seen) Atomics.wait(control, C.gen, seen);
  seen = Atomics.load(control, C.gen);
  if (Atomics.load(control, C.stop)) break;
  try {
    runPhase(thread, Atomics.load(control, C.phase) as Phase);
  } catch (e) {
    Atomics.store(control, C.error, 1);
    console.error(`kernel worker ${data.worker}: ${(e as Error).stack}`);
  }
  Atomics.add(control, C.done, 1);
  Atomics.notify(control, C.done);
}
