/**
 * Load time and peak memory of a 16k-latent, d_in 2304 SAE (two 151 MB float32 matrices) in three
 * formats: SAELens v6 (safetensors), dictionary_learning (a torch .pt read by our zip + pickle reader)
 * and sparsify (bfloat16 safetensors, converted to float32 on load). Each measurement runs in a fresh
 * child process so that peak RSS (getrusage maxrss) belongs to that load alone; the baseline is the same
 * process reading the same files with readFileSync. One JSON line per case, medians of 3 runs.
 * Usage: npm run bench -- formats
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadSae } from '../src/formats';
import { saveSaeLens } from '../src/formats/saelens';
import { writeSafetensors } from '../src/io/safetensors';
import { fromFloat32 } from '../src/io/tensor';
import type { Sae } from '../src/sae/types';
import { writeTorchStateDict } from '../test/fixtures/torchWriter';

const D_IN = 2304, D_SAE = 16384, RUNS = 3;

function filesOf(path: string): string[] {
  return statSync(path).isDirectory() ? readdirSync(path).map((f) => join(path, f)) : [path];
}

/**
 * Peak RSS of this process. getrusage's maxrss survives fork+exec (a child spawned by a big parent
 * reports the parent's size), so read VmHWM, which starts afresh with the exec'd image; fall back elsewhere.
 */
function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

/** Child mode: load (or read) once and report time and peak RSS. */
function child(kind: string, path: string): void {
  const t0 = performance.now();
  let checksum = 0;
  if (kind === 'baseline') {
    for (const f of filesOf(path)) checksum += readFileSync(f).byteLength;
  } else {
    const sae = loadSae(path);
    checksum = sae.wEnc.length + sae.wDec.length;
  }
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, maxRssMb: peakRssMb(), checksum }) + '\n');
}

function measure(kind: string, path: string): { ms: number; maxRssMb: number } {
  const runs: { ms: number; maxRssMb: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', kind, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`child ${kind} failed: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { ms: median(runs.map((r) => r.ms)), maxRssMb: median(runs.map((r) => r.maxRssMb)) };
}

function randomSae(): Sae {
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5) * 0.1;
  return {
    cfg: {
      activation: 'topk', k: 64, dIn: D_IN, dSae: D_SAE, dOut: D_IN, transcoder: false, applyBDecToInput: true,
      normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: { metadata: {} },
    },
    wEnc: new Float32Array(D_IN * D_SAE).map(rand), bEnc: new Float32Array(D_SAE).map(rand),
    wDec: new Float32Array(D_SAE * D_IN).map(rand), bDec: new Float32Array(D_IN).map(rand),
  };
}

function parent(): void {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-bench-formats-'));
  try {
    const sae = randomSae();
    const saelens = join(dir, 'saelens');
    saveSaeLens(sae, saelens);
    const dl = join(dir, 'dl');
    mkdirSync(dl);
    // dictionary_learning AutoEncoderTopK: nn.Linear weights are [out, in], i.e. the transposes
    const t = (shape: number[], data: Float32Array) => ({ dtype: 'F32' as const, shape, data });
    const encT = new Float32Array(D_SAE * D_IN), decT = new Float32Array(D_IN * D_SAE);
    for (let i = 0; i < D_IN; i++) for (let j = 0; j < D_SAE; j++) { encT[j * D_IN + i] = sae.wEnc[i * D_SAE + j]!; decT[i * D_SAE + j] = sae.wDec[j * D_IN + i]!; }
    writeTorchStateDict(join(dl, 'ae.pt'), [
      ['encoder.weight', t([D_SAE, D_IN], encT)], ['encoder.bias', t([D_SAE], sae.bEnc)], ['decoder.weight', t([D_IN, D_SAE], decT)],
      ['b_dec', t([D_IN], sae.bDec)], ['k', { dtype: 'I64', shape: [], data: BigInt64Array.from([64n]) }], ['threshold', t([], Float32Array.from([-1]))],
    ]);
    writeFileSync(join(dl, 'config.json'), JSON.stringify({ trainer: { dict_class: 'AutoEncoderTopK', activation_dim: D_IN, dict_size: D_SAE, k: 64 } }));
    const sp = join(dir, 'sparsify', 'layers.12');
    mkdirSync(sp, { recursive: true });
    writeSafetensors(join(sp, 'sae.safetensors'), [
      ['encoder.weight', fromFloat32('BF16', [D_SAE, D_IN], encT)], ['encoder.bias', fromFloat32('BF16', [D_SAE], sae.bEnc)],
      ['W_dec', fromFloat32('BF16', [D_SAE, D_IN], sae.wDec)], ['b_dec', fromFloat32('BF16', [D_IN], sae.bDec)],
    ]);
    writeFileSync(join(sp, 'cfg.json'), JSON.stringify({ activation: 'topk', k: 64, num_latents: D_SAE, d_in: D_IN, transcode: false, skip_connection: false }));
    for (const [name, path] of [['saelens', saelens], ['dictionary_learning-pt', join(dl, 'ae.pt')], ['sparsify-bf16', sp]] as const) {
      const bytes = filesOf(statSync(path).isDirectory() ? path : path).reduce((a, f) => a + statSync(f).size, 0);
      const load = measure('load', name === 'dictionary_learning-pt' ? dl : path);
      const base = measure('baseline', path);
      console.log(JSON.stringify({
        case: `formats/load-${name}-16k-x-2304`, bytes, load_ms: +load.ms.toFixed(1), peak_rss_mb: +load.maxRssMb.toFixed(0),
        peak_rss: 'VmHWM', baseline: 'readFileSync of the same files', baseline_ms: +base.ms.toFixed(1), baseline_peak_rss_mb: +base.maxRssMb.toFixed(0),
        ratio: +(load.ms / base.ms).toFixed(2), rss_ratio: +(load.maxRssMb / base.maxRssMb).toFixed(2), runs: RUNS, stat: 'median',
      }));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const i = process.argv.indexOf('--child');
if (i >= 0) child(process.argv[i + 1]!, process.argv[i + 2]!);
else parent();
