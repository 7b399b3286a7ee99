// Streaming row reader: rows/s and peak RSS reading a file larger than the reader's memory budget.
// Baseline: a plain sequential fs read of the same bytes (the disk/page-cache ceiling), same run.
import { closeSync, openSync, readSync, rmSync, writeSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npyHeaderBytes } from '../src/io/npy';
import { openRowReader } from '../src/io/rowReader';

const D = 768;
const ROWS = Number(process.env.ROWREADER_ROWS ?? 100_000); // 768*4*100k = 307 MB
const BUDGET = 64 * 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'rowreader-bench-'));
const path = join(dir, 'acts.npy');
try {
  const fd = openSync(path, 'w');
  writeSync(fd, npyHeaderBytes('F32', [ROWS, D]));
  const block = new Float32Array(1000 * D);
  for (let i = 0; i < block.length; i++) block[i] = Math.sin(i);
  for (let r = 0; r < ROWS; r += 1000) writeSync(fd, new Uint8Array(block.buffer, 0, Math.min(1000, ROWS - r) * D * 4));
  closeSync(fd);
  const fileBytes = ROWS * D * 4;

  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const t0 = performance.now();
  const rd = openRowReader([path], { memoryBudget: BUDGET, seed: 1, loop: false });
  const out = new Float32Array(4096 * D);
  let rows = 0;
  for (;;) {
    const n = rd.next(out, 4096);
    rows += n;
    peak = Math.max(peak, process.memoryUsage().rss);
    if (n < 4096) break;
  }
  const ours = rows / ((performance.now() - t0) / 1000);
  rd.close();

  const t1 = performance.now();
  const fd2 = openSync(path, 'r');
  const buf = new Uint8Array(4 * 2 ** 20);
  let pos = 0, got: number;
  while ((got = readSync(fd2, buf, 0, buf.length, pos)) > 0) pos += got;
  closeSync(fd2);
  const baseline = ROWS / ((performance.now() - t1) / 1000);
  console.log(JSON.stringify({
    case: 'rowreader.shuffled.f32', rows, d_in: D, fileMB: +(fileBytes / 2 ** 20).toFixed(0), budgetMB: BUDGET / 2 ** 20,
    rowsPerSec: Math.round(ours), peakRssMB: +(peak / 2 ** 20).toFixed(0), rssGrowthMB: +((peak - rssBefore) / 2 ** 20).toFixed(0),
    baseline: 'sequential fs.readSync of the same file', baselineRowsPerSec: Math.round(baseline), ratio: +(ours / baseline).toFixed(2),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
