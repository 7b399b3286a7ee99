/** The dictionary overview: the SAE's card, its metrics, the per-latent distributions, training curves. */
import type { DictionaryModel, GroundTruthModel } from '../../src/protocol/viewModels';
import { histogram } from '../shared/charts';
import { button, clear, facts, h, section } from '../shared/dom';
import { fmt, int, pct } from '../shared/format';
import { trainingCharts } from '../training/view';

export interface DictionaryActions {
  openBrowser?: () => void;
  openDiagnostics?: () => void;
  openAtomMap?: () => void;
}

export function renderDictionary(root: HTMLElement, m: DictionaryModel, actions: DictionaryActions = {}): void {
  clear(root);
  const c = m.card;
  const title = h('header', 'page-header', h('h1', '', c.name), h('span', 'muted', `${c.transcoder ? 'transcoder' : 'SAE'} · ${c.architecture}`));
  const toolbar = h('div', 'toolbar');
  if (actions.openBrowser) toolbar.append(button('Browse all latents', 'list-flat', actions.openBrowser));
  if (actions.openDiagnostics) toolbar.append(button('Residual diagnostics', 'pulse', actions.openDiagnostics));
  if (actions.openAtomMap) toolbar.append(button('Atom map', 'graph-scatter', actions.openAtomMap));
  if (toolbar.childElementCount) title.append(toolbar);
  root.append(title);

  const grid = h('div', 'grid-2');
  grid.append(section('Card', facts([
    ['architecture', `${c.architecture}${c.k !== undefined ? ` (k = ${c.k})` : ''}`],
    ['widths', `d_in ${int(c.dIn)} → d_sae ${int(c.dSae)}${c.transcoder ? ` → d_out ${int(c.dOut)}` : ''}`],
    ['hook', c.hookName ?? '—'],
    ['model', c.modelName ?? '—'],
    ['training tokens', c.trainingTokens !== undefined ? int(c.trainingTokens) : '—'],
    ['engine', c.engine ?? '—'],
    ['stored as', `${c.format}, ${c.dtype}`],
    ['path', c.path || '—'],
    ...(c.matryoshkaWidths ? [['matryoshka widths', c.matryoshkaWidths.join(', ')] as [string, string]] : []),
  ])));
  const mt = m.metrics;
  const metric = (label: string, value: string, tip: string): HTMLElement => {
    const el = h('div', 'metric', h('div', 'metric-value', value), h('div', 'metric-label', label));
    el.title = tip;
    return el;
  };
  grid.append(section(m.measuredOn ? `Metrics on ${m.measuredOn}` : `Metrics on ${int(mt.tokens)} tokens`,
    h('div', 'metrics',
      metric('explained variance', fmt(mt.explainedVariance), '1 − E‖x − x̂‖² / (E‖x‖² − ‖E x‖²), numerator and denominator averaged separately'),
      metric('L0', fmt(mt.l0), 'mean number of active latents per token'),
      metric('dead', pct(mt.deadFraction), 'latents that never fire on this sample'),
      metric('dense', pct(mt.denseFraction), 'latents firing on more than 10% of tokens'),
      metric('MSE / element', fmt(mt.msePerElement), 'Σ‖x − x̂‖² / (tokens · d)'),
      metric('SSE / token', fmt(mt.ssePerToken), 'Σ‖x − x̂‖² / tokens'),
    ),
    m.notes.length ? h('ul', 'notes', ...m.notes.map((n) => h('li', '', n))) : null));
  root.append(grid);
  if (m.groundTruth) root.append(groundTruthCard(m.groundTruth));

  const L = m.latents;
  const logDensity = Float32Array.from(L.density, (d) => (d > 0 ? Math.log10(d) : NaN));
  const dead = L.density.reduce((a, d) => a + (d === 0 ? 1 : 0), 0);
  const charts = h('div', 'grid-2');
  // All cells exist before any chart measures its width (a lone grid item would span the whole row).
  const cells = [0, 1, 2, 3].map(() => h('div', 'chart-cell'));
  charts.append(...cells);
  let next = 0;
  const cell = (): HTMLElement => cells[next++]!;
  root.append(section('Distributions', charts));
  histogram(cell(), logDensity, { title: `log10 firing density (${int(dead)} dead latents not shown)`, xLabel: 'log10 density', yLabel: 'latents', marker: { x: -1, label: 'dense > 0.1' } });
  histogram(cell(), m.l0PerToken, { title: 'L0 per token', xLabel: 'active latents', yLabel: 'tokens' });
  histogram(cell(), L.decoderNorm, { title: 'decoder norms ‖d_i‖', xLabel: 'norm', yLabel: 'latents' });
  histogram(cell(), L.maxDecoderCosine, { title: `max decoder cosine to another atom${L.maxCosineExact ? '' : ' (lower bound, sampled)'}`, xLabel: 'cosine', yLabel: 'latents', logY: true });
  if (m.training && m.training.step.length) {
    const t = h('div', 'grid-2');
    root.append(section('Training curves', t));
    trainingCharts(t, m.training);
  }
}

/**
 * The SAE against the synthetic ground truth it was trained on (src/views/groundTruth.ts): each metric
 * with what it measures, or the one-line reason there is none. Text goes through h(), which makes control
 * and bidi characters in the path visible.
 */
export function groundTruthCard(g: GroundTruthModel): HTMLElement {
  const m = g.metrics;
  if (!m) return section('Ground truth', h('p', 'muted gt-reason', `Not available: ${g.reason ?? 'no ground truth is known for this SAE'}`));
  const row = (value: string, explanation: string): HTMLElement => h('span', '', h('strong', 'gt-value', value), h('span', 'muted', ` — ${explanation}`));
  const why = (key: string, fallback: string): string => m.reasons[key] ? `not computed: ${m.reasons[key]}` : fallback;
  return section('Ground truth',
    h('p', 'gt-verdict', m.verdict),
    facts([
      ['decoder MMCS', row(fmt(m.mmcs), 'mean over the true features of the best cosine with a live decoder atom (1 = every feature has an exact atom)')],
      ['recovery@0.9 / @0.95', row(`${pct(m.recovery90)} / ${pct(m.recovery95)}`, 'features whose best atom has cosine above 0.9 / 0.95; one atom may serve several features')],
      ['one-to-one @0.9 / @0.95', row(`${pct(m.recoveryHungarian90)} / ${pct(m.recoveryHungarian95)}`, `the same with each atom matched to at most one feature (Hungarian); mean matched cosine ${fmt(m.meanHungarianCos)}`)],
      ['L_GT', row(fmt(m.lGT), why('lGT', 'Σ(s − ŝ)² / Σs²: how far the matched latents\' activations (× decoder norm) are from the true coefficients (0 = exact)'))],
      ['AAF', row(fmt(m.aaf), `true features a live latent fires on, fed each feature alone (ideal 1); ${pct(m.polysemanticFraction)} of live latents fire on two or more`)],
      ['encoder max |cos|', row(fmt(m.encoderMaxAbsCos), 'mean best |cos| of a feature with an encoder row (M_IP); L1 encoders cancel interference, so a low value is not a dictionary failure')],
      ['compared on', `${int(m.features)} features, ${int(m.liveLatents)} live latents, ${int(m.rows)} rows`],
      ['ground truth', `${g.groundTruthPath} (found beside the ${g.foundBy === 'training log' ? 'activations the training log names' : 'evaluation activations'})`],
    ]));
}
