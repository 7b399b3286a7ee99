// Training on an activation file far larger than memory: a LARGE_GB file (default 30 GB; d_in 768, float32)
// is written to disk by the bench and removed after, then a TopK SAE trains on it with a memory budget
// (--memory-budget, default 256 MiB), and on a small file (64 MiB, which fits the budget) with the same
// settings. Reports peak RSS (target < 2 GB) and tokens/s of each, each run in its own process so that its
// peak is its own. The file repeats one 64 MiB block of Gaussian rows (what the reader and trainer do
// does not depend on the values; generating 30 GB of fresh random numbers would dominate the bench).
//   LARGE_GB (30), LARGE_TOKENS (409600 trained tokens), LARGE_BUDGET_MB (256), LARGE_WIDTH (4096), LARGE_DIR (os tmpdir)
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npyHeaderBytes } from '../src/io/npy';
import { Rng } from '../src/synthetic/random';
import { runTraining } from '../src/train/trainer';

const D = 768;
const GB = Number(process.env.LARGE_GB ?? 30);
const TOKENS = Number(process.env.LARGE_TOKENS ?? 409_600);
const BUDGET = Number(process.env.LARGE_BUDGET_MB ?? 256) * 2 ** 20;
const WIDTH = Number(process.env.LARGE_WIDTH ?? 4096);
const BLOCK_ROWS = Math.floor((64 * 2 ** 20) / (D * 4));

/** Writes `rows` rows as a float32 .npy, repeating one block of Gaussian rows. */
function writeFile(path: string, rows: number): void {
  const rng = new Rng(1), block = new Float32Array(BLOCK_ROWS * D);
  for (let i = 0; i < block.length; i++) block[i] = rng.normal();
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, npyHeaderBytes('F32', [rows, D]));
    for (let r = 0; r < rows; r += BLOCK_ROWS) writeSync(fd, new Uint8Array(block.buffer, 0, Math.min(BLOCK_ROWS, rows - r) * D * 4));
  } finally { closeSync(fd); }
}

/** Child mode: trains on `file` and prints {tokensPerSec, peakRssMB}. */
async function trainChild(file: string, out: string): Promise<void> {
  const t0 = performance.now();
  const s = await runTraining({ activations: [file], outDir: out, arch: 'topk', width: WIDTH, k: 32, tokens: TOKENS, batch: 4096, threads: 2, seed: 1, memoryBudget: BUDGET, checkpointEvery: 1e9 },
    { emit: () => undefined, cancelled: () => false });
  console.log(JSON.stringify({ tokensPerSec: Math.round(TOKENS / ((performance.now() - t0) / 1000)), trainerTokensPerSec: s.tokensPerSecond, engine: s.engine, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

function run(file: string, dir: string, name: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', file, join(dir, `sae-${name}`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`training on the ${name} file failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return trainChild(process.argv[3]!, process.argv[4]!);
  const dir = mkdtempSync(join(process.env.LARGE_DIR ?? tmpdir(), 'largefile-bench-'));
  try {
    const bytes = GB * 2 ** 30;
    const free = (() => { const s = statfsSync(dir); return s.bavail * s.bsize; })();
    if (bytes > free * 0.8) throw new Error(`${GB} GB does not fit the ${(free / 2 ** 30).toFixed(0)} GB free in ${dir} (set LARGE_GB or LARGE_DIR)`);
    const small = join(dir, 'small.npy'), large = join(dir, 'large.npy');
    writeFile(small, BLOCK_ROWS);
    const t = performance.now();
    writeFile(large, Math.floor(bytes / (D * 4)));
    const writeSeconds = (performance.now() - t) / 1000;
    const base = run(small, dir, 'small');
    const big = run(large, dir, 'large');
    console.log(JSON.stringify({
      case: `train.largefile.topk.${D}x${WIDTH}.${GB}GB`, fileGB: GB, budgetMB: BUDGET / 2 ** 20, tokens: TOKENS, writeSeconds: +writeSeconds.toFixed(0),
      ...big, baseline: 'the same run on a 64 MiB file (fits the budget)', baselineTokensPerSec: base.tokensPerSec, baselinePeakRssMB: base.peakRssMB,
      ratio: +((big.tokensPerSec as number) / (base.tokensPerSec as number)).toFixed(2), peakRssTargetMB: 2048,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
