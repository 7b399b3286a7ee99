// Training-step throughput: our sparse-aware step (the engine auto picks — native BLAS when built, else wasm
// SIMD — on 2 worker threads) against the same step written as SAELens writes it in PyTorch on CPU with 2
// threads, interleaved in one run. Also the dense GEMMs' GFLOP/s (BLAS with 1 and 2 threads per call, wasm
// SIMD, against torch.mm), and peak RSS. Prints one JSON line per case; quote medians.
//   BENCH_STEPS=3 (timed steps per case and side), BENCH_SHAPES=large,small, BENCH_NO_TORCH=1 to skip torch,
//   BENCH_ENGINE=auto|blas|wasm|js (the step's engine), BENCH_PROFILE_STEPS=3 (profiled steps after the timed
//   ones: the `.phases` line, where each step's time goes), BENCH_CASES=topk,relu (a subset by architecture).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { blasGemm, loadBlas, openblasCore } from '../src/compute/blasGemm';
import { histogramBits, histogramValues, TopHeap } from '../src/compute/topk';
import { chooseEngine, ENGINE_PREFERENCES, threadGemm } from '../src/compute/engine';
import type { EngineChoice, EnginePreference } from '../src/compute/engine';
import { instantiateWasmGemm, loadWasmGemm } from '../src/compute/wasmGemm';
import { jsGemm } from '../src/compute/gemm';
import type { GemmProvider } from '../src/compute/gemm';
import { modelConfig } from '../src/sae/objectives';
import { buildLayout, S } from '../src/train/layout';
import { FlatList } from '../src/train/lists';
import { collectAbove } from '../src/train/select';
import { StepEngine } from '../src/train/stepEngine';
import type { StepProfile } from '../src/train/profile';
import { PYTHON, torchAvailable } from './torch';
import { WorkerPool } from '../src/train/pool';
import { Rng } from '../src/train/rng';

const STEPS = Number(process.env.BENCH_STEPS ?? 3);
const PROFILE_STEPS = Number(process.env.BENCH_PROFILE_STEPS ?? 3);
const THREADS = 2;
const shapes = (process.env.BENCH_SHAPES ?? 'large,small').split(',');
const ENGINE = (process.env.BENCH_ENGINE ?? 'auto') as EnginePreference;
if (!ENGINE_PREFERENCES.includes(ENGINE)) throw new Error(`BENCH_ENGINE must be one of ${ENGINE_PREFERENCES.join(', ')}`);
const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };

// ---------- PyTorch side: a persistent process that runs steps on request, so the two sides interleave
const TORCH_WORKER = String.raw`
import sys, json, time, resource, torch
torch.set_num_threads(2)
torch.manual_seed(0)
state = {}
def setup(arch, d_in, d_sae, B, k, l0):
    W_dec = torch.randn(d_sae, d_in); W_dec /= W_dec.norm(dim=1, keepdim=True)
    W_enc = W_dec.t().clone().contiguous()
    x = torch.randn(B, d_in)
    b_enc = torch.zeros(d_sae)
    if arch == 'relu':
        with torch.no_grad():
            z = x[:512] @ W_enc
            b_enc = -torch.quantile(z.flatten()[:1_000_000], 1 - l0 / d_sae).repeat(d_sae)
    params = [torch.nn.Parameter(t) for t in (W_enc, b_enc, W_dec, torch.zeros(d_in))]
    opt = torch.optim.Adam(params, lr=3e-4, betas=(0.9, 0.999))
    state.update(arch=arch, k=k, x=x, params=params, opt=opt)
def step():
    W_enc, b_enc, W_dec, b_dec = state['params']; x = state['x']
    sae_in = x - b_dec                              # SAELens process_sae_in (apply_b_dec_to_input)
    hidden_pre = sae_in @ W_enc + b_enc
    if state['arch'] == 'topk':                     # SAELens TopK: topk then ReLU, scattered (dense decode)
        vals, idx = hidden_pre.topk(state['k'], dim=-1)
        acts = torch.zeros_like(hidden_pre).scatter(-1, idx, torch.relu(vals))
    elif state['arch'] == 'batchtopk':              # SAELens BatchTopK: ReLU, then the top k·B of the flattened batch
        flat = torch.relu(hidden_pre).flatten()
        vals, idx = flat.topk(state['k'] * hidden_pre.shape[0])
        acts = torch.zeros_like(flat).scatter(-1, idx, vals).reshape(hidden_pre.shape)
    else:
        acts = torch.relu(hidden_pre)
    out = acts @ W_dec + b_dec
    mse = (out - x).pow(2).sum(dim=-1).mean()
    loss = mse
    if state['arch'] == 'relu':                     # SAELens standard: decoder-norm-weighted L1
        loss = loss + 5.0 * (acts * W_dec.norm(dim=1)).sum(dim=-1).mean()
    state['opt'].zero_grad(); loss.backward(); state['opt'].step()
    return (acts > 0).float().sum(dim=-1).mean().item()
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd['op'] == 'setup':
        setup(cmd['arch'], cmd['d_in'], cmd['d_sae'], cmd['B'], cmd['k'], cmd['l0']); step()
        print(json.dumps({'ok': True}), flush=True)
    elif cmd['op'] == 'step':
        t = time.perf_counter(); l0 = step(); dt = time.perf_counter() - t
        print(json.dumps({'seconds': dt, 'l0': l0, 'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    elif cmd['op'] == 'mm':                         # A·B, or A·Bᵀ with B stored n×k (bt) as our encoder GEMM reads it
        m, n, kk = cmd['m'], cmd['n'], cmd['k']
        a = torch.randn(m, kk); b = torch.randn(n, kk).t() if cmd.get('bt') else torch.randn(kk, n); a @ b
        ts = []
        for _ in range(3):
            t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
        ts.sort(); print(json.dumps({'gflops': 2 * m * n * kk / ts[1] / 1e9}), flush=True)
`;

