/**
 * The WebAssembly SIMD kernels (source: ./assembly/gemm.ts, built by scripts/prebuild/wasm-kernels.mjs to
 * dist/kernels/gemm.wasm). The module imports a shared memory: the training arena is allocated as that
 * memory, and each thread instantiates the module over it, so kernels read the same weights everywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAM } from './gemm';
import type { GemmProvider } from './gemm';

export interface WasmGemm { gemm: GemmProvider; module: WebAssembly.Module; makeMemory: (bytes: number) => WebAssembly.Memory }

interface KernelExports {
  gemmABt(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number): void;
  gemmAB(m: number, n: number, k: number, a: number, sI: number, sP: number, b: number, ldb: number, c: number, ldc: number): void;
  dot(x: number, y: number, k: number): number;
  axpy(alpha: number, x: number, y: number, k: number): void;
  adam(p: number, m: number, v: number, g: number, k: number, step: number, sbc2: number, b1: number, c1: number, b2: number, c2: number, eps: number): number;
  scale(x: number, alpha: number, k: number): void;
  biasFilter(z: number, bias: number, n: number, g: number, strict: number, outVal: number, outIdx: number, idx0: number): number;
  pairGrad(g: number, d: number, gradDec: number, f: number, base: number, dOut: number, xc: number, gradEnc: number, dIn: number): number;
}

/** The exports every thread's provider binds (instantiateWasmGemm). */
const KERNELS: readonly (keyof KernelExports)[] = ['gemmABt', 'gemmAB', 'dot', 'axpy', 'adam', 'scale', 'biasFilter', 'pairGrad'];

/** dist/kernels/gemm.wasm seen from src/compute (tests, tsx) or from any dist/<bundle> folder. */
export function wasmKernelPath(): string | undefined {
  const candidates = [join(__dirname, '..', '..', 'dist', 'kernels', 'gemm.wasm'), join(__dirname, '..', 'kernels', 'gemm.wasm')];
  return candidates.find((c) => existsSync(c));
}

let cached: WasmGemm | { error: string } | undefined;

export function loadWasmGemm(): WasmGemm | { error: string } {
  if (cached) return cached;
  const path = wasmKernelPath();
  if (!path) return (cached = { error: 'the WebAssembly kernel (dist/kernels/gemm.wasm) is not built: run npm run build' });
  try {
    const module = new WebAssembly.Module(readFileSync(path));
    // a kernel built from an older source lacks the newer row kernels: say so instead of failing mid-step
    const have = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    const missing = KERNELS.filter((name) => !have.has(name));
    if (missing.length) return (cached = { error: `${path} is from an older build (no ${missing.join(', ')}): run npm run build` });
    const makeMemory = (bytes: number): WebAssembly.Memory => {
      const pages = Math.ceil(bytes / 65536);
      return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    };
    // instantiate once on a small memory to prove the module links here
    instantiateWasmGemm(module, makeMemory(65536));
    const unbound = (): never => { throw new Error('the wasm GEMM is bound to a memory: use instantiateWasmGemm'); };
    return (cached = { gemm: { name: 'wasm-simd', abt: unbound, ab: unbound, dot: unbound, axpy: unbound, adam: unbound, scale: unbound, biasFilter: unbound, pairGrad: unbound }, module, makeMemory });
  } catch (e) {
    return (cached = { error: `the WebAssembly kernel does not load here (${(e as Error).message})` });
  }
}

/** A GEMM provider bound to one thread's instance of the module over the shared memory. */
export function instantiateWasmGemm(module: WebAssembly.Module, memory: WebAssembly.Memory): GemmProvider & { kernels: KernelExports } {
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  return {
    name: 'wasm-simd',
    kernels: k,
    abt(_mem, m, n, kk, aOff, lda, bOff, ldb, cOff, ldc) {
      k.gemmABt(m, n, kk, aOff * 4, lda, bOff * 4, ldb, cOff * 4, ldc);
    },
    ab: (_mem, m, n, kk, aOff, sI, sP, bOff, ldb, cOff, ldc) => k.gemmAB(m, n, kk, aOff * 4, sI, sP, bOff * 4, ldb, cOff * 4, ldc),
    dot: (_mem, x, y, kk) => k.dot(x * 4, y * 4, kk),
    axpy: (_mem, alpha, x, y, kk) => k.axpy(alpha, x * 4, y * 4, kk),
    adam: (_mem, p, m, v, g, kk, step, sbc2) => k.adam(p * 4, m * 4, v * 4, g * 4, kk, step, sbc2, ADAM.beta1, 1 - ADAM.beta1, ADAM.beta2, 1 - ADAM.beta2, ADAM.eps),
    scale: (_mem, alpha, x, kk) => k.scale(x * 4, alpha, kk),
    pairGrad: (_mem, g, d, gradDec, f, base, dOut, xc, gradEnc, dIn) => k.pairGrad(g * 4, d * 4, gradDec * 4, f, base, dOut, xc * 4, gradEnc * 4, dIn),
    biasFilter: (_mem, z, bias, n, g, strict, outVal, outIdx, idx0) => k.biasFilter(z * 4, bias < 0 ? 0 : bias * 4, n, g, strict ? 1 : 0, outVal * 4, outIdx * 4, idx0),
  };
}
