import { readdirSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { readSafetensorsHeader } from '../../io/safetensors';
import { readNpyHeader, readNpz } from '../../io/npy';
import { forEachChunk } from '../../io/chunked';
import { tensorStats } from '../../io/tensor';
import type { Tensor, TensorStats } from '../../io/tensor';
import { DTYPE_BYTES } from '../../io/dtype';
import { detectFormat } from '../../formats';
import type { Sae } from '../../sae/types';
import type { Crosscoder } from '../../sae/crosscoder';
import { readTorchFile } from '../../io/torch';
import type { TorchValue } from '../../io/torch';
import { isTensor } from '../../io/torch';
import { isActivationCache, openActivationCache } from '../../io/arrow';
import { action, emit, globals, warn } from '../common';

export interface TensorReport extends TensorStats {
  name: string;
  dtype: string;
  shape: number[];
}

export interface InspectReport {
  path: string;
  kind: 'safetensors' | 'npy' | 'npz' | 'pt' | 'sae' | 'crosscoder' | 'activation-cache';
  format?: string;
  sae?: { architecture: string; activation: string; d_in: number; d_sae: number; d_out: number; k?: number; hook_name: string | null; transcoder: boolean };
  crosscoder?: { n_sources: number; d_in: number; d_sae: number; hook_name: string | null };
  activationCache?: { hook_name: string; context_size: number; d_in: number; dtype: string; shards: number; token_ids: boolean };
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

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
}

export function formatInspect(r: InspectReport): string {
  const lines: string[] = [`${r.path}  (${r.kind}${r.format ? `, ${r.format}` : ''})`];
  if (r.sae) {
    const s = r.sae;
    lines.push(`  ${s.transcoder ? 'transcoder' : 'SAE'}: ${s.architecture}${s.k !== undefined ? ` (k=${s.k})` : ''}, d_in ${s.d_in}, d_sae ${s.d_sae}${s.transcoder ? `, d_out ${s.d_out}` : ''}, hook ${s.hook_name ?? '(none)'}`);
  }
  if (r.crosscoder) {
    const c = r.crosscoder;
    lines.push(`  crosscoder: ${c.n_sources} sources, d_in ${c.d_in}, d_sae ${c.d_sae}, hook ${c.hook_name ?? '(none)'}`);
  }
  if (r.activationCache) {
    const a = r.activationCache;
    lines.push(`  activation cache: ${a.hook_name}, context ${a.context_size}, d_in ${a.d_in}, ${a.dtype}, ${a.shards} shard(s)${a.token_ids ? ', token ids' : ''}`);
  }
  if (r.metadata && Object.keys(r.metadata).length) lines.push(`  metadata: ${Object.keys(r.metadata).join(', ')}`);
  const w = Math.max(4, ...r.tensors.map((t) => t.name.length));
  for (const t of r.tensors) {
    lines.push(`  ${t.name.padEnd(w)}  ${t.dtype.padEnd(4)}  [${t.shape.join(', ')}]`.padEnd(w + 30) +
      `  min ${fmtNum(t.min)}  max ${fmtNum(t.max)}  mean ${fmtNum(t.mean)}${t.nan || t.inf ? `  NaN ${t.nan}  Inf ${t.inf}` : ''}`);
  }
  return lines.join('\n');
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show the tensors of a .safetensors/.npy/.npz/.pt file, an SAE in any supported format (SAELens, sparsify, dictionary_learning, OpenAI, GemmaScope, transcoders, crosscoders) or a SAELens activation cache: names, dtypes, shapes, min/max/mean, NaN/Inf counts')
    .argument('<paths...>', 'files or folders')
    .action(action((paths: string[], _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const reports = paths.map((p) => {
        const r = inspectPath(p);
        for (const w of r.warnings) warn(w);
        return r;
      });
      emit(g, reports.length === 1 ? reports[0] : reports, () => reports.map(formatInspect).join('\n\n'));
    }));
}
