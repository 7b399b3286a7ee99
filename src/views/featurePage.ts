/**
 * The parts of a feature page that come from the whole-data pass (./featurePass.ts): activity, the
 * activation histogram, top examples and examples by band, each shown in its token context (decoded by
 * src/tokens, shaded by this latent's activation on every context token) or with its row label; and the
 * latent's logit effects when W_U is known.
 *
 * Context rows are re-encoded here (a few hundred rows per page) with the same sparse encoder as the
 * pass, so shading is exact on every token of the window, not only on the example rows.
 */
import { basename } from 'node:path';
import { encodeSparse } from '../diagnostics/encoderCodes';
import type { Sae } from '../sae/types';
import { oneLine } from '../errors';
import { rowTextFor } from '../tokens/rows';
import type { RowText } from '../tokens/rows';
import type { FeatureStats } from './featureStats';
import { describePassRows, passRowCount } from './featurePass';
import type { PassSource } from './featurePass';
import { logitEffects, readUnembedding } from './logitEffects';
import type { Unembedding } from './logitEffects';
import type { Example, FeatureModel, PassCoverage } from '../protocol/viewModels';

/** Everything the pass gives a page: its statistics (possibly still filling), the rows, their text. */
export interface FeaturePassData {
  stats: FeatureStats;
  source: PassSource;
  text: RowText;
  unembedding?: Unembedding;
  /** Why W_U could not be used, when a file was there. */
  unembeddingError?: string;
}

/** Tokens before and after the firing token in a context window (within its document). */
export const CONTEXT_BEFORE = 12, CONTEXT_AFTER = 4;
export const TOP_EXAMPLES = 10, BANDS = 5, BAND_EXAMPLES = 4;

export type PassFields = Pick<FeatureModel, 'density' | 'meanActivation' | 'maxActivation' | 'histogram' | 'top' | 'quantiles' | 'hasTokens' | 'noTokens' | 'pass' | 'logits' | 'noLogits'>;

/**
 * How far the pass has got, in one line for the page, the report and the CLI. Over a sample the line names
 * it ("a uniform sample of 16,384 of 1,000,000 rows (seed 0)") and what that makes of the figures.
 */
export function passCoverage(d: FeaturePassData): PassCoverage {
  const { stats, source } = d;
  const rows = passRowCount(source);
  const rowsRead = stats.rowsSeen + stats.skippedNonFinite;
  const complete = rowsRead >= rows;
  const n = (v: number): string => v.toLocaleString('en-US');
  const skipped = stats.skippedNonFinite ? `; ${n(stats.skippedNonFinite)} rows with NaN/Inf left out` : '';
  const file = basename(source.path);
  const sampled = source.sample ? ': density, mean, max and histogram are estimates from the sample, top examples the top within it' : '';
  const describe = complete
    ? `${describePassRows(source)} of ${file} (one pass)${sampled}${skipped}`
    : source.sample
      ? `the first ${n(rowsRead)} rows of ${describePassRows(source)} of ${file} so far — the pass is still running${skipped}`
      : `the first ${n(rowsRead)} of ${n(rows)} rows of ${file} so far — the pass is still running${skipped}`;
  return { rowsRead, rows, complete, describe };
}

/** The window [lo, hi) around a row, inside its document when tokens tell documents apart. */
function windowOf(d: FeaturePassData, row: number): [number, number] {
  const doc = d.text.tokens ? d.text.tokens.documentOf(row) : [row, row + 1];
  return [Math.max(doc[0], row - CONTEXT_BEFORE), Math.min(doc[1], row + CONTEXT_AFTER + 1)];
}

