// The native BLAS GEMM (native/blas, src/compute/blasGemm.ts) against the plain-JS reference: the provider
// on odd shapes, offsets and strides, from a kernel worker over a shared WebAssembly.Memory, the whole
// training step (sparse and dense decoder paths, one and two threads), the diagnostics' fastMatmul; and
// the engine's fallback with a note when the addon is absent or turned off. The BLAS cases are skipped,
// saying why, on a machine where the addon was not built (no C compiler) or OpenBLAS is missing; in CI
// `npm test` fails when they are skipped (scripts/test.mjs, checked by blasRequired.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BLAS_ENV, BLAS_PLATFORM, blasGemm, loadBlas } from '../../../src/compute/blasGemm';
import type { BlasAddon } from '../../../src/compute/blasGemm';
import { chooseEngine, threadGemm } from '../../../src/compute/engine';
import { fastMatmul, fastMatmulBT, fastMatmulEngine, useFastMatmul } from '../../../src/compute/fastMatmul';
import { jsGemm } from '../../../src/compute/gemm';
import type { GemmProvider } from '../../../src/compute/gemm';
import { matmul, matmulBT } from '../../../src/compute/matmul';
import { loadWasmGemm } from '../../../src/compute/wasmGemm';
import { modelConfig } from '../../../src/sae/objectives';
import type { ArchName as TrainArch } from '../../../src/sae/arch/registry';
import { buildLayout } from '../../../src/train/layout';
import { WorkerPool } from '../../../src/train/pool';
import { Rng } from '../../../src/train/rng';
import { StepEngine } from '../../../src/train/stepEngine';

// tests run from source: build what `npm run build` builds if it is not there yet (each step is optional)
const root = join(__dirname, '../../..');
// (the build script rebuilds a kernel older than its source, so an old dist/ does not test old kernels)
spawnSync(process.execPath, [join(root, 'scripts/prebuild/wasm-kernels.mjs')], { stdio: 'inherit' });
if ('error' in loadBlas()) spawnSync(process.execPath, [join(root, 'scripts/prebuild/native-blas.mjs')], { stdio: 'inherit' });
const loaded = loadBlas();
const skip = 'error' in loaded ? `the BLAS addon is not available: ${loaded.error}` : false;
const addon = (): BlasAddon => { if ('error' in loaded) throw new Error(loaded.error); return loaded; };

function close(got: Float32Array, exp: Float32Array, what: string, tol = 1e-4): void {
  assert.equal(got.length, exp.length, what);
  for (let i = 0; i < exp.length; i++) {
    assert.ok(Math.abs(got[i]! - exp[i]!) <= tol * Math.max(1, Math.abs(exp[i]!)), `${what}: [${i}] = ${got[i]}, expected ${exp[i]}`);
  }
}

test('the BLAS provider equals the JS reference: abt and ab on odd shapes, offsets, strides', { skip }, () => {
  const g = blasGemm(addon(), jsGemm);
  assert.equal(g.name, 'blas');
  const rng = new Rng(3);
  for (const [m, n, k] of [[7, 13, 37], [2, 4, 4], [33, 130, 65], [1, 5, 3], [300, 12, 290], [5, 1, 1], [3, 8, 0]] as const) {
    const f = new Float32Array(new SharedArrayBuffer(4 * 400_000));
    const a = 101, lda = k + 3, b = a + m * lda + 7, ldb = k + 1, c = b + n * ldb + 5, ldc = n + 2;
    for (let i = 0; i < c + m * ldc; i++) f[i] = rng.normal();
    const ref = new Float32Array(f);
    g.abt(f, m, n, k, a, lda, b, ldb, c, ldc);
    jsGemm.abt(ref, m, n, k, a, lda, b, ldb, c, ldc);
    close(f, ref, `abt ${m}×${n}×${k}`); // the whole memory: the padding around C untouched too
    // A·B with A read row-major (sI = lda, sP = 1), transposed (sI = 1, sP = lda), and with a stride
    // neither layout has (sI = 2, sP = 3: the base provider's loop)
    for (const [sI, sP] of [[lda, 1], [1, lda], [2, 3]] as const) {
      const mm = sI === 1 ? Math.min(m, lda) : m, kk = sI === 1 ? Math.min(k, m) : sI === 2 ? Math.min(k, 3) : k;
      const c2 = c + m * ldc + 64, ldb2 = n + 1;
      g.ab(f, mm, n, kk, a, sI, sP, b, ldb2, c2, n + 4);
      jsGemm.ab(ref, mm, n, kk, a, sI, sP, b, ldb2, c2, n + 4);
      close(f, ref, `ab ${mm}×${n}×${kk} (${sI}, ${sP})`);
    }
  }
});

