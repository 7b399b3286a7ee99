// Family throughput through the real trainer (runTraining: files on disk, aligned readers, the sparse
// engine): a skip transcoder, a two-source crosscoder and a Matryoshka BatchTopK SAE on 1 and 2 threads,
// beside a plain TopK SAE of the same shape. The runs of one case alternate between 1 and 2 threads;
// `ratio` is tokens/s on 2 threads over 1 thread (the baseline). Tokens/s is the steady state: from the
// progress event of step 3 to the last step, so worker start-up and the first steps' JIT are not in it.
// One JSON line per case; quote medians.
//   BENCH_FAMILY_REPS=3  BENCH_FAMILY_STEPS=12  BENCH_FAMILY_D=256  BENCH_FAMILY_WIDTH=4096  BENCH_FAMILY_BATCH=1024
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../src/io/npy';
import type { TrainOptions } from '../src/train/api';
import { Rng } from '../src/train/rng';
import { runTraining } from '../src/train/trainer';

const REPS = Number(process.env.BENCH_FAMILY_REPS ?? 3);
const STEPS = Number(process.env.BENCH_FAMILY_STEPS ?? 12);
const D = Number(process.env.BENCH_FAMILY_D ?? 256);
const WIDTH = Number(process.env.BENCH_FAMILY_WIDTH ?? 4096);
const BATCH = Number(process.env.BENCH_FAMILY_BATCH ?? 1024);
const ROWS = BATCH * 8;
const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };

/** Sparse combinations of random directions, [ROWS, d]. */
function write(path: string, d: number, rng: Rng): string {
  const features = 4 * d;
  const dirs = Float32Array.from({ length: features * d }, () => rng.normal() / Math.sqrt(d));
  const x = new Float32Array(ROWS * d);
  for (let r = 0; r < ROWS; r++) for (let k = 0; k < 16; k++) {
    const f = Math.floor(rng.next() * features), s = rng.next();
    for (let q = 0; q < d; q++) x[r * d + q]! += s * dirs[f * d + q]!;
  }
  writeNpy(path, { dtype: 'F32', shape: [ROWS, d], data: x });
  return path;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'family-bench-'));
  try {
    const rng = new Rng(1);
    const a = write(join(root, 'a.npy'), D, rng), b = write(join(root, 'b.npy'), D, rng), half = write(join(root, 'half.npy'), D / 2, rng), half2 = write(join(root, 'half2.npy'), D / 2, rng);
    const common = { width: WIDTH, batch: BATCH, tokens: BATCH * STEPS, lr: 1e-3, seed: 0, checkpointEvery: 1e9, engine: 'auto' as const };
    const cases: [string, Partial<TrainOptions>][] = [
      ['plain topk SAE', { activations: [a], arch: 'topk', k: 32 }],
      ['skip transcoder (relu)', { activations: [a], target: b, skip: true, arch: 'relu', l1: 1 }],
      ['crosscoder (relu, 2 sources)', { activations: [half, half2], crosscoder: true, arch: 'relu', l1: 1 }],
      ['Matryoshka batchtopk (3 prefixes)', { activations: [a], matryoshkaWidths: [WIDTH / 8, WIDTH / 2], arch: 'batchtopk', k: 32 }],
    ];
    for (const [name, opts] of cases) {
      const tps: Record<number, number[]> = { 1: [], 2: [] };
      let engine = '', l0 = 0;
      for (let rep = 0; rep < REPS; rep++) {
        for (const threads of [1, 2]) {
          const out = join(root, `out-${threads}`);
          let t3 = NaN, tEnd = NaN;
          const s = await runTraining({ ...common, ...opts, outDir: out, threads } as TrainOptions, {
            emit: (e) => {
              if (e.type !== 'progress') return;
              if (e.progress.step === 3) t3 = performance.now();
              if (e.progress.step === STEPS) tEnd = performance.now();
            },
            cancelled: () => false,
          });
          tps[threads]!.push(((STEPS - 3) * BATCH) / ((tEnd - t3) / 1000));
          engine = String(s.engine);
          l0 = (s.final as { l0: number }).l0;
          rmSync(out, { recursive: true, force: true });
        }
      }
      const one = median(tps[1]!), two = median(tps[2]!);
      console.log(JSON.stringify({
        case: `family ${name}, d ${D}, width ${WIDTH}, batch ${BATCH}`, steps: STEPS, reps: REPS, engine, finalL0: l0,
        tokensPerSecond1: one, tokensPerSecond2: two, baseline: 'the same run on 1 thread', ratio: two / one,
      }));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
void main();
