/**
 * Feature dashboards in Neuronpedia's upload shape (the batch files SAEDashboard's Neuronpedia runner
 * writes): one object per feature with its logit tables (`pos_str`/`pos_values`, `neg_str`/`neg_values`),
 * firing frequency, the activation and logit histograms as bar heights and bar centres, and its
 * activation examples (`tokens`, `values`, the band they were drawn from). Our feature pages are the
 * source: this writes what they show, computed by the whole-data pass.
 */
import { writeFileAtomic } from '../io/atomic';
import type { Example, FeatureModel } from '../protocol/viewModels';

export interface NeuronpediaActivation {
  bin_min: number;
  bin_max: number;
  bin_contains: number;
  tokens: string[];
  values: number[];
  /** Index of the example's own token in `tokens`. */
  qualifying_token_index: number;
}

export interface NeuronpediaFeature {
  feature_index: number;
  label: string;
  frac_nonzero: number;
  max_activation: number;
  pos_str: string[];
  pos_values: number[];
  neg_str: string[];
  neg_values: number[];
  freq_hist_data_bar_heights: number[];
  freq_hist_data_bar_values: number[];
  logits_hist_data_bar_heights: number[];
  logits_hist_data_bar_values: number[];
  activations: NeuronpediaActivation[];
}

export interface NeuronpediaBatch {
  model_id: string;
  layer: string;
  /** What the statistics were computed on (our addition; Neuronpedia ignores unknown keys). */
  computed_on: string;
  features: NeuronpediaFeature[];
}

const round = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(6)) : 0);

function bars(h: { edges: Float32Array; counts: Uint32Array }): { heights: number[]; values: number[] } {
  return { heights: Array.from(h.counts), values: Array.from(h.counts, (_, b) => round((h.edges[b]! + h.edges[b + 1]!) / 2)) };
}

function activation(e: Example, lo: number, hi: number, count: number): NeuronpediaActivation {
  // without token contexts the example is its row label, or its row
  const tokens = e.tokens ?? [e.label ?? `row ${e.row}`];
  return {
    bin_min: round(lo), bin_max: round(hi), bin_contains: count, tokens,
    values: e.values ? Array.from(e.values, round) : [round(e.activation)], qualifying_token_index: e.focus ?? 0,
  };
}

export function neuronpediaFeature(m: FeatureModel): NeuronpediaFeature {
  const hist = bars(m.histogram);
  const logits = m.logits ? bars(m.logits.histogram) : { heights: [], values: [] };
  return {
    feature_index: m.latent, label: m.label, frac_nonzero: round(m.density), max_activation: round(m.maxActivation),
    pos_str: m.logits?.top.tokens ?? [], pos_values: m.logits ? Array.from(m.logits.top.values, round) : [],
    neg_str: m.logits?.bottom.tokens ?? [], neg_values: m.logits ? Array.from(m.logits.bottom.values, round) : [],
    freq_hist_data_bar_heights: hist.heights, freq_hist_data_bar_values: hist.values,
    logits_hist_data_bar_heights: logits.heights, logits_hist_data_bar_values: logits.values,
    // top examples are bin -1 in SAEDashboard's files (the top of the range); bands follow, highest first
    activations: [
      ...m.top.map((e) => activation(e, m.top[m.top.length - 1]?.activation ?? 0, m.maxActivation, m.top.length)),
      ...m.quantiles.flatMap((q) => q.examples.map((e) => activation(e, q.lo, q.hi, q.count ?? q.examples.length))),
    ],
  };
}

export function neuronpediaBatch(features: FeatureModel[], meta: { modelId?: string; layer?: string; computedOn: string }): NeuronpediaBatch {
  return { model_id: meta.modelId ?? '', layer: meta.layer ?? '', computed_on: meta.computedOn, features: features.map(neuronpediaFeature) };
}

export function writeNeuronpedia(path: string, batch: NeuronpediaBatch): number {
  const text = JSON.stringify(batch) + '\n';
  writeFileAtomic(path, text);
  return Buffer.byteLength(text);
}
