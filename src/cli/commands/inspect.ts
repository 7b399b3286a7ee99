import type { Command } from 'commander';
import { inspectPath } from '../../formats/inspect';
import type { InspectReport } from '../../formats/inspect';
import { action, emit, globals, warn } from '../common';

// The inspection itself lives in src/formats/inspect.ts (the extension's tensor editor uses it too).
export { inspectPath } from '../../formats/inspect';
export type { InspectReport, TensorReport } from '../../formats/inspect';

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
  if (r.capture) {
    const c = r.capture;
    lines.push(`  capture: model ${c.model ?? '(unknown)'}, ${c.rows} rows in ${c.shards} shard(s), ${c.dtype}, context ${c.context_length ?? '?'}${c.complete ? '' : ' (unfinished)'}`);
    lines.push(`  sites: ${c.sites.map((s) => `${s.name} (d ${s.d})`).join(', ')}`);
    lines.push(`  token ids, doc, pos; tokenizer ${c.tokenizer ?? '(none)'}; W_U ${c.W_U ?? '(none)'}`);
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
    .description('show the tensors of a .safetensors/.npy/.npz/.pt file, an SAE in any supported format (SAELens, sparsify, dictionary_learning, OpenAI, GemmaScope, transcoders, crosscoders), a SAELens activation cache or a capture folder: names, dtypes, shapes, min/max/mean, NaN/Inf counts')
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
