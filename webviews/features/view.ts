/**
 * The feature browser: every latent in a virtualised, sortable, filterable table; search by label or
 * #index; flag filters; multi-select with a side-by-side comparison.
 */
import type { DictionaryModel, FlagName } from '../../src/protocol/viewModels';
import { FLAG, FLAG_NAMES } from '../../src/protocol/viewModels';
import { button, clear, h, latentLink, section, visible } from '../shared/dom';
import { fmt, int, pct } from '../shared/format';
import { VirtualTable } from '../shared/virtualTable';
import { checkbox, textField } from '../shared/elements';
import type { Column } from '../shared/virtualTable';

export interface BrowserState {
  sortKey: string;
  sortDesc: boolean;
  query: string;
  flags: FlagName[];
  hideDead: boolean;
  selected: number[];
  scrollTop: number;
}

export interface BrowserActions {
  openFeature(latent: number): void;
  compare?(latents: Int32Array): void;
  saveState?(s: BrowserState): void;
}

const FLAG_TIPS: Record<FlagName, string> = {
  dead: 'never fires on the sample',
  dense: 'fires on more than 10% of tokens',
  antipodal: 'one of a dense antipodal pair (cos ≤ −0.9, rarely co-active)',
  absorbed: 'a parent whose firing is taken over by another latent on some inputs',
  absorber: 'a latent that absorbs a parent direction',
  split: 'splits into several latents in a wider SAE',
  nonStationary: 'STAT above its noise floor: the atom is not at a stationary point',
};

export const DEFAULT_BROWSER_STATE: BrowserState = { sortKey: 'index', sortDesc: false, query: '', flags: [], hideDead: false, selected: [], scrollTop: 0 };

export class FeatureBrowser {
  private readonly table: VirtualTable;
  private readonly labels = new Map<number, string>();
  private readonly selected: Set<number>;
  private readonly countLine = h('div', 'muted count-line');
  private readonly compareBox = h('div', 'compare');
  private readonly compareBtn: HTMLElement & { disabled: boolean };
  private state: BrowserState;
  private readonly pages: Set<number> | undefined;

