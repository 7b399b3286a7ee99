// The WebAssembly SIMD kernels against the plain-JS reference (odd sizes, so every tail path runs), the
// wasm-backed threaded step against the JS single-threaded one, and the engine's fallbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { jsGemm } from '../../../src/compute/gemm';
import { chooseEngine, probeCapabilities } from '../../../src/compute/engine';
import { instantiateWasmGemm, loadWasmGemm } from '../../../src/compute/wasmGemm';
import { modelConfig } from '../../../src/sae/objectives';
import { buildLayout } from '../../../src/train/layout';
import { StepEngine } from '../../../src/train/stepEngine';
import { WorkerPool } from '../../../src/train/pool';
import { Rng } from '../../../src/train/rng';

// tests run from source: build the kernel the way `npm run build` does if it is not there yet
// (the build script rebuilds a kernel older than its source, so an old dist/ does not test old kernels)
spawnSync(process.execPath, [join(__dirname, '../../../scripts/prebuild/wasm-kernels.mjs')], { stdio: 'inherit' });

test('the runtime has WebAssembly SIMD, SharedArrayBuffer and worker_threads (else the engine falls back)', () => {
  const caps = probeCapabilities();
  assert.equal(caps.wasmSimd, true);
  assert.equal(caps.sharedArrayBuffer, true);
  assert.equal(caps.workerThreads, true);
});

test('asking for tfjs-node when it is not installed falls back with a message', () => {
  const e = chooseEngine('tfjs-node');
  if (!probeCapabilities().tfjsNode) assert.ok(e.notes.some((n) => /tfjs-node is not installed/.test(n)), e.notes.join('; '));
  assert.ok(['blas', 'wasm-simd', 'js'].includes(e.gemm.name));
  assert.equal(chooseEngine('js').gemm.name, 'js');
});