/** Builds the examples of one latent; windows are read and encoded in one go. */
function examples(sae: Sae, d: FeaturePassData, latent: number, picks: { row: number; activation: number }[]): Example[] {
  const tokens = d.text.tokens, labels = d.text.labels;
  if (!tokens) return picks.map(({ row, activation }) => ({ row, activation, label: labels?.texts[row] }));
  const windows = picks.map((p) => windowOf(d, p.row));
  const total = windows.reduce((a, [lo, hi]) => a + hi - lo, 0);
  const { dIn } = sae.cfg;
  const x = new Float32Array(total * dIn);
  let at = 0;
  for (const [lo, hi] of windows) { x.set(d.source.read(lo, hi), at * dIn); at += hi - lo; }
  // NaN rows in a window encode to no firing: shade them as 0 rather than fail the page
  for (let t = 0; t < x.length; t++) if (!Number.isFinite(x[t]!)) x[t] = 0;
  const codes = encodeSparse(sae, x, total, { keep: 'norms', values: 'raw', chunkRows: 64 }).codes;
  const valueAt = (r: number): number => {
    for (let t = codes.rowPtr[r]!; t < codes.rowPtr[r + 1]!; t++) if (codes.idx[t] === latent) return codes.val[t]!;
    return 0;
  };
  at = 0;
  return picks.map(({ row, activation }, e) => {
    const [lo, hi] = windows[e]!;
    const docStart = tokens.documentOf(row)[0];
    // up to three tokens before the window complete a character cut at its start
    const lead = Math.max(docStart, lo - 3);
    const dec = tokens.decoder.decode(tokens.ids.subarray(lead, hi), lo - lead, hi - lead, 0);
    const values = Float32Array.from({ length: hi - lo }, (_, t) => valueAt(at + t));
    at += hi - lo;
    return { row, activation, tokens: dec.texts, kinds: dec.kinds, values, focus: row - lo, label: labels?.texts[row] };
  });
}

/** The pass's fields of latent i's feature page. */
export function passFields(sae: Sae, d: FeaturePassData, latent: number): PassFields {
  const s = d.stats;
  const top = s.top(latent);
  const shown = Math.min(TOP_EXAMPLES, top.rows.length);
  const bands = s.bands(latent, BANDS, BAND_EXAMPLES);
  const picks = [
    ...Array.from({ length: shown }, (_, t) => ({ row: top.rows[t]!, activation: top.values[t]! })),
    ...bands.flatMap((b) => Array.from(b.rows, (row, t) => ({ row, activation: b.values[t]! }))),
  ];
  const all = examples(sae, d, latent, picks);
  let next = shown;
  const quantiles = bands.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count, examples: all.slice(next, (next += b.rows.length)) }));
  const fields: PassFields = {
    density: s.density(latent), meanActivation: s.meanActivation(latent), maxActivation: s.max[latent]!,
    histogram: s.histogram(latent), top: all.slice(0, shown), quantiles,
    hasTokens: !!d.text.tokens, noTokens: d.text.tokens ? undefined : d.text.noTokens, pass: passCoverage(d),
  };
  if (d.unembedding) fields.logits = logitEffects(sae, latent, d.unembedding, d.text.tokens?.decoder);
  else fields.noLogits = d.unembeddingError ?? 'no W_U beside the data (W_U.safetensors or W_U.npy): logit effects need the model\'s unembedding';
  return fields;
}

/** The page data around pass statistics: the rows' text and W_U found beside the data (src/tokens/rows.ts). */
export function pageData(sae: Sae, stats: FeatureStats, source: PassSource): FeaturePassData {
  const text = rowTextFor(source.path, source.rows, source.seqLen);
  const d: FeaturePassData = { stats, source, text };
  if (text.unembeddingPath) {
    try { d.unembedding = readUnembedding(text.unembeddingPath, sae.cfg.dOut); } catch (e) { d.unembeddingError = oneLine(e); }
  }
  return d;
}

/**
 * A short label for a latent from the pass (split-tree nodes, when no annotation names it): the distinct
 * firing tokens of its top examples, else their row labels; '' when it never fired.
 */
export function exampleLabel(d: FeaturePassData, latent: number, count = 3): string {
  const rows = d.stats.top(latent).rows;
  const seen: string[] = [];
  for (const row of rows) {
    const tokens = d.text.tokens;
    const text = tokens ? tokens.decoder.token(tokens.ids[row]!).trim() : d.text.labels?.texts[row]?.trim();
    if (text && !seen.includes(text)) seen.push(text);
    if (seen.length >= count) break;
  }
  return seen.map((t) => `“${t}”`).join(' ');
}