class Torch {
  private readonly lines: AsyncIterableIterator<string>;
  constructor(private readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }
  async call(cmd: Record<string, unknown>): Promise<Record<string, number>> {
    this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    const r = await this.lines.next();
    if (r.done) throw new Error('the torch process ended');
    return JSON.parse(r.value) as Record<string, number>;
  }
  close(): void { this.proc.stdin.end(); }
}

// ---------- our side
interface Ours { eng: StepEngine; pool?: WorkerPool }

type Arch = 'topk' | 'batchtopk' | 'relu';

function setupOurs(engine: EngineChoice, arch: Arch, dIn: number, dSae: number, B: number, k: number, l0: number): Ours {
  const cfg = modelConfig(arch, dIn, dSae, B, { k, unitNormDecoder: false });
  const layout = buildLayout(cfg, THREADS);
  // the arena as the trainer makes it (src/train/trainer.ts): the wasm memory when there is one
  const memory = engine.makeMemory?.(layout.bytes);
  const buf = (memory?.buffer ?? new SharedArrayBuffer(layout.bytes)) as SharedArrayBuffer;
  const spec = { blas: engine.blas, memory, module: engine.module };
  const pool = new WorkerPool(new Int32Array(buf, layout.regions.get('control')!.offset, 16), cfg, THREADS, buf, spec);
  const eng = new StepEngine(cfg, buf, threadGemm(spec), THREADS, pool);
  const f = eng.views.f32, rng = new Rng(1);
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let q = 0; q < dIn; q++) { const v = rng.normal(); f.wDec![i * dIn + q] = v; s += v * v; }
    for (let q = 0; q < dIn; q++) { f.wDec![i * dIn + q]! /= Math.sqrt(s); f.wEncT![i * dIn + q] = f.wDec![i * dIn + q]!; }
  }
  for (let i = 0; i < f.x!.length; i++) f.x![i] = rng.normal();
  if (arch === 'relu') {
    // b_enc at minus the (1 − L0/d_sae) quantile of sample pre-activations, so that about L0 latents fire per row
    const sample: number[] = [];
    for (let n = 0; n < 64; n++) for (let i = 0; i < dSae; i += 4) {
      let z = 0;
      for (let q = 0; q < dIn; q++) z += f.x![n * dIn + q]! * f.wEncT![i * dIn + q]!;
      sample.push(z);
    }
    sample.sort((a, b) => a - b);
    f.bEnc!.fill(-sample[Math.floor(sample.length * (1 - l0 / dSae))]!);
  }
  eng.step({ lr: 3e-4, sparsityCoef: arch === 'relu' ? 5 : 0, deadTokens: 1e12 });
  return { eng, pool };
}

