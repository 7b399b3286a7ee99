/**
 * The atom map: every latent's decoder direction as a point on a canvas (one draw call per frame, fine at
 * 131,072 points), zoom and pan (d3-zoom), hover (a quadtree over the layout), click → feature page,
 * lasso → latent browser, and colour by density, the diagnostics' flags, annotation tag, split-tree
 * family, SAE or ground-truth match. Dense antipodal pairs are drawn as lines between their two atoms.
 * Labels from files are shown as text only (dom.ts).
 */
import { interpolateViridis, polygonContains, quadtree, rgb, schemeTableau10, select, zoom, zoomIdentity } from 'd3';
import type { Quadtree, ZoomTransform } from 'd3';
import type { AtomMapModel } from '../../src/protocol/viewModels';
import { DUPLICATED, FLAG } from '../../src/protocol/viewModels';
import { button, clear, h } from '../shared/dom';
import { fmt } from '../shared/format';

export type ColourMode = 'density' | 'flags' | 'tag' | 'family' | 'sae' | 'groundTruth';
export const COLOUR_MODES: { id: ColourMode; label: string }[] = [
  { id: 'density', label: 'firing density' },
  { id: 'flags', label: 'diagnostic flags' },
  { id: 'tag', label: 'annotation tag' },
  { id: 'family', label: 'split-tree family' },
  { id: 'sae', label: 'SAE' },
  { id: 'groundTruth', label: 'ground-truth match' },
];

export interface AtomMapActions {
  openFeature(latent: number, sae: number): void;
  openBrowser(sae: number, latents: Int32Array): void;
  saveView(v: AtomMapView): void;
}
export interface AtomMapView { colour: ColourMode }

/** Flags in drawing priority (first match wins), each with its legend text. */
const FLAG_ORDER: [number, string][] = [
  [FLAG.dead, 'dead'], [FLAG.antipodal, 'antipodal pair'], [FLAG.dense, 'dense'], [FLAG.absorbed, 'absorbed'],
  [FLAG.absorber, 'absorber'], [DUPLICATED, 'duplicated atom'], [FLAG.nonStationary, 'non-stationary'], [FLAG.split, 'split'],
];
const GREY = '#8c8c8c';

/**
 * Colours under a mode: a small palette, each atom's index into it (continuous modes are quantised to
 * 64 steps, which the eye cannot tell apart and which keeps drawing to a few colour switches), and the
 * legend. Index 0 is always grey ("nothing to show").
 */
export interface AtomColours { palette: string[]; index: Uint16Array; legend: [string, string][]; emphasise: boolean }
const STEPS = 64;

export function atomColours(m: AtomMapModel, mode: ColourMode): AtomColours {
  const index = new Uint16Array(m.count);
  const cat = (i: number): string => schemeTableau10[i % 10]!;
  const ramp = Array.from({ length: STEPS }, (_, k) => interpolateViridis(k / (STEPS - 1)));
  const step = (f: number): number => 1 + Math.max(0, Math.min(STEPS - 1, Math.round(f * (STEPS - 1))));
  if (mode === 'density') {
    let lo = Infinity, hi = -Infinity;
    for (const d of m.density) if (d > 0) { const l = Math.log10(d); lo = Math.min(lo, l); hi = Math.max(hi, l); }
    if (!(hi > lo)) { lo = -6; hi = 0; }
    const NEVER = STEPS + 1;
    for (let i = 0; i < m.count; i++) {
      const d = m.density[i]!;
      index[i] = Number.isNaN(d) ? 0 : d === 0 ? NEVER : step((Math.log10(d) - lo) / (hi - lo));
    }
    return { palette: [GREY, ...ramp, '#d62728'], index, emphasise: false,
      legend: [['#d62728', 'never fires'], [ramp[0]!, `density ${fmt(10 ** lo)} (log scale)`], [ramp[STEPS - 1]!, `density ${fmt(10 ** hi)}`], [GREY, 'not measured']] };
  }
  if (mode === 'groundTruth') {
    for (let i = 0; i < m.count; i++) { const c = m.groundTruthCos[i]!; index[i] = Number.isNaN(c) ? 0 : step(c); }
    return { palette: [GREY, ...ramp], index, emphasise: false, legend: [[ramp[0]!, 'cos ≤ 0 to its best feature'], [ramp[STEPS - 1]!, 'cos 1'], [GREY, 'no ground truth']] };
  }
  const palette = [GREY, ...Array.from({ length: 10 }, (_, k) => cat(k))];
  if (mode === 'flags') {
    for (let i = 0; i < m.count; i++) { const k = FLAG_ORDER.findIndex(([bit]) => (m.flags[i]! & bit) !== 0); index[i] = k < 0 ? 0 : 1 + (k % 10); }
    return { palette, index, emphasise: true, legend: [...FLAG_ORDER.map(([, name], k) => [cat(k), name] as [string, string]), [GREY, 'no flag']] };
  }
  if (mode === 'tag') {
    for (let i = 0; i < m.count; i++) index[i] = m.tag[i]! < 0 ? 0 : 1 + (m.tag[i]! % 10);
    return { palette, index, emphasise: true, legend: [...m.tagNames.slice(0, 10).map((t, k) => [cat(k), t] as [string, string]), ...(m.tagNames.length > 10 ? [['', `… ${m.tagNames.length - 10} more tags (colours repeat)`] as [string, string]] : []), [GREY, 'no tag']] };
  }
  if (mode === 'family') {
    let families = 0;
    for (let i = 0; i < m.count; i++) { const f = m.family[i]!; index[i] = f < 0 ? 0 : 1 + (f % 10); families = Math.max(families, f + 1); }
    return { palette, index, emphasise: true, legend: families ? [['', `${families} families across widths (colours repeat every 10)`], [GREY, 'in no family']] : [[GREY, 'no split tree for these SAEs']] };
  }
  m.saes.forEach((s, k) => index.fill(1 + (k % 10), s.offset, s.offset + s.width));
  return { palette, index, emphasise: false, legend: m.saes.map((s, k) => [cat(k), `${s.name} (${s.width})`] as [string, string]) };
}

