/**
 * One latent's page: activation histogram, top and quantile-sampled examples (token context with
 * per-token shading, or row indices), nearest atoms, optimality diagnostics in plain sentences, and the
 * annotation editor.
 */
import type { AtomDiagnostics, Example, FeatureModel, Neighbours } from '../../src/protocol/viewModels';
import { histogram } from '../shared/charts';
import { button, clear, facts, h, latentLink, provenance, section, tokenText, visible } from '../shared/dom';
import { fmt, pct } from '../shared/format';
import { textArea, textField } from '../shared/elements';
import { atomSection } from './atomView';

export interface FeatureActions {
  openFeature(latent: number): void;
  /** Saves the annotation; resolves with the time it was saved. Absent in read-only views (the report). */
  annotate?(label: string, note: string): Promise<string>;
}

/** Re-renders the parts the whole-data pass fills in (activity, histogram, examples, logit effects). */
export type FeatureUpdater = (m: FeatureModel) => void;

export function renderFeature(root: HTMLElement, m: FeatureModel, actions: FeatureActions): FeatureUpdater {
  clear(root);
  const title = h('h1', '', `Latent #${m.latent}`);
  const label = h('span', 'feature-label', m.label ? visible(m.label) : 'unlabelled');
  label.dir = 'auto';
  root.append(h('header', 'page-header', title, label, h('span', 'muted', m.sae.name)));
  let parts = passParts(m);
  root.append(...parts);
  const near = h('div', 'grid-2');
  near.append(neighbours('Nearest atoms by decoder cosine', m.nearestByDecoder, 'cosine', actions.openFeature),
    neighbours('Nearest by co-activation (Jaccard of firing sets, on the evaluation sample)', m.nearestByCoactivation, 'Jaccard', actions.openFeature));
  root.append(section('Neighbours', near));
  if (m.atom) root.append(atomSection(m.atom));
  root.append(section('Optimality', ...diagnostics(m.diagnostics, actions.openFeature)));
  root.append(annotationEditor(m, actions));
  return (next) => {
    const fresh = passParts(next);
    parts.forEach((old, i) => old.replaceWith(fresh[i]!));
    parts = fresh;
  };
}

/** Shows how far the pass has got, between two updates of the page. */
export function showPassProgress(root: HTMLElement, rowsRead: number, rows: number): void {
  const bar = root.querySelector<HTMLProgressElement>('.pass-line progress');
  if (bar) { bar.value = rowsRead; bar.max = rows; bar.title = `${rowsRead.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows read`; }
}

/** The sections that come from the pass, in page order. */
function passParts(m: FeatureModel): HTMLElement[] {
  const line = h('p', 'pass-line muted', m.pass ? `Activity, histogram and examples over ${m.pass.describe}.` : 'Activity, histogram and examples over the evaluation sample.');
  if (m.pass && !m.pass.complete) {
    const bar = h('progress', 'pass-progress');
    bar.value = m.pass.rowsRead; bar.max = m.pass.rows;
    line.append(' ', bar);
  }
  const grid = h('div', 'grid-2');
  grid.append(section('Activity', facts([
    ['density', `${fmt(m.density)} (${pct(m.density, 2)} of tokens)`],
    ['mean activation (when firing)', fmt(m.meanActivation)],
    ['max activation', fmt(m.maxActivation)],
    ['decoder norm ‖d_i‖', fmt(m.decoderNorm)],
    ...(m.groundTruth ? [['closest true feature', `#${m.groundTruth.feature} of ${m.groundTruth.features}, decoder cosine ${fmt(m.groundTruth.cosine)}`] as [string, string]] : []),
  ])));
  const hist = h('div', 'chart-cell');
  grid.append(section('Activation histogram', hist));
  histogram(hist, undefined, { title: 'activation where the latent fires', xLabel: 'activation (log scale)', yLabel: 'tokens', binned: m.histogram, logX: true });

  const ex = h('div', '');
  if (!m.hasTokens) {
    const labelled = m.top.some((e) => e.label !== undefined);
    ex.append(h('p', 'muted no-tokens', `No token contexts: ${m.noTokens ?? 'no token ids and tokenizer beside the data'}.`,
      labelled ? ' Each row’s own label is shown.' : ' Put token ids (tokens.npy) and a tokenizer.json or vocab.json beside the activation file to see text, or a labels.txt with one label per row.'));
  }
  ex.append(h('h3', '', 'Top activations'), examples(m.top, m.maxActivation, m.hasTokens));
  for (const q of m.quantiles) {
    const count = q.count !== undefined ? ` · ${q.count.toLocaleString('en-US')} firings` : '';
    ex.append(h('h3', '', `Sampled from activations ${fmt(q.lo)} – ${fmt(q.hi)}${count}`), examples(q.examples, m.maxActivation, m.hasTokens));
  }
  return [line, grid, section('Examples', ex), logitSection(m)];
}

