/**
 * Residual diagnostics: residual norms, spectrum with its spike, top residual directions, KKT vs STAT
 * per atom (flagged atoms clickable), amortisation gap, width gap against the wide limit, best-new-atom
 * gain, antipodal pairs and absorption. Sections the model lacks say what computes them.
 */
import type { DiagnosticsModel } from '../../src/protocol/viewModels';
import { barChart, histogram, scatter } from '../shared/charts';
import { clear, facts, h, latentLink, provenance, section } from '../shared/dom';
import { fmt, int, pct } from '../shared/format';

/** Absorption rates below this are not listed (they print as 0.0%). */
const ABSORPTION_FLOOR = 0.001;

const MISSING = 'Not computed: the diagnostics module gave no reason.';

/** A section the model lacks: what it would show, and the diagnostics module's reason for leaving it out. */
function missing(title: string, what: string, reason: string | undefined): HTMLElement {
  return section(title, h('p', 'muted', what), h('p', 'muted reason', reason ? `Not computed: ${reason}.`.replace(/\.\.$/, '.') : MISSING));
}

export function renderDiagnostics(root: HTMLElement, m: DiagnosticsModel, actions: { openFeature(latent: number): void }): void {
  clear(root);
  const open = actions.openFeature;
  root.append(h('header', 'page-header', h('h1', '', 'Residual diagnostics'), h('span', 'muted', `${m.sae.name} · ${m.sample ?? `${int(m.tokens)} tokens`} · λ_e = ${fmt(m.lambdaE)} (${m.lambdaSource})`)));
  if (m.notes.length) root.append(h('ul', 'notes', ...m.notes.map((n) => h('li', '', n))));
  if (m.findings?.length) {
    const order = { problem: 0, warning: 1, info: 2 } as const;
    const sorted = [...m.findings].sort((a, b) => order[a.severity] - order[b.severity]);
    const item = (f: (typeof sorted)[number]): HTMLElement => h('li', `finding finding-${f.severity}`, h('span', 'severity', f.severity), ' ', f.message);
    // The first few stay in view; the rest fold away so the charts are not pushed off screen.
    const shown = 6;
    const more = sorted.length > shown ? h('details', '', h('summary', '', `${sorted.length - shown} more findings`), h('ul', 'findings', ...sorted.slice(shown).map(item))) : '';
    root.append(section(`Findings (${sorted.length})`, h('ul', 'findings', ...sorted.slice(0, shown).map(item)), more));
  }
  const grid = h('div', 'grid-2');
  root.append(grid);
  // Charts measure their container: draw them once every section is in the grid.
  const draws: (() => void)[] = [];

  if (m.residualNorms) {
    const c = h('div', 'chart-cell');
    grid.append(section('Residual norm ‖r‖', provenance(m.residualNorms.source), c,
      h('p', 'explain', 'At the wide-dictionary optimum every residual is at most λ_e long (docs/theory.md §D1); mass to the right of the marker is what a wider or better dictionary could still explain.')));
    const values = m.residualNorms.values;
    draws.push(() => histogram(c, values, { title: 'residual norm per token', xLabel: '‖r‖', yLabel: 'tokens', marker: Number.isFinite(m.lambdaE) ? { x: m.lambdaE, label: 'λ_e' } : undefined }));
  } else grid.append(missing('Residual norm ‖r‖', 'Distribution of per-token residual norms.', m.reasons?.residualNorms));

  if (m.spectrum) {
    const c = h('div', 'chart-cell');
    const s = m.spectrum;
    grid.append(section('Residual spectrum', provenance(s.source), c, facts([
      ['spike ratio μ₁ / median μ', `${fmt(s.spikeRatio)}${s.spikeRatio > 5 ? ' — flagged (> 5)' : ''}`],
      ['effective rank', fmt(s.effectiveRank)],
    ]), h('p', 'explain', 'A spike is structure the dictionary has not learned: heavy-tailed along it means an unlearned sparse feature, Gaussian and two-sided means a dense direction (expect an antipodal pair at larger width).')));
    draws.push(() => barChart(c, s.eigenvalues, { title: 'eigenvalues of Cov(r), largest first', xLabel: 'rank', yLabel: 'eigenvalue', mark: s.spikeRatio > 5 ? 0 : undefined, markLabel: 'spike', logY: true, limit: 64 }));
  } else grid.append(missing('Residual spectrum', 'Eigenvalues of the residual covariance with the spike ratio and effective rank.', m.reasons?.spectrum));

  if (m.topDirections) {
    const t = m.topDirections;
    const table = h('table', 'data-table', h('tr', '', h('th', '', 'direction'), h('th', 'num', 'excess kurtosis'), h('th', 'num', 'max |cos| to an atom'), h('th', '', 'nearest atom')));
    t.kurtosis.forEach((k, i) => table.append(h('tr', '', h('td', '', `u${i + 1}`), h('td', 'num', fmt(k)), h('td', 'num', fmt(t.maxCosine[i]!)), h('td', '', latentLink(t.nearestAtom[i]!, open)))));
    grid.append(section('Top residual directions', provenance(t.source), h('div', 'table-scroll', table), h('p', 'explain', 'High kurtosis: a sparse feature is missing. Kurtosis near 0: a dense direction. High cosine to an atom: residue of partial absorption.')));
  } else grid.append(missing('Top residual directions', 'The top eigenvectors of Cov(r) with the kurtosis of the residual along each and its nearest atoms.', m.reasons?.topDirections));

  if (m.perAtom) {
    const p = m.perAtom;
    const c = h('div', 'chart-cell');
    const flagged: number[] = [];
    for (let i = 0; i < p.flagged.length; i++) if (p.flagged[i]) flagged.push(i);
    flagged.sort((a, b) => p.stationarity[b]! - p.stationarity[a]!);
    let live = 0;
    for (let i = 0; i < p.density.length; i++) if (p.density[i]! > 0) live++;
    grid.append(section('Per-atom optimality', provenance(p.source), c,
      h('p', '', `${int(flagged.length)} of ${int(live)} live atoms (${pct(live ? flagged.length / live : NaN)}) are flagged non-stationary; click a highlighted point to open its page.`),
      h('p', 'explain', 'KKT on support: how far the encoder is from the lasso code on tokens where the atom fires. STAT: how far the atom is from the direction of its code-weighted residual; both are 0 at a stationary dictionary.')));
    draws.push(() => scatter(c, p.kktOn, p.stationarity, {
      title: 'KKT on support vs STAT (live atoms)', xLabel: 'KKT_on', yLabel: 'STAT', highlighted: flagged, maxHighlighted: 300, onClick: open,
      describe: (i) => `#${i}: KKT_on ${fmt(p.kktOn[i]!)}, STAT ${fmt(p.stationarity[i]!)}, density ${fmt(p.density[i]!)}`,
      hLine: { y: 0.05, label: 'STAT 0.05' },
    }));
    if (flagged.length) grid.append(section('Most non-stationary atoms', h('ol', 'neighbours', ...flagged.slice(0, 12).map((i) => h('li', '', latentLink(i, open), h('span', 'num', `STAT ${fmt(p.stationarity[i]!)}`))))));
  } else grid.append(missing('Per-atom optimality', 'KKT and stationarity per atom.', m.reasons?.perAtom));

  if (m.amortisation) {
    const a = m.amortisation;
    grid.append(section('Amortisation gap', provenance(a.source), facts([
      ['objective gap (ℓ(ã) − ℓ(a*)) / ℓ(a*)', pct(a.objectiveGap)],
      ['support agreement (Jaccard)', fmt(a.supportJaccard)],
      ['encoder-dead latents', int(a.encoderDead)],
      ['dictionary-dead latents', int(a.dictionaryDead)],
    ]), h('p', 'explain', 'How much better the exact lasso codes a* do with the same dictionary: the part of the loss that is the encoder’s fault, not the dictionary’s. Encoder-dead latents are alive under a* and only need their encoder resampled.')));
  } else grid.append(missing('Amortisation gap', 'The encoder’s codes against the exact lasso codes for the same dictionary.', m.reasons?.amortisation));

  if (m.widthGap) {
    const w = m.widthGap;
    grid.append(section('Width gap', provenance(w.source), facts([
      ['objective F(D)', fmt(w.objective)],
      ['wide-limit bound F_∞', fmt(w.wideLimit)],
      ['width gap (F − F_∞) / F_∞', pct(w.gap)],
    ]), h('p', 'explain', 'F_∞ is the loss of an infinitely wide dictionary (each datum its own atom), a lower bound no dictionary can beat; the gap is what width and training could still gain.')));
  } else grid.append(missing('Width gap', 'The objective against the wide-dictionary lower bound F_∞ (docs/theory.md §D1).', m.reasons?.widthGap));

  if (m.bestNewAtom) {
    const b = m.bestNewAtom;
    grid.append(section('Best new atom', provenance(b.source), facts([['gain G*', fmt(b.gain)], ['share of ½E‖r‖²', pct(b.gainFraction)]]),
      h('p', 'explain', 'The loss one added atom could remove; 0 exactly when every residual is within λ_e (the infinite-width optimality condition).')));
  } else grid.append(missing('Best new atom', 'The gain of the best single atom one could add.', m.reasons?.bestNewAtom));

  if (m.antipodal) {
    const a = m.antipodal;
    const table = h('table', 'data-table', h('tr', '', h('th', '', 'pair'), h('th', 'num', 'cosine'), h('th', 'num', 'co-activation'), h('th', 'num', 'variance share'), h('th', '', 'kind')));
    a.a.forEach((i, k) => table.append(h('tr', '', h('td', '', latentLink(i, open), ' · ', latentLink(a.b[k]!, open)), h('td', 'num', fmt(a.cosine[k]!)), h('td', 'num', fmt(a.coactivation[k]!)), h('td', 'num', pct(a.varianceShare[k]!)), h('td', '', a.dense[k] ? 'dense' : 'sparse'))));
    grid.append(section(`Antipodal pairs (${a.a.length})`, provenance(a.source), a.a.length ? h('div', 'table-scroll', table) : h('p', 'muted', 'none found'),
      h('p', 'explain', 'Two near-opposite atoms that rarely fire together: nonnegative codes covering one dense two-sided direction.')));
  } else grid.append(missing('Antipodal pairs', 'Pairs with cos ≤ −0.9 that rarely co-fire.', m.reasons?.antipodal));

  if (m.absorption) {
    const a = m.absorption;
    const table = h('table', 'data-table', h('tr', '', h('th', '', 'parent'), h('th', '', 'absorber'), h('th', 'num', 'absorption rate'), h('th', 'num', 'cosine'), h('th', 'num', 'exclusivity'), h('th', '', 'full?')));
    // candidate pairs that absorb (almost) nothing would read as rows of "0.0%": listed only above the floor, strongest first
    const shown = Array.from(a.parent.keys()).filter((k) => a.rate[k]! >= ABSORPTION_FLOOR).sort((i, j) => a.rate[j]! - a.rate[i]!);
    for (const k of shown) table.append(h('tr', '', h('td', '', latentLink(a.parent[k]!, open)), h('td', '', latentLink(a.absorber[k]!, open)), h('td', 'num', pct(a.rate[k]!)), h('td', 'num', fmt(a.cosine[k]!)), h('td', 'num', fmt(a.exclusivity[k]!)), h('td', '', a.full[k] ? 'full' : 'partial')));
    const below = a.parent.length - shown.length;
    const belowNote = below ? h('p', 'muted', `${below} candidate pair${below === 1 ? '' : 's'} with an absorption rate below ${pct(ABSORPTION_FLOOR)} not listed`) : null;
    grid.append(section(`Absorption (${shown.length})`, provenance(a.source), shown.length ? h('div', 'table-scroll', table) : h('p', 'muted', 'none found'), belowNote,
      h('p', 'explain', 'A parent latent that stays silent where its direction is present because a more specific latent fires instead — the optimum for nested features, and a trap for interpretation.')));
  } else grid.append(missing('Absorption', 'Parents whose direction is taken over by more specific latents.', m.reasons?.absorption));
  for (const draw of draws) draw();
}