/**
 * The top-k selection's share of a step, before and after src/compute/topk.ts, on the step's own
 * pre-activations (one thread's half of the latents: the threads select at the same time). TopK, before:
 * the bias added in its own pass, then every entry through a k-heap; after: the bias added in the pass that
 * selects (a carried threshold keeps a few candidates per row). BatchTopK, before: the bias added in the
 * pass of the level-1 histogram over every value, the level-2 histogram over every value, and the
 * activation's scan of Z for the values at or above the cut; after: the bias added in the pass that keeps
 * the values above the step's guess (the last cut less a margin), both histograms and the activation over
 * those candidates only. "After" is the step's own code on thread 0's kernel (wasm SIMD when there is one).
 */
function selectionShare(eng: StepEngine, arch: 'topk' | 'batchtopk', k: number, stepSeconds: number): Record<string, number> {
  const { dSae, batch: B } = eng.cfg;
  const lo = 0, hi = Math.ceil(dSae / THREADS);
  const z0 = eng.views.f32.z!.slice(), bias = eng.views.f32.bEnc!.slice();
  const outV = new Float32Array(B * k), outI = new Int32Array(B * k), hist = new Int32Array(65536);
  const guess = eng.views.f64.scalars![S.bTopkGuess]!, cut = eng.views.f64.scalars![S.bTopkTau]!;
  const act = new FlatList(), cands = new FlatList();
  const before = (z: Float32Array): void => {
    if (arch === 'batchtopk') {
      const bits = new Uint32Array(z.buffer);
      histogramBits(z, bits, 0, dSae, B, lo, hi, hist, 1, 0, bias);
      histogramBits(z, bits, 0, dSae, B, lo, hi, hist, 2, new Uint32Array(new Float32Array([cut]).buffer)[0]! >>> 16);
      act.size = 0;
      for (let n = 0; n < B; n++) for (let i = lo; i < hi; i++) { const val = z[n * dSae + i]!; if (val >= cut) act.push(i, n, val); }
      return;
    }
    for (let n = 0; n < B; n++) for (let i = lo; i < hi; i++) z[n * dSae + i]! += bias[i]!;
    const heap = new TopHeap(k);
    for (let n = 0; n < B; n++) {
      heap.reset(k);
      for (let i = lo; i < hi; i++) heap.push(z[n * dSae + i]!, i);
      for (let j = 0; j < k; j++) { outV[n * k + j] = heap.v[j]!; outI[n * k + j] = heap.i[j]!; }
    }
  };
  // after: the step's own code on thread 0's kernel, over the arena's Z (thread 0's latents are lo..hi)
  const t0 = eng.thread0, sel = t0.sel;
  if (t0.l0 !== lo || t0.l1 !== hi) throw new Error('thread 0 is expected to own the first half of the latents');
  let candidates = 0;
  const after = (z: Float32Array): void => {
    if (arch === 'batchtopk') {
      collectAbove(t0, guess, cands);
      candidates = cands.size;
      histogramValues(cands.val, cands.size, hist, 1, 0);
      histogramValues(cands.val, cands.size, hist, 2, new Uint32Array(new Float32Array([cut]).buffer)[0]! >>> 16);
      act.size = 0;
      for (let c = 0; c < cands.size; c++) { const val = cands.val[c]!; if (val >= cut) act.push(cands.lat[c]!, cands.row[c]!, val); }
      return;
    }
    for (let n = 0; n < B; n++) sel.select(z, n * dSae, lo, hi, bias, k, outV, outI, n * k);
  };
  const ts: Record<'before' | 'after', number[]> = { before: [], after: [] };
  const arenaZ = eng.views.f32.z!;
  for (let r = 0; r < 3; r++) for (const [name, run] of [['before', before], ['after', after]] as const) {
    const z = name === 'after' ? arenaZ : z0.slice();
    if (name === 'after') arenaZ.set(z0);
    const t = performance.now(); run(z); ts[name].push((performance.now() - t) / 1000);
  }
  const b = median(ts.before), a = median(ts.after);
  return {
    selectSecondsBefore: +b.toFixed(3), selectSecondsAfter: +a.toFixed(3), speedup: +(b / a).toFixed(2),
    shareBefore: +(b / (stepSeconds - a + b)).toFixed(3), shareAfter: +(a / stepSeconds).toFixed(3),
    ...(arch === 'batchtopk'
      ? { candidatesPerNeeded: +(candidates / ((k * B) / THREADS)).toFixed(2), guessMisses: eng.cutMisses, steps: eng.adamT }
      : { guessMissRate: +(sel.misses / Math.max(sel.rows, 1)).toFixed(3) }),
  };
}