test('the addon refuses operands that do not fit, or that are not Float32Arrays, instead of touching memory', { skip }, () => {
  const s = addon();
  const f = new Float32Array(20);
  assert.throws(() => s.sgemm(0, 1, 2, 2, 3, f, 0, 3, f, 15, 3, f, 10, 2, 0), /B \(2×3 at offset 15, ld 3\) ends past its 20 elements/);
  assert.throws(() => s.sgemm(0, 0, 2, 2, 3, f, 0, 2, f, 6, 2, f, 12, 2, 0), /leading dimension 2 is below its 3 columns/);
  assert.throws(() => s.sgemm(0, 0, 1, 1, 1, new Float64Array(4) as unknown as Float32Array, 0, 1, f, 0, 1, f, 0, 1, 0), /A must be a Float32Array/);
  assert.throws(() => s.sgemm(0, 0, -1, 1, 1, f, 0, 1, f, 0, 1, f, 0, 1, 0), /m must be a non-negative integer/);
  assert.match(s.config(), /OpenBLAS/);
  assert.equal(s.threads(), 1, 'one OpenBLAS thread per call: the kernel workers split the latents');
});

test('a worker thread loads the addon and runs abt over the shared WebAssembly.Memory', { skip }, async () => {
  const w = loadWasmGemm();
  if ('error' in w) assert.fail(w.error);
  const [m, n, k] = [37, 29, 51];
  const memory = w.makeMemory(4 * 65536);
  const f = new Float32Array(memory.buffer);
  const rng = new Rng(8);
  const a = 1000, b = a + m * k, c = b + n * k;
  for (let i = a; i < c; i++) f[i] = rng.normal();
  const engine = join(root, 'src/compute/engine.ts');
  const worker = new Worker(`require('tsx/cjs');
    const { workerData, parentPort } = require('node:worker_threads');
    const { threadGemm } = require(${JSON.stringify(engine)});
    const { memory, m, n, k, a, b, c } = workerData;
    const g = threadGemm({ blas: true, memory, module: workerData.module });
    g.abt(new Float32Array(memory.buffer), m, n, k, a, k, b, k, c, n);
    parentPort.postMessage(g.name + ' ' + g.dot(new Float32Array(memory.buffer), a, b, k));`, { eval: true, workerData: { memory, module: w.module, m, n, k, a, b, c } });
  const said = await new Promise<string>((res, rej) => { worker.once('message', res); worker.once('error', rej); });
  await worker.terminate();
  const exp = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < k; p++) s += f[a + i * k + p]! * f[b + j * k + p]!; exp[i * n + j] = s; }
  close(f.slice(c, c + m * n), exp, 'C written by the worker');
  const [name, dot] = said.split(' ');
  assert.equal(name, 'blas');
  assert.ok(Math.abs(Number(dot) - jsGemm.dot(f, a, b, k)) < 1e-4, 'dot and axpy stay on the worker\'s wasm kernel over the same memory');
});

