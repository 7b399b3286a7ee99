/**
 * Start-up probes and the choice of GEMM engine: tfjs-node (when installed; not used for training yet,
 * reported), then native BLAS (./blasGemm.ts), then WebAssembly SIMD, then plain JS. Every fallback says
 * why, never crashes.
 */
import * as workerThreads_ from 'node:worker_threads';
import { blasGemm, loadBlas } from './blasGemm';
import { jsGemm } from './gemm';
import type { GemmProvider } from './gemm';
import { instantiateWasmGemm, loadWasmGemm } from './wasmGemm';

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

/** What `--engine` and the `saeWorkbench.engine` setting accept. */
export const ENGINE_PREFERENCES = ['auto', 'blas', 'wasm', 'js', 'tfjs-node'] as const;
export type EnginePreference = (typeof ENGINE_PREFERENCES)[number];

export interface EngineChoice {
  /** Names the engine; with a wasm memory its kernels are bound to none yet: each thread calls threadGemm. */
  gemm: GemmProvider;
  /** Whether threads run abt/ab on the native BLAS addon (each loads it for itself). */
  blas: boolean;
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
      if (pref === 'tfjs-node') notes.push('@tensorflow/tfjs-node is not installed (its install needs the network); falling back to the next engine');
    } else {
      notes.push('@tensorflow/tfjs-node is installed, but its GEMM cannot write into the shared arena the workers use; using the next engine');
    }
  }
  // the addon is loaded only here, on the thread that will train (not by probeCapabilities on a host thread)
  const addon = pref !== 'wasm' && pref !== 'js' ? loadBlas() : undefined;
  if (addon && 'error' in addon) notes.push(`${addon.error}; falling back to WebAssembly SIMD`);
  const blas = !!addon && !('error' in addon);
  let wasm: { gemm: GemmProvider; makeMemory: (bytes: number) => WebAssembly.Memory; module: WebAssembly.Module } | undefined;
  if (pref !== 'js') {
    const what = blas ? 'dot products' : 'GEMM';
    if (!caps.wasmSimd) notes.push(`WebAssembly SIMD is not available in this runtime; using the plain-JS ${what}${blas ? '' : ' (slow)'}`);
    else if (!caps.sharedArrayBuffer) notes.push(`SharedArrayBuffer is not available; using the plain-JS ${what} on one thread`);
    else {
      const w = loadWasmGemm();
      if ('error' in w) notes.push(`${w.error}; using the plain-JS ${what}${blas ? '' : ' (slow)'}`);
      else wasm = w;
    }
  }
  const base = wasm?.gemm ?? jsGemm;
  const gemm = blas ? blasGemm(addon, base) : base;
  return { gemm, blas, makeMemory: wasm?.makeMemory, module: wasm?.module, notes, caps };
}

/** What a thread needs to build its provider (all of it can be posted to a worker). */
export interface ThreadGemmSpec {
  blas: boolean;
  memory?: WebAssembly.Memory;
  module?: WebAssembly.Module;
}

/**
 * The GEMM provider of one thread: the wasm kernels instantiated over the shared memory (else plain JS),
 * with abt/ab on native BLAS when `blas`. Throws when BLAS was chosen but does not load on this thread.
 */
export function threadGemm(spec: ThreadGemmSpec): GemmProvider {
  const base = spec.memory && spec.module ? instantiateWasmGemm(spec.module, spec.memory) : jsGemm;
  if (!spec.blas) return base;
  const addon = loadBlas();
  if ('error' in addon) throw new Error(addon.error);
  return blasGemm(addon, base);
}