/** A CSS colour as the little-endian RGBA word an ImageData's Uint32 view holds. */
function packColour(c: string): number {
  const k = rgb(c);
  return ((255 << 24) | (Math.round(k.b) << 16) | (Math.round(k.g) << 8) | Math.round(k.r)) >>> 0;
}

/** Which SAE an atom belongs to, and its latent there. */
export function atomOwner(m: AtomMapModel, atom: number): { sae: number; latent: number } {
  let s = m.saes.length - 1;
  while (s > 0 && m.saes[s]!.offset > atom) s--;
  return { sae: s, latent: atom - m.saes[s]!.offset };
}

export function renderAtomMap(root: HTMLElement, m: AtomMapModel, actions: AtomMapActions, view: AtomMapView = { colour: 'density' }): void {
  clear(root);
  const labelOf = new Map<number, string>();
  m.labels.latents.forEach((a, j) => labelOf.set(a, m.labels.texts[j]!));
  const header = h('header', 'page-header', h('h1', '', `Atom map: ${m.saes.map((s) => s.name).join(' + ')}`), h('span', 'muted', `${m.count.toLocaleString('en-US')} atoms`));
  const picker = h('select', 'atom-colour');
  picker.setAttribute('aria-label', 'Colour atoms by');
  for (const c of COLOUR_MODES) { const o = h('option', '', c.label); o.value = c.id; picker.append(o); }
  picker.value = view.colour;
  const lassoBtn = button('Lasso', 'edit', () => setLasso(!lasso));
  const toolbar = h('div', 'toolbar', h('label', 'muted', 'Colour by '), picker, lassoBtn);
  header.append(toolbar);
  const canvas = h('canvas', 'atom-canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Map of ${m.count} dictionary atoms; hover for a latent, click to open its feature page`);
  const legend = h('ul', 'atom-legend');
  const info = h('div', 'atom-info muted', 'Hover over an atom; click opens its feature page; Lasso selects a region.');
  const selection = h('div', 'atom-selection');
  root.append(header, h('div', 'atom-map', canvas, legend), info, selection,
    h('ul', 'notes', ...[`Layout: UMAP over cosine distance between decoder directions (seed ${m.layout.seed}, ${m.layout.neighbors} neighbours, ${m.layout.epochs} epochs${m.layout.cached ? ', cached' : ''}); nearby points are atoms pointing in similar directions.`, ...m.notes].map((n) => h('li', '', n))));

  let colours = atomColours(m, view.colour);
  let transform: ZoomTransform = zoomIdentity;
  let lasso = false;
  let hover = -1;
  let selected: Int32Array | undefined;
  let poly: [number, number][] = [];
  const tree: Quadtree<number> = quadtree<number>().x((i) => m.xy[2 * i]!).y((i) => m.xy[2 * i + 1]!).addAll(Array.from({ length: m.count }, (_, i) => i));
  const css = getComputedStyle(document.body);
  const fg = css.getPropertyValue('--vscode-editor-foreground').trim() || '#ccc';

  let W = 0, H = 0, scale = 1;
  const sx = (x: number): number => transform.applyX((x + 1) / 2 * W * 0.96 + W * 0.02);
  const sy = (y: number): number => transform.applyY((1 - (y + 1) / 2) * H * 0.96 + H * 0.02);
  const dataX = (px: number): number => ((transform.invertX(px) - W * 0.02) / (W * 0.96)) * 2 - 1;
  const dataY = (py: number): number => 1 - ((transform.invertY(py) - H * 0.02) / (H * 0.96)) * 2;

  function resize(): void {
    scale = window.devicePixelRatio || 1;
    W = canvas.clientWidth || 600; H = canvas.clientHeight || 400;
    canvas.width = Math.round(W * scale); canvas.height = Math.round(H * scale);
    draw();
  }
  let image: ImageData | undefined;
  let packed = colours.palette.map(packColour);
  function draw(): void {
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const cw = canvas.width, chh = canvas.height;
    if (!image || image.width !== cw || image.height !== chh) image = ctx.createImageData(cw, chh);
    // Points are written straight into the pixels (one putImageData a frame): at 131,072 atoms that is
    // many times faster than one fillRect each.
    const px = new Uint32Array(image.data.buffer);
    px.fill(0);
    // few atoms: large points; 131,072: small ones, growing as the user zooms in
    const perCount = m.count <= 500 ? 8 : m.count <= 5000 ? 5 : m.count <= 20000 ? 3 : 2;
    const base = Math.max(1, Math.min(16, Math.round(perCount * scale * Math.sqrt(transform.k))));
    for (const pass of [0, 1]) {
      const size = pass === 1 && colours.emphasise ? Math.round(base * 1.8) : base;
      for (let i = 0; i < m.count; i++) {
        const k = colours.index[i]!;
        if ((k === 0) !== (pass === 0)) continue;
        const x0 = Math.round(sx(m.xy[2 * i]!) * scale - size / 2), y0 = Math.round(sy(m.xy[2 * i + 1]!) * scale - size / 2);
        if (x0 + size <= 0 || y0 + size <= 0 || x0 >= cw || y0 >= chh) continue;
        const col = packed[k]!;
        for (let y = Math.max(0, y0); y < Math.min(chh, y0 + size); y++) px.fill(col, y * cw + Math.max(0, x0), y * cw + Math.min(cw, x0 + size));
      }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.putImageData(image, 0, 0);
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    const r = base / scale;
    // antipodal pairs as lines between their two atoms
    ctx.lineWidth = 1;
    for (let j = 0; j < m.pairs.a.length; j++) {
      const a = m.pairs.a[j]!, b = m.pairs.b[j]!;
      ctx.strokeStyle = m.pairs.dense[j] ? '#e15759' : '#9c755f';
      ctx.beginPath(); ctx.moveTo(sx(m.xy[2 * a]!), sy(m.xy[2 * a + 1]!)); ctx.lineTo(sx(m.xy[2 * b]!), sy(m.xy[2 * b + 1]!)); ctx.stroke();
    }
    ctx.strokeStyle = fg;
    if (selected) for (const i of selected) ctx.strokeRect(sx(m.xy[2 * i]!) - r, sy(m.xy[2 * i + 1]!) - r, 2 * r, 2 * r);
    if (hover >= 0) { ctx.lineWidth = 2; ctx.strokeRect(sx(m.xy[2 * hover]!) - r - 2, sy(m.xy[2 * hover + 1]!) - r - 2, 2 * r + 4, 2 * r + 4); }
    if (poly.length > 1) {
      ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.moveTo(sx(poly[0]![0]), sy(poly[0]![1]));
      for (const [x, y] of poly) ctx.lineTo(sx(x), sy(y));
      ctx.closePath(); ctx.stroke(); ctx.setLineDash([]);
    }
  }
  // several zoom and pointer events can arrive within one frame: draw once per frame
  let pending = false;
  function scheduleDraw(): void {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  }
  function drawLegend(): void {
    clear(legend);
    for (const [c, text] of colours.legend) {
      const sw = h('span', 'swatch');
      if (c) sw.style.backgroundColor = c; else sw.classList.add('swatch-none');
      legend.append(h('li', '', sw, text));
    }
  }
  function nearest(px: number, py: number): number {
    const x = dataX(px), y = dataY(py);
    const radius = (8 / (W * 0.96 * transform.k)) * 2;
    const i = tree.find(x, y, radius);
    return i === undefined ? -1 : i;
  }
  function describe(atom: number): string {
    const { sae, latent } = atomOwner(m, atom);
    const parts = [`${m.saes.length > 1 ? `${m.saes[sae]!.name} ` : ''}#${latent}`];
    const d = m.density[atom]!;
    parts.push(Number.isNaN(d) ? 'density not measured' : `density ${fmt(d)}`);
    const flags = FLAG_ORDER.filter(([bit]) => (m.flags[atom]! & bit) !== 0).map(([, n]) => n);
    if (flags.length) parts.push(flags.join(', '));
    if (!Number.isNaN(m.groundTruthCos[atom]!)) parts.push(`ground-truth cos ${fmt(m.groundTruthCos[atom]!)}`);
    const label = labelOf.get(atom);
    if (label) parts.push(`“${label}”`);
    return parts.join(' · ');
  }
  function setLasso(on: boolean): void {
    lasso = on;
    lassoBtn.classList.toggle('active', on);
    canvas.classList.toggle('lasso', on);
    info.textContent = on ? 'Drag around a region to select its atoms; press Lasso again to pan and zoom.' : 'Hover over an atom; click opens its feature page; Lasso selects a region.';
  }
  function showSelection(): void {
    clear(selection);
    if (!selected || selected.length === 0) return;
    selection.append(h('span', '', `${selected.length.toLocaleString('en-US')} atoms selected`));
    m.saes.forEach((s, k) => {
      const mine = Int32Array.from(Array.from(selected!).filter((a) => a >= s.offset && a < s.offset + s.width), (a) => a - s.offset);
      if (mine.length) selection.append(button(`Open ${mine.length} of ${s.name} in the latent browser`, 'list-flat', () => actions.openBrowser(k, mine)));
    });
    selection.append(button('Clear', 'close', () => { selected = undefined; showSelection(); draw(); }));
  }

  const z = zoom<HTMLCanvasElement, unknown>().scaleExtent([0.5, 200]).filter((e: Event) => !lasso || e.type === 'wheel')
    .on('zoom', (e: { transform: ZoomTransform }) => { transform = e.transform; scheduleDraw(); });
  select(canvas).call(z);
  let down: [number, number] | undefined;
  canvas.addEventListener('pointerdown', (e) => {
    down = [e.offsetX, e.offsetY];
    if (lasso) { poly = [[dataX(e.offsetX), dataY(e.offsetY)]]; canvas.setPointerCapture?.(e.pointerId); }
  });
  canvas.addEventListener('pointermove', (e) => {
    if (lasso && down) { poly.push([dataX(e.offsetX), dataY(e.offsetY)]); scheduleDraw(); return; }
    const i = nearest(e.offsetX, e.offsetY);
    if (i !== hover) { hover = i; info.textContent = i >= 0 ? describe(i) : ''; scheduleDraw(); }
  });
  canvas.addEventListener('pointerup', (e) => {
    const start = down;
    down = undefined;
    if (lasso) {
      if (poly.length > 2) {
        const p = poly;
        selected = Int32Array.from(Array.from({ length: m.count }, (_, i) => i).filter((i) => polygonContains(p, [m.xy[2 * i]!, m.xy[2 * i + 1]!])));
        showSelection();
      }
      poly = [];
      draw();
      return;
    }
    if (start && Math.hypot(e.offsetX - start[0], e.offsetY - start[1]) < 4) {
      const i = nearest(e.offsetX, e.offsetY);
      if (i >= 0) { const o = atomOwner(m, i); actions.openFeature(o.latent, o.sae); }
    }
  });
  picker.addEventListener('change', () => {
    view = { colour: picker.value as ColourMode };
    colours = atomColours(m, view.colour);
    packed = colours.palette.map(packColour);
    drawLegend(); draw();
    actions.saveView(view);
  });
  new ResizeObserver(() => resize()).observe(canvas);
  drawLegend();
  resize();
}
