/**
 * Kernel workers that run phases of the step over their latent/row ranges (see ./step.ts). The
 * coordinator and the workers meet at a barrier made of Atomics on the arena's control words, so a phase
 * costs no message passing: bump the generation, run thread 0's share, wait for the others.
 */
import type { Worker } from 'node:worker_threads';
import type { ThreadGemmSpec } from '../compute/engine';
import type { ModelConfig } from '../sae/objectives';
import type { Phase } from './step';
import type { PhasePool } from './stepEngine';
import { startWorker } from '../runtime/workerPath';

export const C = { gen: 0, phase: 1, done: 2, error: 3, stop: 4, ready: 5 } as const;

/** How long kernel workers may take to start before the run gives up on them. */
const START_TIMEOUT_MS = 60_000;

export interface KernelWorkerData {
  cfg: ModelConfig;
  threads: number;
  worker: number;
  buffer: SharedArrayBuffer;
  /** How the worker builds its GEMM provider (../compute/engine threadGemm): the wasm memory and module, BLAS or not. */
  gemm: ThreadGemmSpec;
}

export class WorkerPool implements PhasePool {
  private readonly workers: Worker[] = [];
  private failure: string | undefined;

  constructor(private readonly control: Int32Array, cfg: ModelConfig, threads: number, buffer: SharedArrayBuffer, gemm: ThreadGemmSpec = { blas: false }) {
    for (let w = 1; w < threads; w++) {
      const data: KernelWorkerData = { cfg, threads, worker: w, buffer, gemm };
      const worker = startWorker('kernel', data);
      worker.on('error', (e) => { this.failure = `kernel worker ${w}: ${e.message}`; Atomics.store(control, C.error, 1); Atomics.add(control, C.done, 1); Atomics.notify(control, C.done); });
      worker.unref();
      this.workers.push(worker);
    }
  }

  start(phase: Phase): void {
    Atomics.store(this.control, C.done, 0);
    Atomics.store(this.control, C.phase, phase);
    Atomics.add(this.control, C.gen, 1);
    Atomics.notify(this.control, C.gen);
  }

  wait(): void {
    const need = this.workers.length;
    const t0 = Date.now();
    for (;;) {
      const d = Atomics.load(this.control, C.done);
      if (d >= need) break;
      Atomics.wait(this.control, C.done, d, 1000);
      // this thread is blocked, so a worker that dies while loading never gets its 'error' event through:
      // workers count themselves ready once loaded, and a missing one ends the run instead of hanging it
      if (Atomics.load(this.control, C.ready) < need && Date.now() - t0 > START_TIMEOUT_MS) {
        throw new Error(`${need - Atomics.load(this.control, C.ready)} kernel worker(s) did not start within ${START_TIMEOUT_MS / 1000} s`);
      }
    }
    if (Atomics.load(this.control, C.error)) throw new Error(this.failure ?? 'a kernel worker failed');
  }

  async close(): Promise<void> {
    Atomics.store(this.control, C.stop, 1);
    Atomics.add(this.control, C.gen, 1);
    Atomics.notify(this.control, C.gen);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
