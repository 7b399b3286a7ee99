/**
 * The feature-split tree across widths: a d3 tidy tree, narrowest SAE on the left. Each wider latent
 * hangs under its best-matching (highest decoder cosine) narrower latent; extra parents are drawn as
 * dashed merge links. Edge width follows cosine, edge opacity follows containment. Collapse (click the
 * dot), zoom/pan (wheel/drag), search (expands and centres matches), click a label to open its page.
 */
import { hierarchy, linkHorizontal, select, tree as d3tree, zoom, zoomIdentity } from 'd3';
import type { HierarchyPointNode, ZoomBehavior } from 'd3';
import type { SplitTreeModel } from '../../src/protocol/viewModels';
import { EDGE_KIND, NODE_KIND } from '../../src/protocol/viewModels';
import { button, clear, h, visible } from '../shared/dom';
import { fmt } from '../shared/format';
import { textField } from '../shared/elements';

interface TNode {
  id: number;
  name: string;
  children?: TNode[];
  hidden?: TNode[];
  /** Edge from the parent (index into model.edges), -1 for synthetic links. */
  edge: number;
}

export interface SplitTreeActions {
  openFeature(sae: number, latent: number): void;
  saveState?(s: SplitTreeState): void;
}

export interface SplitTreeState { collapsed: number[]; query: string }

const ROW = 20, COL = 290, LABEL_CHARS = 30;
/** Below this zoom scale labels are not drawn (they would be under ~6px). */
const LABEL_SCALE = 0.5;
/** Where a node's outgoing links start: after its label, so links never cross label text. */
const labelEnd = (name: string): number => 14 + 6.8 * Math.min(LABEL_CHARS, name.length);

export class SplitTreeView {
  private readonly root: TNode;
  private readonly byId = new Map<number, TNode>();
  private readonly parentOf = new Map<number, number>();
  private readonly wrap: HTMLElement;
  /** The zoomed layer: an HTML box holding the SVG, moved by a CSS transform so the compositor pans and
   * scales a cached raster instead of repainting thousands of SVG elements per frame. */
  private readonly layer: HTMLElement;
  private readonly svg;
  private readonly g;
  private readonly zoomer: ZoomBehavior<HTMLElement, unknown>;
  /** Layout coordinates → SVG pixels offset (the tidy tree has negative x). */
  private offset = { x: 0, y: 0 };
  private readonly status = h('div', 'muted count-line');
  private matches = new Set<number>();
  private query = '';

