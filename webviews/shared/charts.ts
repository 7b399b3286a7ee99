/**
 * The d3 charts every panel uses: histogram, line chart, bar chart with a marked bar, scatter (canvas
 * for the mass of points, SVG for the clickable highlighted ones). Colours come from CSS classes that
 * read --vscode-* variables, so charts follow the theme; nothing sets inline style attributes.
 */
import { axisBottom, axisLeft, bin, extent, format, line, max as d3max, scaleLinear, scaleLog, select } from 'd3';
import type { Axis, NumberValue, ScaleContinuousNumeric, Selection } from 'd3';
import { h } from './dom';
import { fmt } from './format';

const MARGIN = { top: 10, right: 14, bottom: 38, left: 56 };
const HEIGHT = 190;

function chartWidth(parent: HTMLElement): number {
  return Math.max(260, Math.min(720, parent.clientWidth || 420));
}

interface Frame {
  svg: Selection<SVGSVGElement, unknown, null, undefined>;
  plot: Selection<SVGGElement, unknown, null, undefined>;
  w: number;
  h: number;
}

function frame(parent: HTMLElement, title: string, height = HEIGHT): Frame {
  const fig = h('figure', 'chart');
  fig.append(h('figcaption', '', title));
  parent.append(fig);
  const width = chartWidth(parent);
  const svg = select(fig).append('svg').attr('viewBox', `0 0 ${width} ${height}`).attr('width', width).attr('height', height).attr('role', 'img').attr('aria-label', title);
  const plot = svg.append('g').attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
  return { svg, plot, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
}

const si = format('.3~s'), general = format('.4~r'), tiny = format('.1~e');

/** Tick labels scientists read without decoding: 5k, 200k, 1.2M, 150, 0.05, 1e-5 (no 'm' for milli, no 3e+3). */
export function tickLabel(v: NumberValue): string {
  const n = Number(v);
  if (n === 0) return '0';
  const a = Math.abs(n);
  return a >= 1e3 ? si(n) : a >= 1e-3 ? general(n) : tiny(n);
}

function configure(axis: Axis<NumberValue>, scale: ScaleContinuousNumeric<number, number>, count: number): Axis<NumberValue> {
  const [lo, hi] = scale.domain() as [number, number];
  const isLog = typeof (scale as unknown as { base?: unknown }).base === 'function';
  if (isLog && lo > 0) {
    // Powers of ten only (thinned to `count`), so log axes never crowd.
    const decades: number[] = [];
    for (let e = Math.ceil(Math.log10(Math.min(lo, hi))); e <= Math.floor(Math.log10(Math.max(lo, hi))); e++) decades.push(10 ** e);
    const step = Math.max(1, Math.ceil(decades.length / count));
    const values = decades.filter((_, i) => i % step === 0);
    return values.length >= 2 ? axis.tickValues(values).tickFormat(tickLabel) : axis.ticks(3).tickFormat(tickLabel);
  }
  return axis.ticks(count).tickFormat(tickLabel);
}

function axes(f: Frame, x: ScaleContinuousNumeric<number, number>, y: ScaleContinuousNumeric<number, number>, xLabel: string, yLabel: string): void {
  f.plot.append('g').attr('class', 'axis').attr('transform', `translate(0,${f.h})`).call(configure(axisBottom(x), x, Math.max(2, Math.floor(f.w / 70))));
  f.plot.append('g').attr('class', 'axis').call(configure(axisLeft(y), y, Math.max(2, Math.floor(f.h / 32))));
  f.plot.append('text').attr('class', 'axis-label').attr('x', f.w / 2).attr('y', f.h + 32).attr('text-anchor', 'middle').text(xLabel);
  f.plot.append('text').attr('class', 'axis-label').attr('transform', 'rotate(-90)').attr('x', -f.h / 2).attr('y', -44).attr('text-anchor', 'middle').text(yLabel);
}

function empty(parent: HTMLElement, title: string, why: string): void {
  parent.append(h('figure', 'chart chart-empty', h('figcaption', '', title), h('p', 'muted', why)));
}

export interface HistogramOptions {
  title: string;
  xLabel: string;
  yLabel?: string;
  bins?: number;
  /** Marks a value with a vertical rule and a label (e.g. a threshold). */
  marker?: { x: number; label: string };
  /** Pre-binned data instead of raw values. */
  binned?: { edges: ArrayLike<number>; counts: ArrayLike<number> };
  logY?: boolean;
  /** A log value axis, for geometric bins (kept linear when an edge is ≤ 0). */
  logX?: boolean;
}

/** Histogram of finite values (or of pre-binned counts). */
export function histogram(parent: HTMLElement, values: ArrayLike<number> | undefined, o: HistogramOptions): void {
  let bars: { x0: number; x1: number; n: number }[];
  if (o.binned) {
    const { edges, counts } = o.binned;
    bars = Array.from(counts, (n, i) => ({ x0: edges[i]!, x1: edges[i + 1]!, n }));
  } else {
    const finite: number[] = [];
    for (let i = 0; i < (values?.length ?? 0); i++) { const v = values![i]!; if (Number.isFinite(v)) finite.push(v); }
    if (finite.length === 0) { empty(parent, o.title, 'no data'); return; }
    const [lo, hi] = extent(finite) as [number, number];
    const span = hi - lo || Math.abs(hi) || 1;
    const gen = bin().domain([lo - (hi === lo ? span / 2 : 0), hi + (hi === lo ? span / 2 : span * 1e-9)]).thresholds(o.bins ?? 40);
    bars = gen(finite).map((b) => ({ x0: b.x0!, x1: b.x1!, n: b.length }));
  }
  if (bars.length === 0 || bars.every((b) => b.n === 0)) { empty(parent, o.title, 'no data'); return; }
  const f = frame(parent, o.title);
  const xDomain: [number, number] = [bars[0]!.x0, bars[bars.length - 1]!.x1];
  if (o.marker && Number.isFinite(o.marker.x)) { xDomain[0] = Math.min(xDomain[0], o.marker.x); xDomain[1] = Math.max(xDomain[1], o.marker.x); }
  const x = o.logX && xDomain[0] > 0 ? scaleLog().domain(xDomain).range([0, f.w]) : scaleLinear().domain(xDomain).range([0, f.w]).nice();
  const top = d3max(bars, (b) => b.n) ?? 1;
  // A log count axis only pays off over at least a decade and a half of counts.
  const y = o.logY && top >= 30 ? scaleLog().domain([0.8, top * 1.1]).range([f.h, 0]).clamp(true) : scaleLinear().domain([0, top]).range([f.h, 0]).nice();
  f.plot.append('g').selectAll('rect').data(bars.filter((b) => b.n > 0)).join('rect').attr('class', 'bar')
    .attr('x', (b) => x(b.x0) + 0.5).attr('width', (b) => Math.max(1, x(b.x1) - x(b.x0) - 1))
    .attr('y', (b) => y(b.n)).attr('height', (b) => Math.max(0, f.h - y(b.n)))
    .append('title').text((b) => `${fmt(b.x0)} – ${fmt(b.x1)}: ${b.n}`);
  axes(f, x, y, o.xLabel, o.yLabel ?? 'count');
  if (o.marker && Number.isFinite(o.marker.x)) {
    const mx = x(o.marker.x);
    f.plot.append('line').attr('class', 'marker').attr('x1', mx).attr('x2', mx).attr('y1', 0).attr('y2', f.h);
    f.plot.append('text').attr('class', 'marker-label').attr('x', mx + 4 > f.w - 90 ? mx - 4 : mx + 4).attr('y', 10)
      .attr('text-anchor', mx + 4 > f.w - 90 ? 'end' : 'start').text(o.marker.label);
  }
}

export interface Series { name: string; values: ArrayLike<number> }

/** Line chart of one or more series against a shared x; a legend when there are several. */
export function lineChart(parent: HTMLElement, xs: ArrayLike<number>, series: Series[], o: { title: string; xLabel: string; yLabel: string; logY?: boolean; fraction?: boolean }): void {
  const pts = series.map((s) => {
    const out: [number, number][] = [];
    for (let i = 0; i < xs.length; i++) {
      const xv = xs[i]!, yv = s.values[i]!;
      if (Number.isFinite(xv) && Number.isFinite(yv) && (!o.logY || yv > 0)) out.push([xv, yv]);
    }
    return { name: s.name, pts: out };
  }).filter((s) => s.pts.length > 0);
  if (pts.length === 0) { empty(parent, o.title, 'nothing logged yet'); return; }
  const f = frame(parent, o.title);
  const all = pts.flatMap((s) => s.pts);
  const [x0, x1] = extent(all, (p) => p[0]) as [number, number];
  const [y0, y1] = extent(all, (p) => p[1]) as [number, number];
  const x = scaleLinear().domain(x0 === x1 ? [x0 - 1, x1 + 1] : [x0, x1]).range([0, f.w]);
  const y = o.logY ? scaleLog().domain([y0, y1 === y0 ? y0 * 10 : y1]).range([f.h, 0]).nice()
    // a fraction stays within [0, 1] (all zeros is a flat line at 0, not an axis from −1 to 1)
    : o.fraction ? scaleLinear().domain([0, Math.max(y1, 0.05)]).range([f.h, 0]).nice()
    : scaleLinear().domain(y0 === y1 ? [y0 - 1, y1 + 1] : [Math.min(0, y0), y1]).range([f.h, 0]).nice();
  const gen = line<[number, number]>().x((p) => x(p[0])).y((p) => y(p[1]));
  pts.forEach((s, i) => {
    f.plot.append('path').attr('class', `series series-${i % 6}`).attr('d', gen(s.pts) ?? '');
    if (s.pts.length === 1) f.plot.append('circle').attr('class', `dot series-${i % 6}`).attr('r', 3).attr('cx', x(s.pts[0]![0])).attr('cy', y(s.pts[0]![1]));
  });
  axes(f, x, y, o.xLabel, o.yLabel);
  if (pts.length > 1) {
    const legend = h('div', 'legend');
    pts.forEach((s, i) => legend.append(h('span', `legend-item series-${i % 6}`, h('span', 'swatch'), s.name)));
    parent.lastElementChild!.append(legend);
  }
}

/** Bar chart over indices (e.g. a spectrum), optionally marking one bar. */
export function barChart(parent: HTMLElement, values: ArrayLike<number>, o: { title: string; xLabel: string; yLabel: string; mark?: number; markLabel?: string; logY?: boolean; limit?: number }): void {
  const n = Math.min(values.length, o.limit ?? 64);
  if (n === 0) { empty(parent, o.title, 'no data'); return; }
  const data = Array.from({ length: n }, (_, i) => ({ i, v: values[i]! }));
  const f = frame(parent, o.title);
  const x = scaleLinear().domain([0, n]).range([0, f.w]);
  const positive = data.filter((d) => d.v > 0).map((d) => d.v);
  const y = o.logY && positive.length ? scaleLog().domain([Math.min(...positive), Math.max(...positive) * 1.2]).range([f.h, 0]).clamp(true)
    : scaleLinear().domain([0, d3max(data, (d) => d.v) ?? 1]).range([f.h, 0]).nice();
  f.plot.append('g').selectAll('rect').data(data).join('rect').attr('class', (d) => (d.i === o.mark ? 'bar bar-marked' : 'bar'))
    .attr('x', (d) => x(d.i) + 0.5).attr('width', Math.max(1, f.w / n - 1)).attr('y', (d) => y(Math.max(d.v, y.domain()[0]!)))
    .attr('height', (d) => Math.max(0, f.h - y(Math.max(d.v, y.domain()[0]!))))
    .append('title').text((d) => `#${d.i + 1}: ${fmt(d.v)}`);
  axes(f, x, y, o.xLabel, o.yLabel);
  if (o.mark !== undefined && o.markLabel) {
    f.plot.append('text').attr('class', 'marker-label').attr('x', x(o.mark) + f.w / n + 4).attr('y', 12).text(o.markLabel);
  }
}

export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  /** Indices drawn as clickable SVG points on top (at most `maxHighlighted`). */
  highlighted?: number[];
  maxHighlighted?: number;
  onClick?: (index: number) => void;
  describe?: (index: number) => string;
  /** Reference lines. */
  hLine?: { y: number; label: string };
  vLine?: { x: number; label: string };
}

