/**
 * A virtualised table: a fixed pool of row elements (as many as fit, plus a margin) is re-filled on
 * scroll, so 131,072 rows cost the same as 50. Rows are positioned through the CSSOM (style.transform),
 * which a strict CSP allows. Keyboard: arrows/PageUp/PageDown/Home/End move, Enter opens, Space selects.
 */
import { h, icon } from './dom';

export interface Column {
  key: string;
  title: string;
  /** CSS grid track, e.g. '80px' or 'minmax(120px, 1fr)'. */
  width: string;
  numeric?: boolean;
  sortable?: boolean;
  tooltip?: string;
  /** Fills the cell for data row `row` (cell is reused: set its text, don't append blindly). */
  render(row: number, cell: HTMLElement): void;
}

export interface VirtualTableOptions {
  columns: Column[];
  rowHeight?: number;
  onActivate?: (row: number) => void;
  onToggleSelect?: (row: number) => void;
  isSelected?: (row: number) => boolean;
  onSort?: (key: string) => void;
  onScroll?: (scrollTop: number) => void;
  label: string;
}

export class VirtualTable {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly header: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private order: Int32Array = new Int32Array(0);
  private readonly rowHeight: number;
  private active = -1;
  private frame = 0;
  private sortKey = '';
  private sortDesc = false;

  constructor(private readonly o: VirtualTableOptions) {
    this.rowHeight = o.rowHeight ?? 24;
    this.element = h('div', 'vtable');
    this.element.style.setProperty('--cols', o.columns.map((c) => c.width).join(' '));
    this.element.style.setProperty('--row-h', `${this.rowHeight}px`);
    this.header = h('div', 'vtable-header');
    this.header.setAttribute('role', 'row');
    for (const c of o.columns) {
      const cell = h(c.sortable ? 'button' : 'div', `vtable-hcell${c.numeric ? ' num' : ''}`, c.title);
      cell.setAttribute('role', 'columnheader');
      cell.dataset.key = c.key;
      if (c.tooltip) cell.title = c.tooltip;
      if (c.sortable) {
        (cell as HTMLButtonElement).type = 'button';
        cell.append(icon('arrow-down'));
        cell.addEventListener('click', () => o.onSort?.(c.key));
      }
      this.header.append(cell);
    }
    this.viewport = h('div', 'vtable-viewport');
    this.viewport.tabIndex = 0;
    this.viewport.setAttribute('role', 'grid');
    this.viewport.setAttribute('aria-label', o.label);
    this.spacer = h('div', 'vtable-spacer');
    this.viewport.append(this.spacer);
    this.element.append(this.header, this.viewport);
    this.viewport.addEventListener('scroll', () => this.schedule());
    this.viewport.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  /** Sets the rows to show, in display order (data row indices). */
  setRows(order: Int32Array): void {
    this.order = order;
    this.viewport.setAttribute('aria-rowcount', String(order.length));
    this.spacer.style.height = `${order.length * this.rowHeight}px`;
    if (this.active >= order.length) this.active = order.length - 1;
    this.render();
  }

  setSortIndicator(key: string, desc: boolean): void {
    this.sortKey = key; this.sortDesc = desc;
    for (const cell of this.header.children) {
      const el = cell as HTMLElement;
      const on = el.dataset.key === key;
      el.classList.toggle('sorted', on);
      el.setAttribute('aria-sort', on ? (desc ? 'descending' : 'ascending') : 'none');
      const ic = el.querySelector('.codicon');
      if (ic) ic.className = `codicon codicon-${on && !desc ? 'arrow-up' : 'arrow-down'}`;
    }
  }

  get scrollTop(): number { return this.viewport.scrollTop; }
  set scrollTop(v: number) { this.viewport.scrollTop = v; this.render(); }

  /** Re-fills visible rows (after selection or label changes). */
  refresh(): void { this.render(); }

  scrollToPosition(pos: number): void {
    const top = pos * this.rowHeight, bottom = top + this.rowHeight;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (bottom > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = bottom - this.viewport.clientHeight;
    this.render();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); this.o.onScroll?.(this.viewport.scrollTop); });
  }

  private render(): void {
    const rh = this.rowHeight;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / rh) - 4);
    const count = Math.min(this.order.length - first, Math.ceil(height / rh) + 8);
    while (this.pool.length < count) {
      const row = h('div', 'vtable-row');
      row.setAttribute('role', 'row');
      for (const c of this.o.columns) {
        const cell = h('div', `vtable-cell${c.numeric ? ' num' : ''}`);
        cell.setAttribute('role', 'gridcell');
        row.append(cell);
      }
      row.addEventListener('click', (e) => {
        const r = Number(row.dataset.row);
        const pos = Number(row.dataset.pos);
        this.active = pos;
        if ((e.target as HTMLElement).closest('.select-box')) this.o.onToggleSelect?.(r);
        else this.o.onActivate?.(r);
        this.render();
      });
      this.spacer.append(row);
      this.pool.push(row);
    }
    for (let p = 0; p < this.pool.length; p++) {
      const row = this.pool[p]!;
      if (p >= count) { row.hidden = true; continue; }
      const pos = first + p;
      const r = this.order[pos]!;
      row.hidden = false;
      row.dataset.row = String(r);
      row.dataset.pos = String(pos);
      row.setAttribute('aria-rowindex', String(pos + 1));
      row.style.transform = `translateY(${pos * rh}px)`;
      row.classList.toggle('active', pos === this.active);
      const sel = this.o.isSelected?.(r) ?? false;
      row.classList.toggle('selected', sel);
      row.setAttribute('aria-selected', String(sel));
      this.o.columns.forEach((c, ci) => c.render(r, row.children[ci] as HTMLElement));
    }
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / this.rowHeight) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves || e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      const n = this.order.length;
      if (n === 0) return;
      this.active = e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : Math.max(0, Math.min(n - 1, this.active + moves[e.key]!));
      this.scrollToPosition(this.active);
    } else if (e.key === 'Enter' && this.active >= 0) {
      e.preventDefault();
      this.o.onActivate?.(this.order[this.active]!);
    } else if (e.key === ' ' && this.active >= 0) {
      e.preventDefault();
      this.o.onToggleSelect?.(this.order[this.active]!);
      this.render();
    }
  }

  get sort(): { key: string; desc: boolean } { return { key: this.sortKey, desc: this.sortDesc }; }
}
