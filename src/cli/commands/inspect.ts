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
import { action, emit, globals, warn } from '../common';

export interface TensorReport extends TensorStats {
  name: string;
  dtype: string;
  shape: number[];
}

export interface InspectReport {
  path: string;
  kind: 'safetensors' | 'npy' | 'npz' | 'sae';
  format?: string;
  sae?: { architecture: string; activation: string; d_in: number; d_sae: number; d_out: number; k?: number; hook_name: string | null; transcoder: boolean };
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
  } else {
    throw new InputError(path, `unsupported file type '${ext || '(none)'}' (expected .safetensors, .npy, .npz or an SAE folder)`);
  }
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
    .description('show the tensors of a .safetensors/.npy/.npz file, or an SAE folder: names, dtypes, shapes, min/max/mean, NaN/Inf counts')
    .argument('<paths...>', 'files or SAE folders')
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
