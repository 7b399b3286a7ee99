/**
 * The feature-page pass (src/views/featurePass.ts) over a whole activation file: wall time and peak RSS
 * against reading the same file once (the baseline: the least any pass must do), against the encoder GEMM's
 * lower bound (2·d_in·d_sae flops per row at the GFLOP/s the engine's sgemm measures here, on every thread
 * the pass uses: no pass that encodes every row can be faster), and against the sparse encoder alone on the
 * same rows (what the statistics add to the encoding they cannot avoid; skipped above 100,000 rows).
 *
 * Size: FEATUREPASS_ROWS rows (default 4,000) × d_in 768 with a 16,384-latent TopK SAE (k = 32). The
 * issue's case is FEATUREPASS_ROWS=1000000 (a 3.1 GB file, written to the temp folder and removed after):
 * its encoder GEMM is 25.8 TFLOP, so on 2 cores the GEMM bound — minutes — is far above the 3×-read target.
 * One JSON line per case.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { npyHeaderBytes } from '../src/io/npy';
import { encodeSparse } from '../src/diagnostics/encoderCodes';
import { diagnosticThreads } from '../src/diagnostics/pool';
import { fastMatmul, fastMatmulEngine } from '../src/compute/fastMatmul';
import { featurePassSteps, openPassSource, DEFAULT_PASS } from '../src/views/featurePass';
import { Rng } from '../src/synthetic/random';
import type { Sae } from '../src/sae/types';
import { dictionarySae } from '../test/helpers/exactDictionary';

const rows = Number(process.env.FEATUREPASS_ROWS ?? 4000);
const dIn = 768, latents = 16384, k = 32;
const maxRssMb = (): number => process.resourceUsage().maxRSS / 1024;
const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** A TopK SAE with random unit atoms as decoder and encoder (tied at the start, as SAEs are initialised). */
function topkSae(): Sae {
  const rng = new Rng(2);
  const atoms = Float32Array.from({ length: latents * dIn }, () => rng.normal());
  const sae = dictionarySae(atoms, latents, dIn, new Float32Array(dIn), 0);
  sae.cfg.activation = 'topk';
  sae.cfg.k = k;
  return sae;
}

/** Rows of 8 random atoms with random weights, plus noise, written in blocks (never the whole file in memory). */
function writeRows(path: string, sae: Sae): void {
  const fd = openSync(path, 'w');
  const rng = new Rng(7);
  try {
    writeSync(fd, npyHeaderBytes('F32', [rows, dIn]));
    const block = 2048;
    for (let lo = 0; lo < rows; lo += block) {
      const n = Math.min(block, rows - lo);
      const x = new Float32Array(n * dIn);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < dIn; j++) x[r * dIn + j] = 0.01 * rng.normal();
        for (let a = 0; a < 8; a++) {
          const atom = Math.floor(rng.uniform() * latents), c = 0.5 + 2 * rng.uniform();
          for (let j = 0; j < dIn; j++) x[r * dIn + j]! += c * sae.wDec[atom * dIn + j]!;
        }
      }
      writeSync(fd, new Uint8Array(x.buffer));
    }
  } finally {
    closeSync(fd);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'saewb-bench-featurepass-'));
try {
  const sae = topkSae();
  const path = join(dir, 'activations.npy');
  writeRows(path, sae);
  const src = openPassSource(path);
  const chunk = 1024;
  // baseline: one read of every row, in the pass's chunks, converted to float32 (median of 3)
  const reads: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = process.hrtime.bigint();
    let sum = 0;
    for (let lo = 0; lo < rows; lo += chunk) sum += src.read(lo, Math.min(rows, lo + chunk))[0]!;
    reads.push(seconds(t0));
    if (Number.isNaN(sum)) throw new Error('unreachable');
  }
  const readSeconds = [...reads].sort((a, b) => a - b)[1]!;
  const rssBefore = maxRssMb();
  const load = loadavg()[0]!;

  // the engine's sgemm on one thread, at the pass's block shape (512 rows × d_in · d_in × d_sae), median of 3
  const block = 512, xBlock = src.read(0, Math.min(rows, block)), hBlock = new Float32Array(block * latents);
  const gemms: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t = process.hrtime.bigint();
    fastMatmul(xBlock, sae.wEnc, xBlock.length / dIn, dIn, latents, hBlock);
    gemms.push(seconds(t));
  }
  const gflops = (2 * (xBlock.length / dIn) * dIn * latents) / [...gemms].sort((a, b) => a - b)[1]! / 1e9;
  const threads = diagnosticThreads();
  const gemmBoundSeconds = (2 * rows * dIn * latents) / (gflops * 1e9 * threads);

  // the encoder alone over the same rows (no statistics), where it takes minutes no longer
  let encodeSeconds: number | undefined;
  let t0 = process.hrtime.bigint();
  if (rows <= 100_000) {
    for (let lo = 0; lo < rows; lo += chunk) {
      const hi = Math.min(rows, lo + chunk);
      encodeSparse(sae, src.read(lo, hi), hi - lo, { keep: 'codes', values: 'raw', chunkRows: block });
    }
    encodeSeconds = seconds(t0);
  }

  t0 = process.hrtime.bigint();
  // the pass as the report and the panels run it (its own chunk size)
  const steps = featurePassSteps(sae, src, DEFAULT_PASS);
  let step = steps.next();
  while (!step.done) step = steps.next();
  const passSeconds = seconds(t0);
  const stats = step.value;
  let live = 0;
  for (let i = 0; i < latents; i++) if (stats.count[i]! > 0) live++;
  console.log(JSON.stringify({
    case: 'featurepass', rows, d_in: dIn, latents, k, threads, gemm_engine: fastMatmulEngine(), file_mb: Math.round((rows * dIn * 4) / 1e6),
    seconds: passSeconds, rows_per_s: Math.round(rows / passSeconds), peak_rss_mb: Math.round(maxRssMb()), rss_mb_before_pass: Math.round(rssBefore),
    baseline: 'reading the file once', baseline_seconds: readSeconds, ratio_vs_read: passSeconds / readSeconds,
    gemm_gflops_per_thread: gflops, gemm_bound_seconds: gemmBoundSeconds, ratio_vs_gemm_bound: passSeconds / gemmBoundSeconds,
    encoder_only_seconds: encodeSeconds, ratio_vs_encoder: encodeSeconds && passSeconds / encodeSeconds, live_latents: live,
    load_average_1m_before: load, load_average_1m_after: loadavg()[0]!,
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
