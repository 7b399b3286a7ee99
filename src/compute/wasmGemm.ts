/** The WebAssembly SIMD GEMM (built from assembly/gemm.ts by scripts/prebuild): not built yet in this step. */
import type { GemmProvider } from './gemm';

export interface WasmGemm { gemm: GemmProvider; module: WebAssembly.Module; makeMemory: (bytes: number) => WebAssembly.Memory }

export function loadWasmGemm(): WasmGemm | { error: string } {
  return { error: 'the WebAssembly kernel is not built' };
}

/** A GEMM provider bound to one thread's instance of the module over the shared memory. */
export function instantiateWasmGemm(_module: WebAssembly.Module, _memory: WebAssembly.Memory): GemmProvider {
  throw new Error('the WebAssembly kernel is not built');
}
