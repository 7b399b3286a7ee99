/**
 * The tensor-file editor's webview: a sortable, filterable table of tensors (name, dtype, shape, size,
 * statistics). Everything from the file is rendered with textContent, never as HTML. View state (filter,
 * sort) is kept with setState so it survives the tab being hidden.
 */
import { MessageHandler } from '../../src/runtime/rpc';
import type { TensorEditorHostEvents, TensorEditorWebviewEvents } from '../../src/protocol/tensorEditor';
import type { InspectReport, TensorListing } from '../../src/formats/inspect';

interface VsCodeApi { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

type SortKey = 'name' | 'dtype' | 'size' | 'min' | 'max' | 'mean';
interface ViewState { filter: string; sortKey: SortKey; descending: boolean }
interface Row { name: string; dtype: string; shape: number[]; bytes?: number; min?: number; max?: number; mean?: number; nan?: number; inf?: number }

const vscode = acquireVsCodeApi();
const saved = vscode.getState() as Partial<ViewState> | undefined;
const view: ViewState = { filter: saved?.filter ?? '', sortKey: saved?.sortKey ?? 'name', descending: saved?.descending ?? false };
type Empty = Record<string, never>;
const rpc = new MessageHandler<Empty, TensorEditorWebviewEvents, Empty, TensorEditorHostEvents>((m) => vscode.postMessage(m));
window.addEventListener('message', (e: MessageEvent) => { void rpc.receive(e.data); });

let fileName = '';
let listing: TensorListing | null = null;
let report: InspectReport | null = null;
let sae: TensorEditorHostEvents['tensorEditor/listing']['sae'] = null;
let failure: string | null = null;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '…';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toFixed(4);
}

function fmtBytes(b: number | undefined): string {
  if (b === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0, v = b;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function rows(): Row[] {
  const byName = new Map<string, Row>();
  for (const t of listing?.tensors ?? []) byName.set(t.name, { ...t });
  for (const t of report?.tensors ?? []) byName.set(t.name, { ...byName.get(t.name), ...t });
  const q = view.filter.trim().toLowerCase();
  const list = [...byName.values()].filter((r) => !q || r.name.toLowerCase().includes(q));
  const key = view.sortKey;
  const val = (r: Row): string | number => key === 'name' || key === 'dtype' ? r[key] : key === 'size' ? (r.bytes ?? r.shape.reduce((a, b) => a * b, 1)) : (r[key] ?? Number.NEGATIVE_INFINITY);
  list.sort((a, b) => {
    const x = val(a), y = val(b);
    const c = typeof x === 'string' ? x.localeCompare(String(y), undefined, { numeric: true }) : (x as number) - (y as number);
    return view.descending ? -c : c;
  });
  return list;
}

function header(): HTMLElement {
  const h = el('header', 'file-header');
  h.append(el('h1', 'file-name', fileName));
  const kind = report?.kind ?? listing?.kind;
  const n = (report?.tensors ?? listing?.tensors ?? []).length;
  h.append(el('p', 'muted', `${kind ?? ''} · ${n} tensor${n === 1 ? '' : 's'}${report ? '' : ' · computing statistics…'}`));
  if (sae) {
    const banner = el('div', 'sae-banner');
    banner.append(el('span', 'sae-text', `SAE weights: ${sae.architecture}${sae.k !== undefined ? ` (k=${sae.k})` : ''} · ${sae.dSae.toLocaleString('en-US')} latents · d_in ${sae.dIn}${sae.hookName ? ` · ${sae.hookName}` : ''}`));
    const open = el('button', 'primary', 'Open as SAE');
    open.id = 'open-as-sae';
    open.addEventListener('click', () => rpc.event('tensorEditor/openAsSae', {}));
    banner.append(open);
    h.append(banner);
  }
  return h;
}

function table(): HTMLElement {
  const t = el('table', 'tensors');
  const head = el('tr');
  const cols: [string, SortKey | null, string][] = [['Name', 'name', ''], ['Dtype', 'dtype', ''], ['Shape', null, ''], ['Size', 'size', 'num'], ['Min', 'min', 'num'], ['Max', 'max', 'num'], ['Mean', 'mean', 'num'], ['NaN / Inf', null, 'num']];
  for (const [label, key, cls] of cols) {
    const th = el('th', cls, label + (key && key === view.sortKey ? (view.descending ? ' ▼' : ' ▲') : ''));
    if (key) {
      th.classList.add('sortable');
      th.tabIndex = 0;
      th.setAttribute('role', 'button');
      const sort = () => { view.descending = view.sortKey === key ? !view.descending : false; view.sortKey = key; vscode.setState(view); render(); };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') sort(); });
    }
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  for (const r of rows()) {
    const tr = el('tr');
    const bad = (r.nan ?? 0) + (r.inf ?? 0) > 0;
    if (bad) tr.classList.add('nonfinite');
    tr.append(el('td', 'name', r.name), el('td', '', r.dtype), el('td', 'shape', `[${r.shape.join(', ')}]`), el('td', 'num', fmtBytes(r.bytes)),
      el('td', 'num', fmt(r.min)), el('td', 'num', fmt(r.max)), el('td', 'num', fmt(r.mean)), el('td', 'num', r.nan === undefined ? '…' : `${r.nan} / ${r.inf}`));
    tbody.append(tr);
  }
  t.append(thead, tbody);
  return t;
}

function render(): void {
  const app = document.getElementById('app')!;
  const focusedFilter = document.activeElement?.id === 'filter';
  app.replaceChildren();
  if (failure) {
    app.append(el('h1', 'file-name', fileName), el('p', 'error', failure));
    return;
  }
  if (!listing && !report) {
    app.append(el('p', 'muted', `Reading ${fileName}…`));
    return;
  }
  app.append(header());
  const tools = el('div', 'tools');
  const filter = el('input', 'filter');
  filter.id = 'filter';
  filter.type = 'search';
  filter.placeholder = 'Filter tensors by name';
  filter.setAttribute('aria-label', 'Filter tensors by name');
  filter.value = view.filter;
  filter.addEventListener('input', () => { view.filter = filter.value; vscode.setState(view); render(); });
  tools.append(filter);
  app.append(tools, table());
  // Warnings name the file for the CLI; here the file is the editor's own.
  for (const w of report?.warnings ?? []) app.append(el('p', 'warning', w.startsWith(`${report!.path}: `) ? w.slice(report!.path.length + 2) : w));
  const meta = listing?.metadata ?? report?.metadata;
  if (meta && Object.keys(meta).length) {
    const d = el('details', 'metadata');
    d.append(el('summary', '', `Metadata (${Object.keys(meta).length})`));
    const dl = el('dl');
    for (const [k, v] of Object.entries(meta)) dl.append(el('dt', '', k), el('dd', '', v.length > 2000 ? `${v.slice(0, 2000)}…` : v));
    d.append(dl);
    app.append(d);
  }
  if (focusedFilter) { filter.focus(); filter.setSelectionRange(filter.value.length, filter.value.length); }
}

rpc.onEvent('tensorEditor/listing', (m) => { fileName = m.fileName; listing = m.listing; sae = m.sae; render(); });
rpc.onEvent('tensorEditor/stats', (m) => { report = m.report; render(); });
rpc.onEvent('tensorEditor/failed', (m) => { failure = m.message; render(); });
rpc.event('tensorEditor/ready', {});
