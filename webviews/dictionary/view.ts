/** The dictionary overview: the SAE's card, its metrics, the per-latent distributions, training curves. */
import type { DictionaryModel } from '../../src/report/model';
import { histogram } from '../shared/charts';
import { button, clear, facts, h, section } from '../shared/dom';
import { fmt, int, pct } from '../shared/format';
import { trainingCharts } from '../training/view';

export interface DictionaryActions {
  openBrowser?: () => void;
  openDiagnostics?: () => void;
}

export function renderDictionary(root: HTMLElement, m: DictionaryModel, actions: DictionaryActions = {}): void {
  clear(root);
  const c = m.card;
  const title = h('header', 'page-header', h('h1', '', c.name), h('span', 'muted', `${c.transcoder ? 'transcoder' : 'SAE'} · ${c.architecture}`));
  const toolbar = h('div', 'toolbar');
  if (actions.openBrowser) toolbar.append(button('Browse all latents', 'list-flat', actions.openBrowser));
  if (actions.openDiagnostics) toolbar.append(button('Residual diagnostics', 'pulse', actions.openDiagnostics));
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
  grid.append(section(`Metrics on ${int(mt.tokens)} tokens`,
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
