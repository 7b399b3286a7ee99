/**
 * The self-contained HTML report: the same views as the panels, fed from the model embedded in the page
 * (a non-executable <script type="application/json">), with tabs and #hash navigation
 * (#overview, #features, #feature/123, #map, #tree, #diagnostics, #training). Read-only: no annotation saving.
 */
import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import '../../media/standalone.css';
import { decodeModel } from '../../src/views/codec';
import type { FeatureModel, ReportModel } from '../../src/protocol/viewModels';
import { renderDictionary } from '../dictionary/view';
import { renderDiagnostics } from '../diagnostics/view';
import { renderAtomMap } from '../atomMap/view';
import { renderFeature } from '../feature/view';
import { FeatureBrowser } from '../features/view';
import { SplitTreeView } from '../splitTree/view';
import { button, clear, h, latentLink, section } from '../shared/dom';
import { trainingCharts } from '../training/view';

type Tab = 'overview' | 'features' | 'feature' | 'map' | 'tree' | 'diagnostics' | 'training';

const data = document.getElementById('report-data')?.textContent ?? '';
const model = decodeModel<ReportModel>(data);
const pages = new Map<number, FeatureModel>(model.features.map((f) => [f.latent, f]));
const app = document.getElementById('root')!;
const rendered = new Set<Tab>();
const views = new Map<Tab, HTMLElement>();

const tabs: [Tab, string, boolean][] = [
  ['overview', 'Overview', true],
  ['features', 'Latents', true],
  ['feature', 'Feature', model.features.length > 0],
  ['map', 'Atom map', !!model.atomMap],
  ['tree', 'Split tree', !!model.splitTree],
  ['diagnostics', 'Diagnostics', !!model.diagnostics],
  ['training', 'Training', !!(model.training ?? model.dictionary.training)],
];
const nav = h('nav', 'tabs');
nav.setAttribute('role', 'tablist');
const themeBtn = button('Light / dark', 'color-mode', () => {
  const dark = document.body.classList.contains('vscode-dark');
  document.body.classList.toggle('vscode-dark', !dark);
  document.body.classList.toggle('vscode-light', dark);
}, 'btn theme-toggle');
app.append(h('header', 'report-header', h('span', 'report-title', model.title), h('span', 'muted', `generated ${model.createdAt}`), themeBtn), nav);
for (const [id, title, enabled] of tabs) {
  if (!enabled) continue;
  const b = h('button', 'tab', title);
  b.type = 'button';
  b.setAttribute('role', 'tab');
  b.dataset.tab = id;
  b.addEventListener('click', () => { location.hash = id === 'feature' ? `feature/${currentFeature()}` : id; });
  nav.append(b);
  const v = h('main', 'tab-panel');
  v.setAttribute('role', 'tabpanel');
  v.hidden = true;
  views.set(id, v);
  app.append(v);
}

let shownFeature = model.features[0]?.latent ?? -1;
/** Latents the atom map's lasso selected, shown selected in the latent table. */
let preselect: number[] | undefined;
function currentFeature(): number { return shownFeature; }
function openFeature(latent: number): void { location.hash = `feature/${latent}`; }

function renderTab(tab: Tab, arg?: number): void {
  const v = views.get(tab)!;
  if (tab === 'feature') {
    const latent = arg ?? shownFeature;
    shownFeature = latent;
    const page = pages.get(latent);
    clear(v);
    const picker = h('select', 'feature-picker');
    picker.setAttribute('aria-label', 'feature pages in this report');
    for (const f of model.features) { const o = h('option', '', `#${f.latent}${f.label ? ` ${f.label}` : ''}`); o.value = String(f.latent); o.selected = f.latent === latent; picker.append(o); }
    picker.addEventListener('change', () => openFeature(Number(picker.value)));
    v.append(h('div', 'toolbar', h('label', 'field-inline', 'Feature pages in this report: ', picker)));
    const body = h('div', '');
    v.append(body);
    if (page) renderFeature(body, page, { openFeature });
    else body.append(section(`Latent #${latent}`, h('p', '', 'This report has no page for this latent (a report includes the pages chosen when it was written; raise --features to include more). Pages available: ', ...model.features.slice(0, 20).map((f) => latentLink(f.latent, openFeature)))));
    return;
  }
  if (rendered.has(tab)) return;
  rendered.add(tab);
  if (tab === 'overview') renderDictionary(v, model.dictionary, { openBrowser: () => { location.hash = 'features'; }, openDiagnostics: model.diagnostics ? () => { location.hash = 'diagnostics'; } : undefined });
  else if (tab === 'features') new FeatureBrowser(v, model.dictionary, { openFeature }, preselect ? { selected: preselect } : undefined);
  else if (tab === 'map' && model.atomMap) {
    // the report holds pages of its first SAE only; a lasso opens the latent table with the selection
    renderAtomMap(v, model.atomMap, {
      openFeature: (latent, sae) => { if (sae === 0) openFeature(latent); },
      openBrowser: (sae, latents) => { if (sae === 0) { rendered.delete('features'); clear(views.get('features')!); preselect = Array.from(latents); location.hash = 'features'; } },
      saveView: () => undefined,
    });
  } else if (tab === 'tree' && model.splitTree) new SplitTreeView(v, model.splitTree, { openFeature: (sae, latent) => (sae === 0 ? openFeature(latent) : undefined) });
  else if (tab === 'diagnostics' && model.diagnostics) renderDiagnostics(v, model.diagnostics, { openFeature });
  else if (tab === 'training') {
    const t = model.training ?? model.dictionary.training!;
    const g = h('div', 'grid-2');
    v.append(h('header', 'page-header', h('h1', '', 'Training')), section('Curves', g));
    trainingCharts(g, t);
  }
}

function route(): void {
  const [name, arg] = location.hash.replace(/^#/, '').split('/');
  const tab = (views.has(name as Tab) ? name : 'overview') as Tab;
  for (const [id, v] of views) v.hidden = id !== tab;
  for (const b of nav.querySelectorAll<HTMLButtonElement>('.tab')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  // Render after un-hiding so that charts measure their real width.
  renderTab(tab, arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : undefined);
}
window.addEventListener('hashchange', route);
route();