const KIND_CLASS = ['', 'tok-special', 'tok-partial', 'tok-unknown'];
const KIND_TITLE = ['', 'special token', 'first bytes of a character the next token completes', 'id not in the vocabulary'];

function examples(list: Example[], maxAct: number, hasTokens: boolean): HTMLElement {
  if (list.length === 0) return h('p', 'muted', 'no activations');
  const ol = h('ol', 'examples');
  for (const e of list) {
    const li = h('li', 'example', h('span', 'example-act', fmt(e.activation)));
    if (hasTokens && e.tokens && e.values) {
      const ctx = h('span', 'context');
      e.tokens.forEach((t, i) => {
        const kind = e.kinds?.[i] ?? 0;
        const tok = h('span', ['tok', i === e.focus ? 'tok-focus' : '', KIND_CLASS[kind] ?? ''].filter(Boolean).join(' '), tokenText(t));
        const v = e.values![i]!;
        tok.style.setProperty('--act', String(maxAct > 0 ? Math.min(1, Math.max(0, v / maxAct)) : 0));
        tok.title = [`activation ${fmt(v)}`, KIND_TITLE[kind]].filter(Boolean).join(' · ');
        ctx.append(tok);
      });
      li.append(ctx, h('span', 'muted row-index', `row ${e.row}`));
    } else if (e.label !== undefined) {
      const text = h('span', 'row-label', visible(e.label));
      text.dir = 'auto';
      li.append(text, h('span', 'muted row-index', `row ${e.row}`));
    } else li.append(h('span', 'row-index', `row ${e.row}`));
    ol.append(li);
  }
  return ol;
}

function logitSection(m: FeatureModel): HTMLElement {
  if (!m.logits) return section('Logit effects', h('p', 'muted', `No logit effects: ${m.noLogits ?? 'no W_U beside the data'}.`));
  const table = (title: string, t: { tokens: string[]; values: Float32Array }, cls: string): HTMLElement => {
    const list = h('ol', `logit-list ${cls}`);
    t.tokens.forEach((tok, i) => {
      const text = h('span', 'tok logit-tok', tokenText(tok));
      text.title = tokenText(tok);
      list.append(h('li', '', text, h('span', 'num', fmt(t.values[i]!))));
    });
    return h('div', '', h('h3', '', title), list);
  };
  const grid = h('div', 'logit-grid');
  grid.append(table('Promoted (top W_dec·W_U)', m.logits.top, 'logit-pos'), table('Suppressed (bottom)', m.logits.bottom, 'logit-neg'));
  const hist = h('div', 'chart-cell');
  grid.append(hist);
  histogram(hist, undefined, { title: 'effect on every vocabulary logit', xLabel: 'W_dec[i]·W_U', yLabel: 'tokens', binned: m.logits.histogram, logY: true });
  return section('Logit effects', h('p', 'muted', 'The direct effect of this latent’s decoder direction on the output logits through the unembedding (no final layer norm).'), grid);
}

function neighbours(title: string, n: Neighbours, what: string, open: (l: number) => void): HTMLElement {
  const list = h('ol', 'neighbours');
  n.latents.forEach((l, i) => list.append(h('li', '', latentLink(l, open), h('span', 'num', `${what} ${fmt(n.values[i]!)}`))));
  return h('div', '', h('h3', '', title), n.latents.length ? list : h('p', 'muted', 'none'));
}