test('wasm gemmABt, gemmAB, dot, axpy, scale, adam, biasFilter and pairGrad equal the JS reference', () => {
  const w = loadWasmGemm();
  assert.ok(!('error' in w), 'error' in w ? w.error : '');
  if ('error' in w) return;
  const mem = w.makeMemory(4 * 2 ** 20);
  const g = instantiateWasmGemm(w.module, mem);
  const f = new Float32Array(mem.buffer);
  const rng = new Rng(1);
  for (const [m, n, k] of [[7, 13, 37], [2, 4, 4], [33, 130, 65], [1, 5, 3], [300, 12, 290]] as const) {
    const a = 16384, lda = k + 3, b = a + m * lda, ldb = k + 1, c = b + n * ldb, ldc = n + 2;
    for (let i = a; i < c + m * ldc; i++) f[i] = rng.normal();
    const ref = new Float32Array(f);
    g.abt(f, m, n, k, a, lda, b, ldb, c, ldc);
    jsGemm.abt(ref, m, n, k, a, lda, b, ldb, c, ldc);
    for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
      const got = f[c + i * ldc + j]!, exp = ref[c + i * ldc + j]!;
      assert.ok(Math.abs(got - exp) <= 1e-4 * Math.max(1, Math.abs(exp)), `[${m}x${n}x${k}] C[${i},${j}] = ${got}, expected ${exp}`);
    }
    // A·B (n a multiple of 4) with A read directly and transposed, as the dense decoder path does
    const n4 = Math.ceil(n / 4) * 4;
    for (const [sI, sP] of [[lda, 1], [1, lda]] as const) {
      const mm = sI === 1 ? Math.min(m, lda) : m, kk = sI === 1 ? Math.min(k, m) : k;
      const c2 = c + m * ldc + 64;
      g.ab(f, mm, n4, kk, a, sI, sP, b, n4, c2, n4 + 4);
      jsGemm.ab(ref, mm, n4, kk, a, sI, sP, b, n4, c2, n4 + 4);
      for (let i = 0; i < mm; i++) for (let j = 0; j < n4; j++) {
        const got = f[c2 + i * (n4 + 4) + j]!, exp = ref[c2 + i * (n4 + 4) + j]!;
        assert.ok(Math.abs(got - exp) <= 1e-4 * Math.max(1, Math.abs(exp)), `ab [${mm}x${n4}x${kk}] (${sI},${sP}) C[${i},${j}] = ${got}, expected ${exp}`);
      }
    }
    assert.ok(Math.abs(g.dot(f, a, b, k) - jsGemm.dot(ref, a, b, k)) < 1e-4);
    g.axpy(f, 0.5, a, b, k); jsGemm.axpy(ref, 0.5, a, b, k);
    for (let p = 0; p < k; p++) assert.ok(Math.abs(f[b + p]! - ref[b + p]!) < 1e-5);
    g.scale(f, -0.75, b, k); jsGemm.scale(ref, -0.75, b, k);
    for (let p = 0; p < k; p++) assert.ok(Math.abs(f[b + p]! - ref[b + p]!) < 1e-5);
    // Adam on k parameters (the rows after b as p, m, v, g; v made positive), as at step 3 with lr 1e-2
    const mv = b + k, vv = mv + k, gv = vv + k;
    for (let p = 0; p < k; p++) { f[vv + p] = ref[vv + p] = Math.abs(f[vv + p]!) * 1e-3; f[mv + p] = ref[mv + p] = f[mv + p]! * 1e-2; }
    const step = 1e-2 / (1 - 0.9 ** 3), sbc2 = Math.sqrt(1 - 0.999 ** 3);
    const before = ref[b]!;
    const sq = g.adam(f, b, mv, vv, gv, k, step, sbc2), sqRef = jsGemm.adam(ref, b, mv, vv, gv, k, step, sbc2);
    assert.ok(Math.abs(sq - sqRef) <= 1e-5 * sqRef, `Σp² ${sq} vs ${sqRef}`);
    for (let p = 0; p < k; p++) for (const o of [b, mv, vv]) {
      const got = f[o + p]!, exp = ref[o + p]!;
      assert.ok(Math.abs(got - exp) <= 1e-6 * Math.max(1, Math.abs(exp)), `adam [${k}] ${o === b ? 'p' : o === mv ? 'm' : 'v'}[${p}] = ${got}, expected ${exp}`);
    }
    assert.ok(Math.abs(ref[b]! - before) > 1e-4, 'the update moved p');
    // one pair of the sparse backward pass: df = base + g·d, gradDec += f·g, gradEnc += df·xc (xc k + 2 long)
    const pg = c, pd = pg + k, pgd = pd + k, pxc = pgd + k, pge = pxc + k + 2;
    for (let p = pg; p < pge + k + 2; p++) ref[p] = f[p] = rng.normal();
    const df = g.pairGrad(f, pg, pd, pgd, 0.7, 0.25, k, pxc, pge, k + 2), dfRef = jsGemm.pairGrad(ref, pg, pd, pgd, 0.7, 0.25, k, pxc, pge, k + 2);
    assert.ok(Math.abs(df - dfRef) <= 1e-5 * Math.max(1, Math.abs(dfRef)), `pairGrad [${k}] df ${df} vs ${dfRef}`);
    assert.ok(Math.abs(dfRef - 0.25 - jsGemm.dot(ref, pg, pd, k)) < 1e-12, 'df is base + g·d');
    for (let p = 0; p < k + 2; p++) for (const o of p < k ? [pgd, pge] : [pge]) {
      assert.ok(Math.abs(f[o + p]! - ref[o + p]!) <= 1e-5 * Math.max(1, Math.abs(ref[o + p]!)), `pairGrad [${k}] ${o === pgd ? 'gradDec' : 'gradEnc'}[${p}] = ${f[o + p]}, expected ${ref[o + p]}`);
    }
    // and on the wasm kernel, bit for bit the dot, axpy and axpy it replaces in the step
    const twin = f.slice(pgd, pge + k + 2);
    for (let p = pg; p < pgd; p++) f[p] = ref[p]!;
    f.set(twin, pgd);
    const dfSep = 0.25 + g.dot(f, pg, pd, k);
    g.axpy(f, 0.7, pg, pgd, k); g.axpy(f, dfSep, pxc, pge, k + 2);
    const sep = f.slice(pgd, pge + k + 2);
    f.set(twin, pgd);
    assert.equal(g.pairGrad(f, pg, pd, pgd, 0.7, 0.25, k, pxc, pge, k + 2), dfSep);
    assert.deepEqual(f.slice(pgd, pge + k + 2), sep);
    // the selection's pass: bias added, values above (or at or above) a threshold kept with their indices
    const zr = c, br = zr + k, ov = br + k, oi = ov + k;
    for (const [bias, thr, strict, n] of [[br, 0.3, true, k], [-1, 0, false, k - 1], [br, -Infinity, true, k]] as const) {
      for (let p = 0; p < 2 * k; p++) ref[zr + p] = f[zr + p] = rng.normal();
      const at = thr === 0 ? f[zr + (k >> 1)]! : thr; // a threshold equal to one of the values: ≥ keeps it
      const got = g.biasFilter(f, zr, bias, n, at, strict, ov, oi, 7), exp = jsGemm.biasFilter(ref, zr, bias, n, at, strict, ov, oi, 7);
      assert.equal(got, exp, `biasFilter [${n}] count`);
      assert.deepEqual(f.subarray(zr, zr + n), ref.subarray(zr, zr + n), 'the bias added in place');
      assert.deepEqual(f.subarray(ov, ov + got), ref.subarray(ov, ov + got));
      assert.deepEqual(new Int32Array(f.buffer, oi * 4, got), new Int32Array(ref.buffer, oi * 4, got));
      if (thr === -Infinity) assert.equal(got, n, 'everything is above −∞');
    }
  }
});

