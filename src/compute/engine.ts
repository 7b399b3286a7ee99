/**
 * Start-up probes and the choice of GEMM engine: tfjs-node (when installed; not used for training yet,
 * reported), then WebAssembly SIMD, then plain JS. Every fallback says why, never crashes.
 */
import * as workerThreads_ from 'node:worker_threads';
import { jsGemm } from './gemm';
import type { GemmProvider } from './gemm';
import { loadWasmGemm } from './wasmGemm';

export interface Capabilities {
  wasmSimd: boolean;
  sharedArrayBuffer: boolean;
  workerThreads: boolean;
  tfjsNode: boolean;
}

// the smallest module that uses a v128 instruction: (func (result v128) v128.const i32x4 0 0 0 0)
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);

export function probeCapabilities(): Capabilities {
  let wasmSimd = false;
  try { wasmSimd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE); } catch { wasmSimd = false; }
  let sharedArrayBuffer = false;
  try { sharedArrayBuffer = typeof SharedArrayBuffer === 'function' && new SharedArrayBuffer(8).byteLength === 8; } catch { sharedArrayBuffer = false; }
  let workerThreads = false;
  try { workerThreads = typeof workerThreads_.Worker === 'function'; } catch { workerThreads = false; }
  let tfjsNode = false;
  try { require.resolve('@tensorflow/tfjs-node'); tfjsNode = true; } catch { tfjsNode = false; }
  return { wasmSimd, sharedArrayBuffer, workerThreads, tfjsNode };
}

export type EnginePreference = 'auto' | 'tfjs-node' | 'wasm' | 'js';

export interface EngineChoice {
  gemm: GemmProvider;
  /** Present when the arena must live in this memory (wasm kernels read it directly). */
  makeMemory?: (bytes: number) => WebAssembly.Memory;
  module?: WebAssembly.Module;
  notes: string[];
  caps: Capabilities;
}

/** Picks the GEMM engine; `notes` explain every fallback (shown to the user and written to the log). */
export function chooseEngine(pref: EnginePreference = 'auto'): EngineChoice {
  const caps = probeCapabilities();
  const notes: string[] = [];
  if (pref === 'tfjs-node' || pref === 'auto') {
    if (!caps.tfjsNode) {
      if (pref === 'tfjs-node') notes.push('@tensorflow/tfjs-node is not installed (its install needs the network); falling back to WebAssembly SIMD');
    } else {
      notes.push('@tensorflow/tfjs-node is installed, but its GEMM cannot write into the shared arena the workers use; using WebAssembly SIMD');
    }
  }
  if (pref !== 'js') {
    if (!caps.wasmSimd) notes.push('WebAssembly SIMD is not available in this runtime; using the plain-JS GEMM (slow)');
    else if (!caps.sharedArrayBuffer) notes.push('SharedArrayBuffer is not available; using the plain-JS GEMM on one thread');
    else {
      const w = loadWasmGemm();
      if ('error' in w) notes.push(`${w.error}; using the plain-JS GEMM (slow)`);
      else return { gemm: w.gemm, makeMemory: w.makeMemory, module: w.module, notes, caps };
    }
  }
  return { gemm: jsGemm, notes, caps };
}