// the step on BLAS against the step on plain JS (which test/unit/train/gradients.test.ts checks against autodiff)
function stepEngine(arch: TrainArch, threads: number, dense: boolean, blas: boolean): { eng: StepEngine; pool?: WorkerPool } {
  const cfg = modelConfig(arch, 24, 52, 33, { k: 5, denseThreshold: dense ? 0 : Infinity });
  const layout = buildLayout(cfg, threads);
  const w = loadWasmGemm();
  if ('error' in w) throw new Error(w.error);
  const memory = blas ? w.makeMemory(layout.bytes) : undefined;
  const buffer = memory ? (memory.buffer as unknown as SharedArrayBuffer) : new SharedArrayBuffer(layout.bytes);
  const spec = { blas, memory, module: memory ? w.module : undefined };
  const pool = threads > 1 ? new WorkerPool(new Int32Array(buffer, layout.regions.get('control')!.offset, 16), cfg, threads, buffer, spec) : undefined;
  const gemm: GemmProvider = blas ? threadGemm(spec) : jsGemm;
  const eng = new StepEngine(cfg, buffer, gemm, threads, pool);
  const f = eng.views.f32, rng = new Rng(11);
  for (const n of ['wEncT', 'wDec', 'x']) for (let i = 0; i < f[n]!.length; i++) f[n]![i] = rng.normal() * 0.3;
  for (let i = 0; i < f.bEnc!.length; i++) f.bEnc![i] = arch === 'relu' ? -0.1 : rng.normal() * 0.1;
  if (arch === 'jumprelu') f.logTheta!.fill(Math.log(0.2));
  return { eng, pool };
}

for (const arch of ['relu', 'topk', 'batchtopk', 'jumprelu'] as const) {
  for (const dense of [false, true]) {
    test(`${arch}, ${dense ? 'dense' : 'sparse'} decoder path: the step on BLAS (1 and 2 threads) equals the step on JS`, { skip }, async () => {
      for (const threads of [1, 2]) {
        const one = stepEngine(arch, 1, dense, false), got = stepEngine(arch, threads, dense, true);
        try {
          for (let s = 0; s < 3; s++) {
            const a = one.eng.step({ lr: 1e-2, sparsityCoef: 0.1, deadTokens: 66 }), b = got.eng.step({ lr: 1e-2, sparsityCoef: 0.1, deadTokens: 66 });
            assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * Math.max(1, a.loss), `${threads} thread(s), step ${s}: loss ${b.loss}, expected ${a.loss}`);
            assert.equal(b.l0, a.l0, `${threads} thread(s), step ${s}: L0`);
          }
          for (const n of ['wEncT', 'wDec', 'bEnc', 'bDec']) close(got.eng.views.f32[n]!, one.eng.views.f32[n]!, `${threads} thread(s): ${n} after 3 steps`, 2e-4);
        } finally {
          await got.pool?.close();
        }
      }
    });
  }
}

test('fastMatmul and fastMatmulBT on BLAS equal the JS products (in place, with out and accumulate)', { skip }, () => {
  const rng = new Rng(5);
  try {
    assert.equal(useFastMatmul('blas'), 'blas');
    for (const [m, k, n] of [[64, 33, 130], [129, 65, 7], [1, 300, 257]] as const) {
      const a = Float32Array.from({ length: m * k }, () => rng.normal()), b = Float32Array.from({ length: k * n }, () => rng.normal());
      const bt = Float32Array.from({ length: n * k }, () => rng.normal());
      close(fastMatmul(a, b, m, k, n), matmul(a, b, m, k, n), `A·B ${m}×${k}×${n}`);
      close(fastMatmulBT(a, bt, m, k, n), matmulBT(a, bt, m, k, n), `A·Bᵀ ${m}×${k}×${n}`);
      const init = Float32Array.from({ length: m * n }, () => rng.normal());
      const got = fastMatmul(a, b, m, k, n, init.slice(), true), exp = matmul(a, b, m, k, n, init.slice(), true);
      close(got, exp, `C += A·B ${m}×${k}×${n}`);
      const out = new Float32Array(m * n).fill(NaN);
      assert.equal(fastMatmulBT(a, bt, m, k, n, out), out, 'writes into the given array');
      close(out, matmulBT(a, bt, m, k, n), `A·Bᵀ into out ${m}×${k}×${n}`);
    }
  } finally {
    useFastMatmul('auto');
  }
  assert.equal(fastMatmulEngine(), 'blas', 'auto picks BLAS when the addon loads');
  assert.equal(useFastMatmul('wasm'), 'wasm-simd');
  assert.equal(useFastMatmul('js'), 'js');
  useFastMatmul('auto');
});