  constructor(host: HTMLElement, private readonly m: SplitTreeModel, private readonly actions: SplitTreeActions, initial?: Partial<SplitTreeState> & { expandAll?: boolean }) {
    clear(host);
    const nodeCount = m.nodes.latent.length;
    this.root = { id: -1, name: 'root', children: [], edge: -1 };
    for (let i = 0; i < nodeCount; i++) this.byId.set(i, { id: i, name: this.nodeName(i), edge: -1 });
    // Primary parent: the incoming child/absorbed edge with the highest cosine.
    const best = new Map<number, number>();
    for (let e = 0; e < m.edges.from.length; e++) {
      if (m.edges.kind[e] === EDGE_KIND.merge) continue;
      const to = m.edges.to[e]!, cur = best.get(to);
      if (cur === undefined || m.edges.cosine[e]! > m.edges.cosine[cur]!) best.set(to, e);
    }
    const novelGroups = new Map<number, TNode>();
    for (let i = 0; i < nodeCount; i++) {
      const node = this.byId.get(i)!;
      const e = best.get(i);
      if (e !== undefined) {
        const p = this.byId.get(m.edges.from[e]!)!;
        node.edge = e;
        (p.children ??= []).push(node);
        this.parentOf.set(i, p.id);
      } else if (m.nodes.sae[i] === 0) this.root.children!.push(node);
      else {
        const s = m.nodes.sae[i]!;
        let grp = novelGroups.get(s);
        if (!grp) {
          grp = { id: -2 - s, name: `novel in ${m.saes[s]?.name ?? s}`, children: [], edge: -1 };
          novelGroups.set(s, grp);
          this.byId.set(grp.id, grp);
        }
        grp.children!.push(node);
        this.parentOf.set(i, grp.id);
      }
    }
    this.root.children!.push(...novelGroups.values());
    this.byId.set(-1, this.root);
    // Start collapsed below the first split unless small (or asked to expand all).
    const collapsed = new Set(initial?.collapsed ?? []);
    if (!initial?.collapsed && !initial?.expandAll && nodeCount > 300) for (const n of this.root.children!) for (const c of n.children ?? []) if (c.children?.length) collapsed.add(c.id);
    for (const id of collapsed) this.collapse(this.byId.get(id));

    const search = textField('search', 'Search labels, or #latent', 'search the tree');
    search.addEventListener('input', () => this.search(search.value));
    const legend = h('div', 'legend tree-legend',
      ...(['split', 'merge', 'novel', 'absorbed'] as const).map((k) => h('span', `legend-item node-${k}`, h('span', 'swatch'), k)),
      h('span', 'muted', 'edge width = decoder cosine, opacity = containment; dashed = extra (merge) parent'));
    host.replaceChildren(); // the shell's "Computing…" line
    host.append(
      h('header', 'page-header', h('h1', '', 'Feature-split tree'), h('span', 'muted', m.saes.map((s) => withWidth(visible(s.name), s.width)).join(' → '))),
      h('div', 'toolbar filters', search,
        button('Expand all', 'expand-all', () => { this.expandAll(); this.draw(); }),
        button('Collapse all', 'collapse-all', () => { for (const n of this.root.children!) this.collapse(n); this.draw(); }),
        button('Reset zoom', 'screen-normal', () => this.resetZoom())),
      legend, this.status);
    this.wrap = h('div', 'tree-wrap');
    this.layer = h('div', 'tree-layer');
    this.wrap.append(this.layer);
    host.append(this.wrap);
    this.svg = select(this.layer).append('svg').attr('class', 'tree-svg').attr('role', 'tree').attr('aria-label', 'feature-split tree');
    this.g = this.svg.append('g');
    this.zoomer = zoom<HTMLElement, unknown>().scaleExtent([0.05, 4]).on('zoom', (ev: { transform: { x: number; y: number; k: number } }) => {
      const t = ev.transform;
      this.transform = { x: t.x, y: t.y, k: t.k };
      this.layer.style.transform = `translate(${t.x}px, ${t.y}px) scale(${t.k})`;
      this.onZoom();
    });
    select(this.wrap).call(this.zoomer).on('dblclick.zoom', null);
    if (initial?.query) { search.value = initial.query; this.search(initial.query); } else this.draw();
    this.resetZoom();
  }

  private nodeName(i: number): string {
    const m = this.m;
    const label = m.nodes.labels[i] ?? '';
    return `${m.saes[m.nodes.sae[i]!]?.name ?? '?'} #${m.nodes.latent[i]}${label ? ` ${label}` : ''}`;
  }

  private collapse(n: TNode | undefined): void {
    if (!n) return;
    for (const c of n.children ?? []) this.collapse(c);
    if (n.children?.length && n.id !== -1) { n.hidden = n.children; n.children = undefined; }
  }

  private expand(n: TNode): void {
    if (n.hidden) { n.children = n.hidden; n.hidden = undefined; }
  }

  expandAll(n: TNode = this.root): void {
    this.expand(n);
    for (const c of n.children ?? []) this.expandAll(c);
  }

  toggle(id: number): void {
    const n = this.byId.get(id);
    if (!n) return;
    if (n.children?.length) { n.hidden = n.children; n.children = undefined; } else this.expand(n);
    this.draw();
  }

  search(q: string): void {
    this.query = q.trim().toLowerCase();
    this.matches.clear();
    if (this.query) {
      const idQuery = /^#\d+$/.test(this.query) ? Number(this.query.slice(1)) : undefined;
      for (let i = 0; i < this.m.nodes.latent.length; i++) {
        const hit = idQuery !== undefined ? this.m.nodes.latent[i] === idQuery : (this.m.nodes.labels[i] ?? '').toLowerCase().includes(this.query);
        if (!hit) continue;
        this.matches.add(i);
        for (let p = this.parentOf.get(i); p !== undefined; p = this.parentOf.get(p)) this.expand(this.byId.get(p)!);
      }
    }
    this.draw();
    const first = [...this.matches][0];
    if (first !== undefined) this.centre(first);
  }

  private laid: HierarchyPointNode<TNode> | undefined;
  private shown: HierarchyPointNode<TNode>[] = [];
  private shownLinks: { source: HierarchyPointNode<TNode>; target: HierarchyPointNode<TNode>; edge: number; merge: boolean }[] = [];
  /** Layout-space window currently in the DOM, and the zoom scale it was drawn for. */
  private drawn = { x0: 0, x1: -1, y0: 0, y1: -1, labels: true };
  private transform = { x: 0, y: 0, k: 1 };
  private pendingWindow = 0;

