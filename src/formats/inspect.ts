/**
 * What is in a tensor file or an SAE folder: tensor names, dtypes, shapes and statistics (min/max/mean,
 * NaN/Inf counts), read in chunks so big files stay in bounded memory. Used by the CLI (`inspect`) and by
 * the extension's tensor-file editor (in a worker: statistics over a big file are heavy work).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../errors';
import { readSafetensorsHeader } from '../io/safetensors';
import { readNpyHeader, readNpz } from '../io/npy';
import { forEachChunk } from '../io/chunked';
import { tensorStats } from '../io/tensor';
import type { Tensor, TensorStats } from '../io/tensor';
import { DTYPE_BYTES } from '../io/dtype';
import { detectFormat } from '.';
import type { Sae } from '../sae/types';
import type { Crosscoder } from '../sae/crosscoder';
import { readTorchFile } from '../io/torch';
import type { TorchValue } from '../io/torch';
import { isTensor } from '../io/torch';
import { isActivationCache, openActivationCache } from '../io/arrow';
import { captureFacts, isCapture } from '../io/shards';
import type { CaptureFacts } from '../io/shards';


export interface TensorReport extends TensorStats {
  name: string;
  dtype: string;
  shape: number[];
}

export interface InspectReport {
  path: string;
  kind: 'safetensors' | 'npy' | 'npz' | 'pt' | 'sae' | 'crosscoder' | 'activation-cache' | 'capture';
  format?: string;
  sae?: { architecture: string; activation: string; d_in: number; d_sae: number; d_out: number; k?: number; hook_name: string | null; transcoder: boolean };
  crosscoder?: { n_sources: number; d_in: number; d_sae: number; hook_name: string | null };
  activationCache?: { hook_name: string; context_size: number; d_in: number; dtype: string; shards: number; token_ids: boolean };
  /** A capture folder from python -m sae_workbench_capture (src/io/shards.ts). */
  capture?: CaptureFacts;
  metadata?: Record<string, string>;
  tensors: TensorReport[];
  warnings: string[];
}

function mergeStats(acc: TensorStats & { count: number }, s: TensorStats, n: number): void {
  const finite = n - s.nan - s.inf;
  if (finite > 0) {
    acc.min = Math.min(acc.min, s.min);
    acc.max = Math.max(acc.max, s.max);
    acc.mean = (acc.mean * acc.count + s.mean * finite) / (acc.count + finite);
    acc.count += finite;
  }
  acc.nan += s.nan;
  acc.inf += s.inf;
}

function streamedStats(path: string, dtype: Tensor['dtype'], begin: number, end: number): TensorStats {
  const acc = { min: Infinity, max: -Infinity, mean: 0, nan: 0, inf: 0, count: 0 };
  forEachChunk(path, dtype, begin, end, (chunk) => mergeStats(acc, tensorStats(chunk), chunk.data.length));
  const { count, ...s } = acc;
  return count ? s : { ...s, min: NaN, max: NaN, mean: NaN };
}

function saeFacts(sae: Sae): NonNullable<InspectReport['sae']> {
  const c = sae.cfg;
  return { architecture: String((c.metadata.architecture as string | undefined) ?? c.activation), activation: c.activation, d_in: c.dIn, d_sae: c.dSae, d_out: c.dOut, k: c.k, hook_name: c.hookName ?? null, transcoder: c.transcoder };
}