test('two threads on the wasm engine (shared WebAssembly.Memory) give the JS single-threaded step', async () => {
  const w = loadWasmGemm();
  if ('error' in w) assert.fail(w.error);
  const cfg = modelConfig('topk', 20, 44, 17, { k: 4 });
  const init = (eng: StepEngine): void => {
    const rng = new Rng(5), f = eng.views.f32;
    for (const n of ['wEncT', 'wDec', 'x']) for (let i = 0; i < f[n]!.length; i++) f[n]![i] = rng.normal() * 0.3;
  };
  const one = new StepEngine(cfg, new SharedArrayBuffer(buildLayout(cfg, 1).bytes), jsGemm, 1);
  const layout = buildLayout(cfg, 2);
  const mem = w.makeMemory(layout.bytes);
  const buf = mem.buffer as unknown as SharedArrayBuffer;
  const pool = new WorkerPool(new Int32Array(buf, layout.regions.get('control')!.offset, 16), cfg, 2, buf, { blas: false, memory: mem, module: w.module });
  const two = new StepEngine(cfg, buf, instantiateWasmGemm(w.module, mem), 2, pool);
  try {
    init(one); init(two);
    for (let s = 0; s < 3; s++) {
      const a = one.step({ lr: 1e-2, sparsityCoef: 0, deadTokens: 34 }), b = two.step({ lr: 1e-2, sparsityCoef: 0, deadTokens: 34 });
      assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * Math.max(1, a.loss), `step ${s}: ${a.loss} vs ${b.loss}`);
    }
    let worst = 0;
    for (let i = 0; i < one.views.f32.wDec!.length; i++) worst = Math.max(worst, Math.abs(one.views.f32.wDec![i]! - two.views.f32.wDec![i]!));
    assert.ok(worst < 1e-4, `W_dec differs by ${worst}`);
  } finally {
    await pool.close();
  }
});