/**
 * Where our step's time goes: PROFILE_STEPS more steps with the engine's profile on (src/train/profile.ts),
 * each field the median over them (seconds). `phases` are the barrier-delimited phases end to end, `serial`
 * the coordinator's work between them, `threads[w]` each thread's own parts and its waiting (the phases'
 * wall time less its busy time). `shares` divides the profiled step by what it was spent on; `profiledSeconds`
 * against `secondsPerStep` (the timed steps, unprofiled) shows the clock's own cost.
 */
function phaseBreakdown(eng: StepEngine, arch: Arch, stepSeconds: number): Record<string, unknown> {
  const profiles: StepProfile[] = [];
  eng.profile = true;
  try {
    for (let s = 0; s < PROFILE_STEPS; s++) { eng.step({ lr: 3e-4, sparsityCoef: arch === 'relu' ? 5 : 0, deadTokens: 1e12 }); profiles.push(eng.lastProfile!); }
  } finally { eng.profile = false; }
  const med = (get: (p: StepProfile) => number): number => +median(profiles.map(get)).toFixed(4);
  const group = <K extends string>(keys: readonly K[], get: (p: StepProfile, k: K) => number): Record<K, number> =>
    Object.fromEntries(keys.map((k) => [k, med((p) => get(p, k))])) as Record<K, number>;
  const threadKeys = Object.keys(profiles[0]!.threads[0]!) as (keyof StepProfile['threads'][number])[];
  const seconds = med((p) => p.seconds);
  const serial = group(['prepare', 'merge', 'cut', 'finish'] as const, (p, k) => p.serial[k]);
  const phases = group(['encode', 'hist', 'activate', 'residual', 'backward'] as const, (p, k) => p.phases[k]);
  const threads = profiles[0]!.threads.map((_, w) => group(threadKeys, (p, k) => p.threads[w]![k]));
  // thread 0's parts as shares of the step (the threads run the same parts over halves of the latents)
  const t0 = threads[0]!;
  const share = (x: number): number => +(x / seconds).toFixed(3);
  return {
    steps: PROFILE_STEPS, secondsPerStep: +stepSeconds.toFixed(3), profiledSeconds: seconds, serial, phases, threads,
    shares: {
      encodeGemm: share(t0.encodeGemm), select: share(t0.select + t0.hist), activate: share(t0.activate), residual: share(t0.residual),
      grad: share(t0.grad + t0.bDecPart), adam: share(t0.adam), norm: share(t0.norm), serial: share(serial.prepare + serial.merge + serial.cut + serial.finish), waiting: share(t0.waiting),
    },
  };
}

/** Median GFLOP/s of `run` over 3 timed calls after a warm-up. */
function gflops(flops: number, run: () => void): number {
  run();
  const ts: number[] = [];
  for (let r = 0; r < 3; r++) { const t = performance.now(); run(); ts.push((performance.now() - t) / 1000); }
  return flops / median(ts) / 1e9;
}

/**
 * The encoder's A·Bᵀ (m×k by n×k) and the dense path's A·B (m×k by k×n) on one thread, on a provider over
 * a fresh memory: the wasm kernels need their own shared memory, BLAS reads any Float32Array.
 */
function providerGflops(op: 'abt' | 'ab', make: (bytes: number) => { g: GemmProvider; f: Float32Array }, m: number, n: number, k: number): number {
  const { g, f } = make(65536 + (m * k + n * k + m * n) * 4 + 65536);
  const a = 16384, b = a + m * k, c = b + n * k;
  for (let i = a; i < c; i++) f[i] = (i % 17) / 17 - 0.5;
  return op === 'abt'
    ? gflops(2 * m * n * k, () => g.abt(f, m, n, k, a, k, b, k, c, n))
    : gflops(2 * m * n * k, () => g.ab(f, m, n, k, a, k, 1, b, n, c, n));
}

