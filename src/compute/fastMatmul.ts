/**
 * Synchronous dense products for the diagnostics on the engine's kernels, with the plain-JS matmul.ts as
 * the fallback and the reference. Same signatures as matmul/matmulBT.
 * - native BLAS (./blasGemm.ts) when the addon loads: sgemm reads the caller's arrays in place, no copy;
 * - else the WebAssembly SIMD kernel (the module the trainer loads, ./wasmGemm.ts): operands are copied
 *   into one private memory of this thread (the trainer's arena is never touched); the copy is
 *   O(mk + kn + mn) against the product's O(mkn), so small products stay in JS where it would dominate.
 * `SAE_WORKBENCH_DIAG_GEMM=js|wasm|blas` (or useFastMatmul) pins one of them.
 */
import { loadBlas } from './blasGemm';
import type { BlasAddon } from './blasGemm';
import { matmul, matmulBT } from './matmul';
import { instantiateWasmGemm, loadWasmGemm } from './wasmGemm';

/** Below this many multiply-adds the JS loop is as fast as copying into wasm memory. */
const MIN_WORK = 1 << 16;
/** Below this many multiply-adds the JS loop beats a call into BLAS (measured: 4³ JS 0.5 µs vs 1.4 µs, 8³ 9 µs vs 1 µs). */
const MIN_WORK_BLAS = 1 << 9;
const PAGE = 65536;
const MAX_PAGES = 65536; // the module's declared maximum (4 GiB)

interface Bound { memory: WebAssembly.Memory; kernels: ReturnType<typeof instantiateWasmGemm>['kernels'] }
let bound: Bound | null | undefined;

export type FastMatmulEngine = 'blas' | 'wasm-simd' | 'js';
type Pin = 'auto' | 'blas' | 'wasm' | 'js';
const PINS: readonly Pin[] = ['auto', 'blas', 'wasm', 'js'];
const fromEnv = process.env.SAE_WORKBENCH_DIAG_GEMM as Pin | undefined;
let pin: Pin = fromEnv && PINS.includes(fromEnv) ? fromEnv : 'auto';

/** Pin the engine (tests compare the paths; 'auto' is the fastest available); returns the one in effect. */
export function useFastMatmul(engine: Pin): FastMatmulEngine { pin = engine; return fastMatmulEngine(); }

/** The engine products of useful size run on here. */
export function fastMatmulEngine(): FastMatmulEngine { return blas() ? 'blas' : wasm(0) ? 'wasm-simd' : 'js'; }

function blas(): BlasAddon | null {
  if (pin !== 'auto' && pin !== 'blas') return null;
  const b = loadBlas();
  return 'error' in b ? null : b;
}

function wasm(bytes: number): Bound | null {
  return pin === 'auto' || pin === 'wasm' ? kernels(bytes) : null;
}

function kernels(bytes: number): Bound | null {
  if (bound === undefined) {
    const w = loadWasmGemm();
    if ('error' in w) bound = null;
    else {
      const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
      bound = { memory, kernels: instantiateWasmGemm(w.module, memory).kernels };
    }
  }
  if (!bound) return null;
  const need = Math.ceil(bytes / PAGE) - bound.memory.buffer.byteLength / PAGE;
  if (need > 0) {
    if (bound.memory.buffer.byteLength / PAGE + need > MAX_PAGES) return null;
    bound.memory.grow(need);
  }
  return bound;
}

/** C[m×n] (+)= A[m×k] · B[k×n], row-major. */
export function fastMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, out?: Float32Array, accumulate = false): Float32Array {
  const nb = m * k * n < MIN_WORK_BLAS ? null : blas();
  if (nb) {
    const c = out ?? new Float32Array(m * n);
    nb.sgemm(0, 0, m, n, k, a, 0, Math.max(k, 1), b, 0, Math.max(n, 1), c, 0, Math.max(n, 1), accumulate ? 1 : 0);
    return c;
  }
  const n4 = (n + 3) & ~3;
  const bytes = 4 * (m * k + k * n4 + m * n4);
  const kb = m * k * n < MIN_WORK ? null : wasm(bytes);
  if (!kb) return matmul(a, b, m, k, n, out, accumulate);
  const mem = new Float32Array(kb.memory.buffer);
  const aOff = 0, bOff = m * k, cOff = bOff + k * n4;
  mem.set(a.subarray(0, m * k), aOff);
  if (n4 === n) mem.set(b.subarray(0, k * n), bOff);
  else for (let p = 0; p < k; p++) { mem.set(b.subarray(p * n, p * n + n), bOff + p * n4); mem.fill(0, bOff + p * n4 + n, bOff + (p + 1) * n4); }
  kb.kernels.gemmAB(m, n4, k, aOff * 4, k, 1, bOff * 4, n4, cOff * 4, n4);
  return copyOut(mem, cOff, m, n, n4, out, accumulate);
}

/** C[m×n] = A[m×k] · B[n×k]ᵀ (B given row-major as n rows of length k). */
export function fastMatmulBT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, out?: Float32Array): Float32Array {
  const nb = m * k * n < MIN_WORK_BLAS ? null : blas();
  if (nb) {
    const c = out ?? new Float32Array(m * n);
    nb.sgemm(0, 1, m, n, k, a, 0, Math.max(k, 1), b, 0, Math.max(k, 1), c, 0, Math.max(n, 1), 0);
    return c;
  }
  const bytes = 4 * (m * k + n * k + m * n);
  const kb = m * k * n < MIN_WORK ? null : wasm(bytes);
  if (!kb) return matmulBT(a, b, m, k, n, out);
  const mem = new Float32Array(kb.memory.buffer);
  const aOff = 0, bOff = m * k, cOff = bOff + n * k;
  mem.set(a.subarray(0, m * k), aOff);
  mem.set(b.subarray(0, n * k), bOff);
  kb.kernels.gemmABt(m, n, k, aOff * 4, k, bOff * 4, k, cOff * 4, n);
  return copyOut(mem, cOff, m, n, n, out, false);
}

function copyOut(mem: Float32Array, cOff: number, m: number, n: number, ldc: number, out: Float32Array | undefined, accumulate: boolean): Float32Array {
  const c = out ?? new Float32Array(m * n);
  if (!accumulate && ldc === n) { c.set(mem.subarray(cOff, cOff + m * n)); return c; }
  for (let i = 0; i < m; i++) {
    const src = mem.subarray(cOff + i * ldc, cOff + i * ldc + n);
    if (accumulate) for (let j = 0; j < n; j++) c[i * n + j]! += src[j]!;
    else c.set(src, i * n);
  }
  return c;
}