  /** Lays the visible (expanded) tree out, then draws the part on screen. */
  draw(): void {
    const m = this.m;
    const layout = d3tree<TNode>().nodeSize([ROW, COL]).separation((a, b) => (a.parent === b.parent ? 1 : 1.4));
    const rootH = layout(hierarchy(this.root, (d) => d.children));
    this.laid = rootH;
    const nodes = rootH.descendants().filter((d) => d.data.id !== -1);
    const pos = new Map<number, HierarchyPointNode<TNode>>();
    for (const d of nodes) pos.set(d.data.id, d);
    this.shown = nodes;
    this.shownLinks = rootH.links().filter((l) => l.source.data.id !== -1).map((l) => ({ source: l.source, target: l.target, edge: l.target.data.edge, merge: false }));
    // Extra parents (merge) between shown nodes.
    for (let e = 0; e < m.edges.from.length; e++) {
      const a = pos.get(m.edges.from[e]!), b = pos.get(m.edges.to[e]!);
      if (a && b && b.data.edge !== e) this.shownLinks.push({ source: a, target: b, edge: e, merge: true });
    }
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (const d of nodes) { minX = Math.min(minX, d.x); maxX = Math.max(maxX, d.x); minY = Math.min(minY, d.y); maxY = Math.max(maxY, d.y); }
    if (!nodes.length) { minX = maxX = minY = maxY = 0; }
    this.offset = { x: 20 - minX, y: 12 - minY };
    this.svg.attr('width', maxY - minY + 24 + labelEnd('x'.repeat(LABEL_CHARS))).attr('height', maxX - minX + 40);
    this.g.attr('transform', `translate(${this.offset.y},${this.offset.x})`);
    const shownCount = nodes.filter((d) => d.data.id >= 0).length;
    this.status.textContent = `${shownCount} nodes shown, ${this.m.nodes.latent.length - shownCount} collapsed${this.query ? ` · ${this.matches.size} match “${visible(this.query)}”` : ''}`;
    this.actions.saveState?.({ collapsed: [...this.byId.values()].filter((n) => n.hidden).map((n) => n.id), query: this.query });
    this.drawWindow(true);
  }

  /** The layout-space rectangle on screen, padded by one screen on every side. */
  private viewWindow(): { x0: number; x1: number; y0: number; y1: number } {
    const { x, y, k } = this.transform;
    const w = this.wrap.clientWidth || 1200, hgt = this.wrap.clientHeight || 800;
    const y0 = -x / k - this.offset.y, x0 = -y / k - this.offset.x;
    return { x0: x0 - hgt / k, x1: x0 + (2 * hgt) / k, y0: y0 - w / k, y1: y0 + (2 * w) / k };
  }

  /** Called on every zoom frame: redraw only when the view leaves the drawn window or crosses the label scale. */
  private onZoom(): void {
    const v = this.viewWindow(), d = this.drawn;
    const pad = { x: (v.x1 - v.x0) / 6, y: (v.y1 - v.y0) / 6 };
    const inside = v.x0 + 2 * pad.x >= d.x0 && v.x1 - 2 * pad.x <= d.x1 && v.y0 + 2 * pad.y >= d.y0 && v.y1 - 2 * pad.y <= d.y1;
    if (inside && (this.transform.k >= LABEL_SCALE) === d.labels) return;
    if (!this.pendingWindow) this.pendingWindow = requestAnimationFrame(() => { this.pendingWindow = 0; this.drawWindow(false); });
  }