function wasmProvider(bytes: number): { g: GemmProvider; f: Float32Array } {
  const w = loadWasmGemm();
  if ('error' in w) throw new Error(w.error);
  const mem = w.makeMemory(bytes);
  return { g: instantiateWasmGemm(w.module, mem), f: new Float32Array(mem.buffer) };
}

/** The plain-JS A·Bᵀ on 256 rows (it is far too slow for the full shape). */
function jsAbtGflops(n: number, k: number): number {
  const mm = 256, mem = new Float32Array(mm * k + n * k + mm * n);
  const t = performance.now(); jsGemm.abt(mem, mm, n, k, 0, k, mm * k, k, mm * k + n * k, n);
  return (2 * mm * n * k) / ((performance.now() - t) / 1000) / 1e9;
}

async function main(): Promise<void> {
  // (the build script rebuilds a kernel older than its source, so an old dist/ is not what is measured)
  spawnSync(process.execPath, [join(__dirname, '..', 'scripts', 'prebuild', 'wasm-kernels.mjs')], { stdio: 'inherit' });
  if ('error' in loadBlas()) spawnSync(process.execPath, [join(__dirname, '..', 'scripts', 'prebuild', 'native-blas.mjs')], { stdio: 'inherit' });
  const engine = chooseEngine(ENGINE);
  for (const note of engine.notes) console.error(`bench: ${note}`);
  const skip = process.env.BENCH_NO_TORCH ? 'BENCH_NO_TORCH is set' : torchAvailable();
  const dir = mkdtempSync(join(tmpdir(), 'train-bench-'));
  let torch: Torch | undefined;
  if (!skip) {
    const script = join(dir, 'torch_step.py');
    writeFileSync(script, TORCH_WORKER);
    // torch on the same OpenBLAS kernels as our addon: its own pick can be the oldest (docs/training.md)
    const blas = loadBlas();
    const core = process.env.OPENBLAS_CORETYPE ?? ('error' in blas ? undefined : openblasCore(blas));
    if (core) console.error(`bench: OpenBLAS kernels ${core} on both sides`);
    torch = new Torch(spawn(PYTHON, [script], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2', ...(core ? { OPENBLAS_CORETYPE: core } : {}) } }));
  } else {
    console.error(`bench: skipping the PyTorch baseline: ${skip}`);
  }
  const cases: { name: string; arch: Arch; dIn: number; dSae: number; B: number; k: number; l0: number }[] = [];
  if (shapes.includes('large')) {
    cases.push({ name: 'train.step.topk.768x16384.b4096.k32', arch: 'topk', dIn: 768, dSae: 16384, B: 4096, k: 32, l0: 32 });
    cases.push({ name: 'train.step.batchtopk.768x16384.b4096.k32', arch: 'batchtopk', dIn: 768, dSae: 16384, B: 4096, k: 32, l0: 32 });
    cases.push({ name: 'train.step.relu.768x16384.b4096.l0≈64', arch: 'relu', dIn: 768, dSae: 16384, B: 4096, k: 0, l0: 64 });
  }
  if (shapes.includes('small')) {
    cases.push({ name: 'train.step.topk.512x4096.b4096.k32', arch: 'topk', dIn: 512, dSae: 4096, B: 4096, k: 32, l0: 32 });
    cases.push({ name: 'train.step.relu.512x4096.b4096.l0≈64', arch: 'relu', dIn: 512, dSae: 4096, B: 4096, k: 0, l0: 64 });
    // early relu training, when about half the latents fire: our dense decoder path
    cases.push({ name: 'train.step.relu.512x4096.b4096.l0≈2048(dense path)', arch: 'relu', dIn: 512, dSae: 4096, B: 4096, k: 0, l0: 2048 });
  }
  try {
    const only = process.env.BENCH_CASES?.split(',');
    for (const c of cases.filter((c) => !only || only.includes(c.arch))) {
      const ours = setupOurs(engine, c.arch, c.dIn, c.dSae, c.B, c.k, c.l0);
      if (torch) await torch.call({ op: 'setup', arch: c.arch, d_in: c.dIn, d_sae: c.dSae, B: c.B, k: c.k, l0: c.l0 });
      const ourTimes: number[] = [], torchTimes: number[] = [];
      let ourL0 = 0, torchL0 = NaN, torchRss = NaN;
      for (let s = 0; s < STEPS; s++) {
        const t = performance.now();
        const st = ours.eng.step({ lr: 3e-4, sparsityCoef: c.arch === 'relu' ? 5 : 0, deadTokens: 1e12 });
        ourTimes.push((performance.now() - t) / 1000);
        ourL0 = st.l0;
        if (torch) {
          const r = await torch.call({ op: 'step' });
          torchTimes.push(r.seconds!); torchL0 = r.l0!; torchRss = r.maxrss_mb!;
        }
      }
      console.log(JSON.stringify({ case: `${c.name}.phases`, ...phaseBreakdown(ours.eng, c.arch, median(ourTimes)) }));
      // last: it runs thread 0's selector on a copy of Z, which moves its carried guess
      if (c.arch !== 'relu') console.log(JSON.stringify({ case: `${c.name}.selection`, ...selectionShare(ours.eng, c.arch, c.k, median(ourTimes)) }));
      await ours.pool?.close();
      const oursTps = c.B / median(ourTimes);
      const torchTps = torch ? c.B / median(torchTimes) : NaN;
      console.log(JSON.stringify({
        case: c.name, engine: `${engine.gemm.name} ×${THREADS} threads`, steps: STEPS,
        secondsPerStep: +median(ourTimes).toFixed(3), tokensPerSec: Math.round(oursTps), l0: +ourL0.toFixed(1),
        baseline: torch ? 'PyTorch CPU (Debian python3-torch + OpenBLAS), 2 threads, SAELens-style step (dense decode, autograd, torch.optim.Adam)' : `skipped: ${skip}`,
        baselineSecondsPerStep: torch ? +median(torchTimes).toFixed(3) : null, baselineTokensPerSec: torch ? Math.round(torchTps) : null,
        baselineL0: torch ? +torchL0.toFixed(1) : null, ratio: torch ? +(oursTps / torchTps).toFixed(2) : null,
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), baselinePeakRssMB: torch ? Math.round(torchRss) : null,
      }));
      if (global.gc) global.gc();
    }
    // the dense GEMMs alone, on the encoder's shape (A·Bᵀ) and the dense decoder path's (A·B): BLAS with 1
    // thread per call (as each kernel worker runs it) and with 2, one wasm thread, against torch.mm on 2 threads
    const large = shapes.includes('large');
    const blas = loadBlas();
    const blasProvider = (bytes: number): { g: GemmProvider; f: Float32Array } => {
      if ('error' in blas) throw new Error(blas.error);
      return { g: blasGemm(blas, jsGemm), f: new Float32Array(new SharedArrayBuffer(bytes)) };
    };
    for (const [op, m, n, k] of [['abt', ...(large ? [4096, 4096, 768] : [4096, 1024, 512])], ['ab', ...(large ? [4096, 768, 4096] : [4096, 512, 1024])]] as const) {
      const t2 = torch ? (await torch.call({ op: 'mm', m, n, k, bt: op === 'abt' })).gflops! : NaN;
      const runs: [string, () => number][] = [['wasm-simd, 1 thread', () => providerGflops(op, wasmProvider, m, n, k)]];
      if (!('error' in blas)) {
        runs.unshift(['blas (OpenBLAS), 1 thread per call', () => providerGflops(op, blasProvider, m, n, k)]);
        runs.push(['blas (OpenBLAS), 2 threads per call', () => { blas.setThreads(2); try { return providerGflops(op, blasProvider, m, n, k); } finally { blas.setThreads(1); } }]);
      }
      const js = op === 'abt' ? { jsGflops: +jsAbtGflops(n, k).toFixed(2) } : {};
      for (const [name, run] of runs) {
        const ours = run();
        console.log(JSON.stringify({
          case: `gemm.${op}.${m}x${n}x${k}`, engine: name, gflops: +ours.toFixed(1),
          ...js,
          ...('error' in blas ? { blas: `not measured: ${blas.error}` } : { blasConfig: blas.config() }),
          baseline: torch ? 'torch.mm, 2 threads (this machine\'s sgemm ceiling as PyTorch sees it)' : `skipped: ${skip}`,
          baselineGflops: torch ? +t2.toFixed(1) : null, ratio: torch ? +(ours / t2).toFixed(3) : null,
        }));
      }
    }
  } finally {
    torch?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