/** One sentence per quantity: what it measures, and what a good value is (docs/theory.md §B4, C1–C4). */
function diagnostics(d: AtomDiagnostics | undefined, open: (l: number) => void): HTMLElement[] {
  if (!d) return [h('p', 'muted', 'No optimality diagnostics: they need the residuals of an SAE (not a transcoder without its targets) and a usable λ_e (see the diagnostics panel).')];
  const l0 = !Number.isFinite(d.lambdaE);
  const rows: [string, number | undefined, string][] = [
    ['KKT on support', d.kktOn, l0
      ? 'RMS of the residual along the atom (in units of the residual scale σ_r) where the latent fires; 0 means its magnitudes are least-squares optimal.'
      : 'RMS relative gap between ⟨d̂_i, r⟩ and λ_e where the latent fires; 0 means the encoder solves the lasso on its support (good < 0.25, poor > 0.5).'],
    ['KKT off support', d.kktOff, l0
      ? 'Fraction of tokens where the latent is off although the residual along its atom exceeds 1.1× its firing threshold (JumpReLU, BatchTopK) or the row’s smallest active code (TopK): activations the encoder missed.'
      : 'Fraction of tokens where the latent is off although the residual along its atom exceeds 1.1·λ_e: activations the encoder missed (good < 0.01, poor > 0.05).'],
    ['stationarity STAT', d.stationarity, l0
      ? 'Sine of the angle between the atom and its code-weighted residual E[ã_i r]; 0 at a stationary dictionary, so larger means gradient descent would still rotate this atom.'
      : 'Tangent of the angle between the atom and its code-weighted residual E[ã_i r]; 0 at a stationary dictionary, so larger means gradient descent would still rotate this atom.'],
    ['noise floor SE', d.noiseFloor, 'Standard error of STAT on this sample: STAT above max(3·SE, 0.05) counts as non-stationary (a heuristic threshold).'],
    ['radial RAD', d.radial, 'Relative mismatch between the atom’s norm and the one its codes call for (L1 models); 0 at an optimum.'],
  ];
  const out: HTMLElement[] = [];
  const dl = h('dl', 'explained');
  for (const [name, v, why] of rows) {
    if (v === undefined) continue;
    dl.append(h('dt', '', name, h('span', 'num', fmt(v))), h('dd', '', why));
  }
  out.push(h('p', '', l0 ? 'L0-type codes: targets are 0 and values are normalised by the residual scale.' : `λ_e = ${fmt(d.lambdaE)}, the threshold a lasso-optimal code would hold ⟨d̂_i, r⟩ at.`, ' ', provenance(d.source)));
  out.push(dl.childElementCount ? dl : h('p', 'muted', 'Not computed for this latent (dead, or no residuals).'));
  if (d.pullToward && d.pullToward.length) out.push(h('p', '', 'Wants to rotate toward: ', ...Array.from(d.pullToward, (l) => latentLink(l, open))));
  const FLAG_SENTENCES: Record<string, string> = {
    dead: 'Dead: it never fires on this sample, so its direction is unidentifiable and it is left out of geometric diagnostics.',
    dense: 'Dense: it fires on more than 10% of tokens; dense latents often come in antipodal pairs covering a two-sided direction.',
    antipodal: 'Antipodal: paired with a near-opposite atom that rarely fires together with it — nonnegative codes representing one dense direction.',
    absorbed: 'Absorbed: on some inputs where its direction is present, another latent fires instead of it.',
    absorber: 'Absorber: it takes over a parent direction on the inputs where it fires (feature absorption).',
    split: 'Split: in a wider SAE its role is shared among several near-exclusive children.',
    nonStationary: 'Non-stationary: STAT is above its noise floor, so this atom is not at a first-order optimum.',
  };
  if (d.flags.length) out.push(h('ul', 'flag-sentences', ...d.flags.map((f) => h('li', '', FLAG_SENTENCES[f] ?? f))));
  return out;
}

function annotationEditor(m: FeatureModel, actions: FeatureActions): HTMLElement {
  const labelIn = textField('text-input label-input', 'short label, e.g. "dates in French"', 'label', m.label);
  labelIn.maxlength = 200;
  const noteIn = textArea('text-input note-input', 'notes', 'note', m.note);
  noteIn.maxlength = 4000;
  const status = h('span', 'muted save-status');
  status.setAttribute('role', 'status');
  const form = h('form', 'annotation', h('label', 'field', 'Label', labelIn), h('label', 'field', 'Note', noteIn));
  if (actions.annotate) {
    const annotate = actions.annotate;
    const submit = (): void => {
      save.disabled = true;
      status.textContent = 'saving…';
      annotate(labelIn.value.trim(), noteIn.value).then((at) => {
        // the header shows the new label at once; the time reads as a time, not an ISO string
        const header = form.ownerDocument.querySelector('.page-header .feature-label');
        if (header) header.textContent = labelIn.value.trim() ? visible(labelIn.value.trim()) : 'unlabelled';
        status.textContent = `saved ${new Date(at).toLocaleString()}`;
      }, (err: Error) => { status.textContent = `not saved: ${err.message}`; })
        .finally(() => { save.disabled = false; });
    };
    const save = button('Save annotation', 'save', submit, 'btn primary');
    form.append(h('div', 'toolbar', save, status));
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  } else {
    labelIn.readonly = true;
    noteIn.readonly = true;
    form.append(h('p', 'muted', 'Read-only in a report: annotate in VS Code.'));
  }
  return section('Annotation', form);
}