/** Inspects a tensor file or an SAE folder. Reads big tensors in chunks. */
export function inspectPath(path: string): InspectReport {
  let st;
  try { st = statSync(path); } catch { throw new InputError(path, 'no such file or folder'); }
  const fmt = detectFormat(path);
  if (fmt?.kind === 'crosscoder') return inspectCrosscoder(path, fmt.id, fmt.loadCrosscoder!(path));
  if (fmt) {
    const sae = fmt.load(path);
    const c = sae.cfg;
    const list: [string, number[], Float32Array | undefined][] = [
      ['W_enc', [c.dIn, c.dSae], sae.wEnc], ['b_enc', [c.dSae], sae.bEnc], ['W_dec', [c.dSae, c.dOut], sae.wDec], ['b_dec', [c.dOut], sae.bDec],
      ['threshold', [c.dSae], sae.threshold], ['b_mag', [c.dSae], sae.bMag], ['r_mag', [c.dSae], sae.rMag], ['W_skip', [c.dOut, c.dIn], sae.wSkip],
    ];
    const tensors = list.filter((e) => e[2]).map(([name, shape, data]) => ({ name, dtype: 'F32', shape, ...tensorStats({ dtype: 'F32', shape, data: data! }) }));
    const report: InspectReport = { path, kind: 'sae', format: fmt.id, sae: saeFacts(sae), tensors, warnings: [] };
    addWarnings(report);
    return report;
  }
  if (isCapture(path)) {
    const capture = captureFacts(path);
    const warnings = capture.complete ? [] : [`${path}: the capture is unfinished (stopped or still running): ${capture.rows} rows in complete shards`];
    return { path, kind: 'capture', format: 'sae-workbench-activations', capture, tensors: [], warnings };
  }
  if (st.isDirectory() && isActivationCache(path)) {
    const info = openActivationCache(path);
    return { path, kind: 'activation-cache', format: 'saelens-activation-cache', activationCache: { hook_name: info.hookName, context_size: info.contextSize, d_in: info.dIn, dtype: info.dtype, shards: info.files.length, token_ids: info.hasTokenIds }, tensors: [], warnings: [] };
  }
  if (st.isDirectory()) {
    const entries = readdirSync(path).slice(0, 20).join(', ');
    throw new InputError(path, `folder is not a recognised SAE (it holds: ${entries || 'nothing'})`);
  }
  const ext = extname(path).toLowerCase();
  let report: InspectReport;
  if (ext === '.safetensors') {
    const h = readSafetensorsHeader(path);
    const tensors = [...h.entries].map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape, ...streamedStats(path, e.dtype, h.dataStart + e.begin, h.dataStart + e.end) }));
    report = { path, kind: 'safetensors', metadata: h.metadata, tensors, warnings: [] };
  } else if (ext === '.npy') {
    const h = readNpyHeader(path);
    const bytes = h.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[h.dtype];
    report = { path, kind: 'npy', tensors: [{ name: basename(path, ext), dtype: h.dtype, shape: h.shape, ...streamedStats(path, h.dtype, h.dataStart, h.dataStart + bytes) }], warnings: [] };
  } else if (ext === '.npz') {
    const arrays = readNpz(path);
    report = { path, kind: 'npz', tensors: [...arrays].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, ...tensorStats(t) })), warnings: [] };
  } else if (ext === '.pt' || ext === '.pth') {
    const tensors: TensorReport[] = [];
    const walk = (v: TorchValue, name: string): void => {
      if (isTensor(v)) tensors.push({ name, dtype: v.dtype, shape: v.shape, ...tensorStats(v) });
      else if (v instanceof Map) for (const [k, x] of v) walk(x, name ? `${name}.${String(k)}` : String(k));
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${name}[${i}]`));
    };
    walk(readTorchFile(path).root, '');
    report = { path, kind: 'pt', tensors, warnings: [] };
  } else {
    throw new InputError(path, `unsupported file type '${ext || '(none)'}' (expected .safetensors, .npy, .npz, .pt, an SAE folder or an activation cache)`);
  }
  addWarnings(report);
  return report;
}

function inspectCrosscoder(path: string, format: string, cc: Crosscoder): InspectReport {
  const c = cc.cfg;
  const list: [string, number[], Float32Array][] = [
    ['W_enc', [c.nSources, c.dIn, c.dSae], cc.wEnc], ['b_enc', [c.dSae], cc.bEnc], ['W_dec', [c.dSae, c.nSources, c.dIn], cc.wDec], ['b_dec', [c.nSources, c.dIn], cc.bDec],
  ];
  const tensors = list.map(([name, shape, data]) => ({ name, dtype: 'F32', shape, ...tensorStats({ dtype: 'F32', shape, data }) }));
  const report: InspectReport = { path, kind: 'crosscoder', format, crosscoder: { n_sources: c.nSources, d_in: c.dIn, d_sae: c.dSae, hook_name: c.hookName ?? null }, tensors, warnings: [] };
  addWarnings(report);
  return report;
}

function addWarnings(r: InspectReport): void {
  for (const t of r.tensors) {
    if (t.nan || t.inf) r.warnings.push(`${r.path}: tensor '${t.name}' has ${t.nan} NaN and ${t.inf} Inf values`);
  }
}

export interface TensorListing {
  path: string;
  kind: 'safetensors' | 'npy' | 'npz';
  metadata?: Record<string, string>;
  tensors: { name: string; dtype: string; shape: number[]; bytes: number }[];
}

/**
 * Names, dtypes and shapes from the file's header alone (no data read): cheap enough to show at once
 * while the statistics are computed elsewhere. .npz is a zip, so its arrays are decoded to list them.
 */
export function listTensors(path: string): TensorListing {
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') {
    const h = readSafetensorsHeader(path);
    return { path, kind: 'safetensors', metadata: h.metadata, tensors: [...h.entries].map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape, bytes: e.end - e.begin })) };
  }
  if (ext === '.npy') {
    const h = readNpyHeader(path);
    return { path, kind: 'npy', tensors: [{ name: basename(path, ext), dtype: h.dtype, shape: h.shape, bytes: h.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[h.dtype] }] };
  }
  if (ext === '.npz') {
    return { path, kind: 'npz', tensors: [...readNpz(path)].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, bytes: t.data.byteLength })) };
  }
  throw new InputError(path, `unsupported file type '${ext || '(none)'}' (expected .safetensors, .npy or .npz)`);
}
