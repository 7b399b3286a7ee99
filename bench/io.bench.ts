/**
 * Tensor-file reading throughput: our safetensors and .npy readers against a plain readFileSync of the
 * same bytes (the baseline: the least any reader must do). One JSON line per case; medians over repeats.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors';
import { readNpy, writeNpy } from '../src/io/npy';
import { toFloat32 } from '../src/io/tensor';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, repeats = 5): number {
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(ts);
}

const dir = mkdtempSync(join(tmpdir(), 'saewb-bench-io-'));
try {
  const rows = 16384, d = 2304; // one 16k x 2304 matrix: 151 MB of F32
  const data = new Float32Array(rows * d);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i);
  const st = join(dir, 'w.safetensors');
  const np = join(dir, 'w.npy');
  writeSafetensors(st, { W: { dtype: 'F32', shape: [rows, d], data } });
  writeNpy(np, { dtype: 'F32', shape: [rows, d], data });
  const bytes = data.byteLength;
  for (const [name, path, read] of [
    ['safetensors_read_f32', st, () => toFloat32(readSafetensors(st).tensors.get('W')!)],
    ['npy_read_f32', np, () => toFloat32(readNpy(np))],
  ] as const) {
    const baseline = time(() => readFileSync(path));
    const ours = time(() => { read(); });
    console.log(JSON.stringify({ case: name, bytes, seconds: ours, mb_per_s: bytes / 1e6 / ours, baseline: 'readFileSync', baseline_seconds: baseline, ratio_vs_baseline: ours / baseline }));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
