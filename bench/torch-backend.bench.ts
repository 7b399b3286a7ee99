// `npm run bench -- torch-backend`: tokens/s of the PyTorch backend (python -m sae_workbench_train, through
// the same launcher the CLI uses) against our built-in engine on one TopK SAE (768 × 16,384, k 32, batch
// 4096), on this machine's CPU, both on 2 threads. The runs alternate (builtin, torch, builtin, torch, …) so
// load from other work hits both alike; tokens/s is the steady state, from the progress event of step 2 to
// the last. With CUDA available to the interpreter, one more case on the GPU, with the card named.
// One JSON line per case; `ratio` is torch over builtin (the baseline). Quote medians, and the load.
//   BENCH_TORCH_REPS=3  BENCH_TORCH_STEPS=6  BENCH_TORCH_D=768  BENCH_TORCH_WIDTH=16384  BENCH_TORCH_BATCH=4096
//   SAE_WORKBENCH_PYTHON (default /usr/bin/python3 when it has torch, else python3)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../src/io/npy';
import type { TrainingEvent } from '../src/protocol/training';
import { startTraining } from '../src/train/api';
import type { TrainHandle, TrainOptions } from '../src/train/api';
import { Rng } from '../src/train/rng';
import { startTorchTraining } from '../src/train/torchBackend';
import type { TorchOptions } from '../src/train/torchBackend';

const REPS = Number(process.env.BENCH_TORCH_REPS ?? 3);
const STEPS = Number(process.env.BENCH_TORCH_STEPS ?? 6);
const D = Number(process.env.BENCH_TORCH_D ?? 768);
const WIDTH = Number(process.env.BENCH_TORCH_WIDTH ?? 16384);
const BATCH = Number(process.env.BENCH_TORCH_BATCH ?? 4096);
const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };

function pickPython(): string {
  if (process.env.SAE_WORKBENCH_PYTHON) return process.env.SAE_WORKBENCH_PYTHON;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0 ? '/usr/bin/python3' : 'python3';
}

/** Steady-state tokens/s of one run: rows between the progress events of step 2 and the last step. */
async function timed(start: (onEvent: (e: TrainingEvent) => void) => TrainHandle): Promise<{ tps: number; engine: string }> {
  let t2 = 0, tLast = 0, s2 = 0, sLast = 0, engine = '';
  const handle = start((e) => {
    if (e.type !== 'progress') return;
    const now = performance.now();
    engine = e.progress.engine;
    if (e.progress.step === 2) { t2 = now; s2 = 2; }
    tLast = now; sLast = e.progress.step;
  });
  await handle.done;
  return { tps: ((sLast - s2) * BATCH) / ((tLast - t2) / 1000), engine };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'torch-bench-'));
  const python = pickPython();
  try {
    const rng = new Rng(7);
    const rows = BATCH * 2;
    const x = Float32Array.from({ length: rows * D }, () => rng.normal());
    const acts = join(root, 'acts.npy');
    writeNpy(acts, { dtype: 'F32', shape: [rows, D], data: x });
    const opts = (out: string): TrainOptions => ({ activations: [acts], outDir: join(root, out), arch: 'topk', width: WIDTH, k: 32, batch: BATCH, tokens: BATCH * STEPS, lr: 3e-4, seed: 0, checkpointEvery: 1e9, threads: 2 });
    const cuda = spawnSync(python, ['-c', 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'], { encoding: 'utf8' }).stdout?.trim();
    const cases: [string, TorchOptions][] = [['cpu', { python, device: 'cpu' }], ...(cuda ? [[`cuda (${cuda})`, { python, device: 'cuda' }] as [string, TorchOptions]] : [])];
    for (const [device, t] of cases) {
      const ours: number[] = [], theirs: number[] = [];
      let ourEngine = '', theirEngine = '';
      const load = [loadavg()[0]!];
      for (let r = 0; r < REPS; r++) {
        const a = await timed((on) => startTraining(opts(`b${r}`), on));
        const b = await timed((on) => startTorchTraining(opts(`t${r}`), t, on));
        ours.push(a.tps); theirs.push(b.tps); ourEngine = a.engine; theirEngine = b.engine;
        load.push(loadavg()[0]!);
      }
      console.log(JSON.stringify({
        case: `torch-backend topk ${D}x${WIDTH} k32 batch ${BATCH}, ${device}`, tokensPerSecond: median(theirs), engine: theirEngine, runs: theirs.map(Math.round),
        baseline: { tokensPerSecond: median(ours), engine: ourEngine, runs: ours.map(Math.round) }, ratio: median(theirs) / median(ours), steps: STEPS, loadAverage: load.map((l) => +l.toFixed(2)),
      }));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main();