/** Scatter of many points: canvas for the bulk, SVG circles (clickable, focusable) for the highlighted. */
export function scatter(parent: HTMLElement, xs: ArrayLike<number>, ys: ArrayLike<number>, o: ScatterOptions): void {
  const idx: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const a = xs[i]!, b = ys[i]!;
    if (Number.isFinite(a) && Number.isFinite(b) && (!o.logX || a > 0) && (!o.logY || b > 0)) idx.push(i);
  }
  if (idx.length === 0) { empty(parent, o.title, 'no data'); return; }
  const f = frame(parent, o.title, 240);
  const [x0, x1] = extent(idx, (i) => xs[i]!) as [number, number];
  const [y0, y1] = extent(idx, (i) => ys[i]!) as [number, number];
  const pad = (lo: number, hi: number): [number, number] => (lo === hi ? [lo - 1, hi + 1] : [lo, hi]);
  const x = (o.logX ? scaleLog().domain(pad(x0, x1 === x0 ? x0 * 10 : x1)) : scaleLinear().domain(pad(Math.min(0, x0), x1))).range([0, f.w]).nice();
  const y = (o.logY ? scaleLog().domain(pad(y0, y1 === y0 ? y0 * 10 : y1)) : scaleLinear().domain(pad(Math.min(0, y0), y1))).range([f.h, 0]).nice();
  // Bulk points on a canvas inside a foreignObject would fight the CSP-free layout; draw them as one path.
  const path: string[] = [];
  for (const i of idx) path.push(`M${x(xs[i]!).toFixed(1)},${y(ys[i]!).toFixed(1)}h0.01`);
  f.plot.append('path').attr('class', 'scatter-bulk').attr('d', path.join(''));
  axes(f, x, y, o.xLabel, o.yLabel);
  if (o.hLine && Number.isFinite(o.hLine.y) && y(o.hLine.y) >= 0 && y(o.hLine.y) <= f.h) {
    const yy = y(o.hLine.y);
    f.plot.append('line').attr('class', 'marker').attr('x1', 0).attr('x2', f.w).attr('y1', yy).attr('y2', yy);
    f.plot.append('text').attr('class', 'marker-label').attr('x', f.w - 4).attr('y', yy - 4).attr('text-anchor', 'end').text(o.hLine.label);
  }
  if (o.vLine && Number.isFinite(o.vLine.x) && x(o.vLine.x) >= 0 && x(o.vLine.x) <= f.w) {
    const xx = x(o.vLine.x);
    f.plot.append('line').attr('class', 'marker').attr('x1', xx).attr('x2', xx).attr('y1', 0).attr('y2', f.h);
    f.plot.append('text').attr('class', 'marker-label').attr('x', xx + 4).attr('y', 10).text(o.vLine.label);
  }
  const hi = (o.highlighted ?? []).filter((i) => Number.isFinite(xs[i]!) && Number.isFinite(ys[i]!) && (!o.logX || xs[i]! > 0) && (!o.logY || ys[i]! > 0)).slice(0, o.maxHighlighted ?? 400);
  const pts = f.plot.append('g').selectAll('circle').data(hi).join('circle').attr('class', 'point-flagged')
    .attr('r', 4).attr('cx', (i) => x(xs[i]!)).attr('cy', (i) => y(ys[i]!))
    .attr('tabindex', o.onClick ? 0 : null).attr('role', o.onClick ? 'button' : null)
    .attr('aria-label', (i) => o.describe?.(i) ?? `#${i}`);
  pts.append('title').text((i) => o.describe?.(i) ?? `#${i}`);
  if (o.onClick) {
    const onClick = o.onClick;
    pts.on('click', (_e, i) => onClick(i)).on('keydown', (e: KeyboardEvent, i) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onClick(i); } });
  }
}