  constructor(root: HTMLElement, private readonly m: DictionaryModel, private readonly actions: BrowserActions, initial?: Partial<BrowserState>) {
    this.state = { ...DEFAULT_BROWSER_STATE, ...initial };
    this.selected = new Set(this.state.selected);
    m.latents.labels.latents.forEach((l, i) => this.labels.set(l, m.latents.labels.texts[i]!));
    this.pages = m.latents.pages && m.latents.pages.length ? new Set(m.latents.pages) : undefined;
    clear(root);
    const L = m.latents;
    const num = (key: string, title: string, col: Float32Array, f: (v: number) => string, tip: string): Column => ({
      key, title, width: '96px', numeric: true, sortable: true, tooltip: tip, render: (r, cell) => { cell.textContent = f(col[r]!); },
    });
    const columns: Column[] = [
      { key: 'select', title: '', width: '28px', render: (r, cell) => {
        let box = cell.firstElementChild as HTMLElement | null;
        if (!box) { box = h('span', 'select-box codicon'); box.setAttribute('role', 'checkbox'); cell.append(box); }
        const on = this.selected.has(r);
        box.className = `select-box codicon ${on ? 'codicon-pass-filled' : 'codicon-circle-large-outline'}`;
        box.setAttribute('aria-checked', String(on));
        box.setAttribute('aria-label', `select latent ${r}`);
      } },
      { key: 'index', title: 'latent', width: '80px', numeric: true, sortable: true, render: (r, cell) => { cell.textContent = `#${r}`; } },
      { key: 'label', title: 'label', width: 'minmax(140px, 1fr)', sortable: true, render: (r, cell) => {
        const t = this.labels.get(r);
        cell.textContent = t ? visible(t) : '';
        cell.title = t ? visible(t) : '';
        cell.dir = 'auto';
      } },
      num('density', 'density', L.density, (v) => (v === 0 ? '0' : fmt(v)), 'fraction of tokens where the latent fires'),
      num('mean', 'mean act.', L.meanActivation, (v) => fmt(v), 'mean activation where it fires'),
      num('max', 'max act.', L.maxActivation, (v) => fmt(v), 'largest activation on the sample'),
      num('stat', 'STAT', L.stationarity, (v) => fmt(v), `stationarity score (docs/theory.md §B4): how far the atom is from the direction of its code-weighted residual${L.stationaritySource ? ` [${L.stationaritySource}]` : ''}`),
      { key: 'flags', title: 'flags', width: 'minmax(120px, 0.8fr)', render: (r, cell) => {
        const f = L.flags[r]!;
        cell.textContent = FLAG_NAMES.filter((n) => f & FLAG[n]).map(short).join(' ');
      } },
    ];
    this.table = new VirtualTable({
      columns, label: 'latents',
      onActivate: (r) => this.actions.openFeature(r),
      onToggleSelect: (r) => this.toggle(r),
      isSelected: (r) => this.selected.has(r),
      onSort: (key) => this.sortBy(key),
      onScroll: (top) => { this.state.scrollTop = top; this.save(); },
    });

    const search = textField('search', 'Search labels, or #index', 'search latents by label or index', this.state.query);
    search.addEventListener('input', () => { this.state.query = search.value; this.apply(); });
    const chips = h('div', 'chips');
    for (const name of FLAG_NAMES) {
      const chip = h('button', 'chip', short(name));
      chip.type = 'button';
      chip.title = `only ${name}: ${FLAG_TIPS[name]}`;
      chip.setAttribute('aria-pressed', String(this.state.flags.includes(name)));
      chip.dataset.flag = name;
      chip.addEventListener('click', () => {
        const on = !this.state.flags.includes(name);
        this.state.flags = on ? [...this.state.flags, name] : this.state.flags.filter((f) => f !== name);
        chip.setAttribute('aria-pressed', String(on));
        this.apply();
      });
      chips.append(chip);
    }
    const hide = checkbox('hide dead', this.state.hideDead, (on) => { this.state.hideDead = on; this.apply(); });
    this.compareBtn = button('Compare selected', 'diff-multiple', () => this.showCompare());
    root.append(
      h('header', 'page-header', h('h1', '', 'Latents'), h('span', 'muted', `${int(L.count)} in ${m.card.name}`)),
      h('div', 'toolbar filters', search, hide, this.compareBtn, button('Clear selection', 'clear-all', () => { this.selected.clear(); this.afterSelect(); })),
      chips, this.countLine, this.table.element, this.compareBox);
    this.apply();
    this.table.scrollTop = this.state.scrollTop;
    this.afterSelect();
  }

  private value(key: string): ((r: number) => number) | undefined {
    const L = this.m.latents;
    switch (key) {
      case 'density': return (r) => L.density[r]!;
      case 'mean': return (r) => L.meanActivation[r]!;
      case 'max': return (r) => L.maxActivation[r]!;
      case 'stat': return (r) => L.stationarity[r]!;
      default: return undefined;
    }
  }

  sortBy(key: string): void {
    if (this.state.sortKey === key) this.state.sortDesc = !this.state.sortDesc;
    else { this.state.sortKey = key; this.state.sortDesc = key !== 'index' && key !== 'label'; }
    this.apply();
  }

