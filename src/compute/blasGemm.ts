/**
 * The native BLAS GEMM: OpenBLAS's cblas_sgemm through a small Node-API addon (source: native/blas/,
 * built by scripts/prebuild/native-blas.mjs into dist/native/<platform>-<arch>/sae_blas.node with only a C compiler and
 * Node's headers; it opens the OpenBLAS runtime library, libopenblas.so.0, when it loads). The addon reads and writes the caller's Float32Arrays in place — plain,
 * SharedArrayBuffer or shared WebAssembly.Memory — so the training arena needs no copy, and every thread
 * (each kernel worker) loads it for itself. OpenBLAS runs one thread per call: each worker already owns a
 * share of the latents.
 *
 * Only the GEMMs go native. The row kernels (dot, axpy, Adam, scale, the selection's filter) stay on the
 * thread's wasm or JS kernel: a Node-API call costs more than a 768-float wasm dot product.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GemmProvider } from './gemm';

export interface BlasAddon {
  /** C = op(A)·op(B) + beta·C, row-major; op(A) m×k, op(B) k×n; offsets and leading dimensions in floats. */
  sgemm(transA: 0 | 1, transB: 0 | 1, m: number, n: number, k: number, a: Float32Array, aOff: number, lda: number,
    b: Float32Array, bOff: number, ldb: number, c: Float32Array, cOff: number, ldc: number, beta: number): void;
  /** OpenBLAS threads per call, process-wide (1 from load; benches change it). */
  setThreads(threads: number): void;
  threads(): number;
  /** e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" */
  config(): string;
  /** the library it opened, e.g. "libopenblas.so.0" */
  library(): string;
}

/** `SAE_WORKBENCH_BLAS=off` keeps the addon unloaded (the engine then falls back to wasm SIMD). */
export const BLAS_ENV = 'SAE_WORKBENCH_BLAS';

/** This machine's folder under dist/native: the packaged extension carries linux-x64's, other platforms build their own. */
export const BLAS_PLATFORM = `${process.platform}-${process.arch}`;

/** dist/native/<platform>/sae_blas.node seen from src/compute (tests, tsx) or from any dist/<bundle> folder. */
function blasAddonPath(): string | undefined {
  const candidates = [join(__dirname, '..', '..', 'dist', 'native', BLAS_PLATFORM, 'sae_blas.node'), join(__dirname, '..', 'native', BLAS_PLATFORM, 'sae_blas.node')];
  return candidates.find((c) => existsSync(c));
}

let cached: BlasAddon | { error: string } | undefined;

/** The addon for this thread, loaded once, or why it is not available. */
export function loadBlas(): BlasAddon | { error: string } {
  if (/^(off|0|false|no)$/i.test(process.env[BLAS_ENV] ?? '')) return { error: `the native BLAS GEMM is turned off (${BLAS_ENV}=${process.env[BLAS_ENV]})` };
  if (cached) return cached;
  const path = blasAddonPath();
  if (!path) return (cached = { error: `the native BLAS GEMM (dist/native/${BLAS_PLATFORM}/sae_blas.node) is not built for this platform: npm run build builds it when a C compiler is there` });
  try {
    const mod = { exports: {} as Partial<BlasAddon> };
    // process.dlopen rather than require: bundlers leave it alone, and it works in worker threads
    process.dlopen(mod, path);
    const addon = mod.exports;
    if (typeof addon.sgemm !== 'function' || typeof addon.setThreads !== 'function' || typeof addon.config !== 'function' || typeof addon.threads !== 'function' || typeof addon.library !== 'function') {
      return (cached = { error: `${path} is not this version's BLAS addon: run npm run build` });
    }
    // prove it links and computes here: [1 2]·[3 4]ᵀ = 11
    const f = new Float32Array([1, 2, 3, 4, 0]);
    addon.sgemm(0, 1, 1, 1, 2, f, 0, 2, f, 2, 2, f, 4, 1, 0);
    if (f[4] !== 11) return (cached = { error: `the native BLAS GEMM computed ${f[4]} for 11 in its self-check` });
    return (cached = addon as BlasAddon);
  } catch (e) {
    return (cached = { error: `the native BLAS GEMM does not load here (${(e as Error).message.split('\n')[0]})` });
  }
}

/** The OpenBLAS kernel family in use ("SkylakeX", "Haswell", …), read from its config line. */
export function openblasCore(addon: BlasAddon): string | undefined {
  return /\s(\w+)\s+MAX_THREADS=/.exec(addon.config())?.[1];
}

/**
 * The provider on this thread: abt and ab on sgemm, the row kernels (and ab's rare odd strides) on `base`,
 * the thread's wasm or JS provider over the same memory.
 */
export function blasGemm(addon: BlasAddon, base: GemmProvider): GemmProvider {
  return {
    name: 'blas',
    dot: base.dot,
    axpy: base.axpy,
    adam: base.adam,
    scale: base.scale,
    biasFilter: base.biasFilter,
    pairGrad: base.pairGrad,
    abt(mem, m, n, k, aOff, lda, bOff, ldb, cOff, ldc) {
      addon.sgemm(0, 1, m, n, k, mem, aOff, lda, mem, bOff, ldb, mem, cOff, ldc, 0);
    },
    ab(mem, m, n, k, aOff, sI, sP, bOff, ldb, cOff, ldc) {
      // A(i, p) = mem[aOff + i·sI + p·sP]: row-major A when sP = 1, row-major Aᵀ (transposed read) when sI = 1
      if (sP === 1 && (sI >= k || m <= 1)) addon.sgemm(0, 0, m, n, k, mem, aOff, m <= 1 ? Math.max(k, 1) : sI, mem, bOff, ldb, mem, cOff, ldc, 0);
      else if (sI === 1 && (sP >= m || k <= 1)) addon.sgemm(1, 0, m, n, k, mem, aOff, k <= 1 ? Math.max(m, 1) : sP, mem, bOff, ldb, mem, cOff, ldc, 0);
      else base.ab(mem, m, n, k, aOff, sI, sP, bOff, ldb, cOff, ldc);
    },
  };
}