  /**
   * Draws the nodes and links inside the view window (SVG cost grows with what is drawn, not with the
   * tree); below LABEL_SCALE the labels are left out, as they would be unreadable.
   */
  private drawWindow(force: boolean): void {
    const m = this.m;
    const win = this.viewWindow();
    const labels = this.transform.k >= LABEL_SCALE;
    if (!force && win.x0 >= this.drawn.x0 && win.x1 <= this.drawn.x1 && win.y0 >= this.drawn.y0 && win.y1 <= this.drawn.y1 && labels === this.drawn.labels) return;
    this.drawn = { ...win, labels };
    const inX = (a: number, b: number): boolean => Math.max(a, b) >= win.x0 && Math.min(a, b) <= win.x1;
    const inY = (a: number, b: number): boolean => Math.max(a, b) >= win.y0 && Math.min(a, b) <= win.y1;
    const nodes = this.shown.filter((d) => inX(d.x, d.x) && inY(d.y, d.y + 220));
    const links = this.shownLinks.filter((l) => inX(l.source.x, l.target.x) && inY(l.source.y, l.target.y));
    this.g.selectAll('*').remove();
    const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>().source((d) => d.source).target((d) => d.target);
    const start = (d: HierarchyPointNode<TNode>): number => d.y + (labels ? labelEnd(d.data.name) : 6);
    this.g.append('g').attr('class', 'links').selectAll('path').data(links).join('path')
      .attr('class', (l) => (l.merge ? 'link link-merge' : `link link-kind-${l.edge >= 0 ? m.edges.kind[l.edge] : 'group'}`))
      .attr('d', (l) => link({ source: [start(l.source), l.source.x], target: [l.target.y - 5, l.target.x] }))
      .attr('stroke-width', (l) => (l.merge ? null : l.edge >= 0 ? 1 + 3 * Math.max(0, m.edges.cosine[l.edge]!) : 1))
      .attr('stroke-opacity', (l) => (l.merge ? null : l.edge >= 0 ? 0.25 + 0.75 * Math.max(0, Math.min(1, m.edges.containment[l.edge]!)) : 0.4))
      .append('title').text((l) => (l.edge >= 0 ? `${l.merge ? 'also from a narrower latent: ' : ''}cosine ${fmt(m.edges.cosine[l.edge]!)}, containment ${fmt(m.edges.containment[l.edge]!)}` : ''));
    const node = this.g.append('g').selectAll('g').data(nodes).join('g')
      .attr('class', (d) => {
        const id = d.data.id;
        const k = id >= 0 ? m.nodes.kind[id]! : 0;
        const kinds = (Object.keys(NODE_KIND) as (keyof typeof NODE_KIND)[]).filter((n) => k & NODE_KIND[n]).map((n) => `node-${n}`).join(' ');
        return `node ${kinds}${this.matches.has(id) ? ' match' : ''}${d.data.hidden ? ' collapsed' : ''}`;
      })
      .attr('transform', (d) => `translate(${d.y},${d.x})`)
      .attr('role', 'treeitem').attr('aria-expanded', (d) => (d.data.hidden ? 'false' : d.data.children?.length ? 'true' : null));
    node.append('circle').attr('r', (d) => (d.data.id >= 0 ? 3 + 4 * Math.sqrt(Math.min(1, Math.max(0, m.nodes.density[d.data.id]! * 10))) : 4))
      .attr('tabindex', (d) => (d.data.children?.length || d.data.hidden ? 0 : null))
      .on('click', (_e, d) => this.toggle(d.data.id))
      .on('keydown', (e: KeyboardEvent, d) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.toggle(d.data.id); } })
      .append('title').text((d) => (d.data.id >= 0 ? `${visible(d.data.name)} · density ${fmt(m.nodes.density[d.data.id]!)}${d.data.hidden ? ` · ${d.data.hidden.length} hidden children` : ''}` : d.data.name));
    if (!labels) return;
    const text = node.append('text').attr('class', (d) => (d.data.id >= 0 ? 'node-label' : 'node-label group-label')).attr('x', 9).attr('dy', '0.32em')
      .attr('tabindex', (d) => (d.data.id >= 0 ? 0 : null))
      .text((d) => { const s = visible(d.data.name); return s.length > LABEL_CHARS ? `${s.slice(0, LABEL_CHARS - 1)}…` : s; });
    text.append('title').text((d) => visible(d.data.name));
    const open = (d: HierarchyPointNode<TNode>): void => { if (d.data.id >= 0) this.actions.openFeature(m.nodes.sae[d.data.id]!, m.nodes.latent[d.data.id]!); };
    text.on('click', (_e, d) => open(d)).on('keydown', (e: KeyboardEvent, d) => { if (e.key === 'Enter') open(d); });
  }

  private resetZoom(): void {
    select(this.wrap).call(this.zoomer.transform, zoomIdentity);
  }

  private centre(id: number): void {
    const d = this.laid?.descendants().find((n) => n.data.id === id);
    if (!d) return;
    const w = this.wrap.clientWidth || 800, hgt = this.wrap.clientHeight || 400;
    select(this.wrap).call(this.zoomer.transform, zoomIdentity.translate(w / 3 - (d.y + this.offset.y), hgt / 2 - (d.x + this.offset.x)));
  }
}

/** "width-12" stays "width-12"; a name that does not say its width gets it: "layer8 (4096)". */
function withWidth(name: string, width: number): string {
  return new RegExp(`\\b${width}\\b`).test(name) ? name : `${name} (${width})`;
}