  /** Filters then sorts into a typed permutation (NaN sorts last either way). */
  apply(): void {
    const L = this.m.latents;
    const q = this.state.query.trim().toLowerCase();
    const byIndex = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : undefined;
    let mask = 0;
    for (const f of this.state.flags) mask |= FLAG[f];
    const keep: number[] = [];
    for (let r = 0; r < L.count; r++) {
      if (this.state.hideDead && L.flags[r]! & FLAG.dead) continue;
      if (mask && (L.flags[r]! & mask) !== mask) continue;
      if (byIndex !== undefined) { if (r !== byIndex) continue; }
      else if (q && !(this.labels.get(r) ?? '').toLowerCase().includes(q)) continue;
      keep.push(r);
    }
    const order = Int32Array.from(keep);
    const key = this.state.sortKey, desc = this.state.sortDesc;
    const val = this.value(key);
    if (val) {
      const v = Float64Array.from(order, val);
      const pos = Int32Array.from(order.keys());
      pos.sort((a, b) => {
        const x = v[a]!, y = v[b]!;
        const xn = Number.isNaN(x), yn = Number.isNaN(y);
        if (xn || yn) return xn === yn ? order[a]! - order[b]! : xn ? 1 : -1;
        return (desc ? y - x : x - y) || order[a]! - order[b]!;
      });
      const sorted = Int32Array.from(pos, (p) => order[p]!);
      order.set(sorted);
    } else if (key === 'label') {
      const lab = (r: number): string => this.labels.get(r) ?? '';
      const arr = Array.from(order).sort((a, b) => {
        const x = lab(a), y = lab(b);
        if (!x || !y) return x === y ? a - b : x ? -1 : 1;
        return (desc ? y.localeCompare(x) : x.localeCompare(y)) || a - b;
      });
      order.set(arr);
    } else if (desc) order.reverse();
    this.table.setSortIndicator(key, desc);
    this.table.setRows(order);
    this.countLine.textContent = `${int(order.length)} of ${int(L.count)} latents shown · ${this.selected.size} selected`;
    this.save();
  }

  private toggle(r: number): void {
    if (this.selected.has(r)) this.selected.delete(r); else this.selected.add(r);
    this.afterSelect();
  }

  private afterSelect(): void {
    this.compareBtn.disabled = this.selected.size < 2;
    this.table.refresh();
    this.countLine.textContent = this.countLine.textContent.replace(/\d+ selected$/, `${this.selected.size} selected`);
    this.state.selected = [...this.selected].sort((a, b) => a - b);
    this.save();
    if (this.compareBox.childElementCount) this.showCompare();
  }

  private showCompare(): void {
    clear(this.compareBox);
    const sel = Int32Array.from([...this.selected].sort((a, b) => a - b));
    if (sel.length < 2) return;
    this.actions.compare?.(sel);
    const L = this.m.latents;
    const table = h('table', 'compare-table');
    const rows: [string, (r: number) => string | HTMLElement][] = [
      ['latent', (r) => latentLink(r, (l) => this.actions.openFeature(l))],
      ['label', (r) => visible(this.labels.get(r) ?? '—')],
      ['density', (r) => fmt(L.density[r]!)],
      ['mean activation', (r) => fmt(L.meanActivation[r]!)],
      ['max activation', (r) => fmt(L.maxActivation[r]!)],
      ['decoder norm', (r) => fmt(L.decoderNorm[r]!)],
      ['max decoder cosine', (r) => fmt(L.maxDecoderCosine[r]!)],
      ['STAT', (r) => fmt(L.stationarity[r]!)],
      ['flags', (r) => FLAG_NAMES.filter((n) => L.flags[r]! & FLAG[n]).map(short).join(', ') || '—'],
      ['page', (r) => (this.pages && !this.pages.has(r) ? 'not in this report' : 'available')],
    ];
    for (const [name, f] of rows) table.append(h('tr', '', h('th', '', name), ...Array.from(sel, (r) => h('td', '', f(r)))));
    this.compareBox.append(section(`Comparing ${sel.length} latents`, h('div', 'table-scroll', table), h('p', 'muted', `share of tokens: ${Array.from(sel, (r) => `#${r} ${pct(L.density[r]!)}`).join(' · ')}`)));
  }

  private save(): void { this.actions.saveState?.({ ...this.state }); }
}

function short(name: FlagName): string {
  return name === 'nonStationary' ? 'non-stationary' : name;
}