test('auto picks native BLAS when the addon loads, and the threaded provider is bound to it', { skip }, () => {
  const e = chooseEngine('auto');
  assert.equal(e.gemm.name, 'blas');
  assert.equal(e.blas, true);
  assert.ok(e.makeMemory && e.module, 'the arena stays a shared wasm memory: dot and axpy run on the wasm kernel');
  assert.equal(chooseEngine('wasm').gemm.name, 'wasm-simd');
  assert.equal(chooseEngine('wasm').blas, false);
});

/** Loads the addon in a child process with `env` over this one's, and prints its library and config. */
function loadInChild(env: Record<string, string | undefined>): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['-e', `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(join(root, 'dist/native', BLAS_PLATFORM, 'sae_blas.node'))}); console.log(m.exports.library() + '|' + m.exports.config());`], {
    encoding: 'utf8', env: { ...process.env, ...env },
  });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

test('the addon opens the OpenBLAS runtime when it loads, and without it refuses to load naming the package', { skip }, () => {
  assert.match(addon().library(), /openblas/i);
  const missing = loadInChild({ SAE_WORKBENCH_BLAS_LIB: '/nonexistent/libopenblas.so.0' });
  assert.notEqual(missing.status, 0);
  assert.match(missing.err, /OpenBLAS runtime library did not open \(\/nonexistent\/libopenblas\.so\.0: .*\); install it: apt-get install libopenblas0/);
});

test('on an AVX2 CPU OpenBLAS runs AVX2 or AVX-512 kernels even when its release does not know the CPU model', { skip }, (t) => {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
  if (!flags.has('avx2') || !flags.has('fma')) { t.skip('this CPU has no AVX2/FMA'); return; }
  const auto = loadInChild({ OPENBLAS_CORETYPE: undefined });
  assert.equal(auto.status, 0, auto.err);
  const avx512 = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f));
  assert.match(auto.out, avx512 ? / SkylakeX / : / Haswell /, 'the kernels named from the CPU features');
  const chosen = loadInChild({ OPENBLAS_CORETYPE: 'Haswell' });
  assert.match(chosen.out, / Haswell /, "the user's OPENBLAS_CORETYPE wins");
});

test(`without the addon (absent, or ${BLAS_ENV}=off) the engine falls back to wasm SIMD with a note`, () => {
  const notePattern = /the native BLAS GEMM (\(dist\/native\/[\w-]+\/sae_blas.node\) is not built|does not load|is turned off)/;
  const saved = process.env[BLAS_ENV];
  if (!skip) process.env[BLAS_ENV] = 'off';
  try {
    for (const pref of ['auto', 'blas'] as const) {
      const e = chooseEngine(pref);
      assert.equal(e.gemm.name, 'wasm-simd', pref);
      assert.equal(e.blas, false);
      assert.ok(e.notes.some((n) => notePattern.test(n) && /falling back to WebAssembly SIMD/.test(n)), `${pref}: ${e.notes.join('; ')}`);
    }
    assert.deepEqual(chooseEngine('wasm').notes, [], 'asking for wasm says nothing about BLAS');
    assert.equal(useFastMatmul('blas'), 'js', 'fastMatmul pinned to BLAS without it: plain JS');
    assert.equal(useFastMatmul('auto'), 'wasm-simd');
    assert.throws(() => threadGemm({ blas: true }), notePattern, 'a worker told to use BLAS that cannot load it fails loudly');
  } finally {
    if (saved === undefined) delete process.env[BLAS_ENV]; else process.env[BLAS_ENV] = saved;
    useFastMatmul('auto');
  }
});
