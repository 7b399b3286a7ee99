/**
 * The training monitor: live loss parts, EV, L0, dead fraction, tokens/s and ETA from TrainingProgress
 * events, with Cancel and Resume. `trainingCharts` is also the overview's "training curves".
 */
import type { TrainingModel } from '../../src/protocol/viewModels';
import type { RunState } from '../../src/protocol/trainingPanel';
import type { TrainingProgress } from '../../src/protocol/training';
import { lineChart } from '../shared/charts';
import { button, clear, facts, h, section } from '../shared/dom';
import { duration, fmt, int, pct } from '../shared/format';

export function trainingCharts(parent: HTMLElement, t: TrainingModel): void {
  const x = t.tokens.some((v) => Number.isFinite(v) && v > 0) ? t.tokens : t.step;
  const xLabel = x === t.tokens ? 'tokens' : 'step';
  const cells = [0, 1, 2, 3].map(() => h('div', 'chart-cell'));
  parent.append(...cells);
  let next = 0;
  const cell = (): HTMLElement => cells[next++]!;
  const positive = t.loss.every((s) => s.values.every((v) => !Number.isFinite(v) || v > 0));
  lineChart(cell(), x, t.loss.map((s) => ({ name: s.name, values: s.values })), { title: 'loss parts', xLabel, yLabel: 'loss', logY: positive && t.loss.length > 0 });
  lineChart(cell(), x, [{ name: 'EV', values: t.explainedVariance }], { title: 'explained variance', xLabel, yLabel: 'EV' });
  lineChart(cell(), x, [{ name: 'L0', values: t.l0 }], { title: 'L0', xLabel, yLabel: 'active latents' });
  lineChart(cell(), x, [{ name: 'dead', values: t.deadFraction }], { title: 'dead fraction', xLabel, yLabel: 'fraction', fraction: true });
}

export interface TrainingActions { cancel(): void; resume(): void }

/** Live view; call `progress` per event (redraws at most once per animation frame). */
export class TrainingView {
  private rows: TrainingProgress[] = [];
  private base: TrainingModel | undefined;
  private state: RunState = 'running';
  private message = '';
  /** The run left a checkpoint: Resume continues from it (the host says so). */
  private resumable = false;
  private pending = 0;
  private readonly summary = h('div', 'training-summary');
  private readonly status = h('div', 'status-line');
  private readonly charts = h('div', 'grid-2');
  private readonly cancelBtn: HTMLElement & { disabled: boolean };
  private readonly resumeBtn: HTMLElement & { disabled: boolean };

  constructor(root: HTMLElement, private readonly runId: string, actions: TrainingActions) {
    clear(root);
    this.cancelBtn = button('Cancel', 'debug-stop', () => { actions.cancel(); this.setStatus('cancelling'); });
    this.resumeBtn = button('Resume', 'debug-continue', () => { actions.resume(); this.setStatus('running'); });
    this.status.setAttribute('role', 'status');
    root.append(
      h('header', 'page-header', h('h1', '', 'Training'), h('span', 'muted', runId), h('div', 'toolbar', this.cancelBtn, this.resumeBtn)),
      this.status, section('Progress', this.summary), section('Curves', this.charts));
    this.draw();
  }

  setHistory(model: TrainingModel, state: RunState, message = '', resumable = false): void {
    this.base = model;
    this.rows = [];
    this.state = state;
    this.message = message;
    this.resumable = resumable;
    this.schedule();
  }

  progress(p: TrainingProgress): void {
    this.rows.push(p);
    if (this.state !== 'cancelling') this.state = 'running';
    this.schedule();
  }

  setStatus(state: RunState, message = '', resumable = false): void {
    this.state = state;
    this.message = message;
    this.resumable = resumable;
    this.schedule();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => { this.pending = 0; this.draw(); });
  }

  /** Logged history plus the live events, as one model. */
  model(): TrainingModel {
    const b = this.base;
    const r = this.rows;
    const cat64 = (a: Float64Array | undefined, f: (p: TrainingProgress) => number): Float64Array => Float64Array.from([...(a ?? []), ...r.map(f)]);
    const cat32 = (a: Float32Array | undefined, f: (p: TrainingProgress) => number): Float32Array => Float32Array.from([...(a ?? []), ...r.map(f)]);
    const names = new Set<string>([...(b?.loss.map((l) => l.name) ?? []), ...r.flatMap((p) => Object.keys(p.loss))]);
    const n0 = b?.step.length ?? 0;
    return {
      runId: this.runId,
      step: cat64(b?.step, (p) => p.step), tokens: cat64(b?.tokens, (p) => p.tokens),
      loss: [...names].map((name) => ({ name, values: cat32(b?.loss.find((l) => l.name === name)?.values ?? new Float32Array(n0).fill(NaN), (p) => p.loss[name] ?? NaN) })),
      explainedVariance: cat32(b?.explainedVariance, (p) => p.explainedVariance), l0: cat32(b?.l0, (p) => p.l0),
      deadFraction: cat32(b?.deadFraction, (p) => p.deadFraction), tokensPerSecond: cat32(b?.tokensPerSecond, (p) => p.tokensPerSecond),
    };
  }

  private draw(): void {
    const last = this.rows[this.rows.length - 1];
    const m = this.model();
    const at = (a: ArrayLike<number>): number => (a.length ? a[a.length - 1]! : NaN);
    this.status.textContent = `${this.state}${this.message ? ` — ${this.message}` : ''}`;
    this.status.className = `status-line state-${this.state}`;
    this.cancelBtn.disabled = this.state !== 'running';
    this.resumeBtn.disabled = !(this.resumable && (this.state === 'cancelled' || this.state === 'error'));
    clear(this.summary);
    const total = last?.totalSteps ?? this.base?.totalSteps;
    this.summary.append(facts([
      ['step', `${int(at(m.step))}${total ? ` / ${int(total)}` : ''}`],
      ['tokens', `${int(at(m.tokens))}${last?.totalTokens ? ` / ${int(last.totalTokens)} (${pct(last.tokens / last.totalTokens)})` : ''}`],
      ['tokens/s', int(at(m.tokensPerSecond))],
      // an ETA only means something while the run runs
      ['ETA', this.state === 'running' ? duration(last?.etaSeconds ?? this.base?.etaSeconds) : this.state === 'done' ? 'finished' : '—'],
      ['explained variance', fmt(at(m.explainedVariance))],
      ['L0', fmt(at(m.l0))],
      ['dead fraction', pct(at(m.deadFraction))],
      ['engine', last?.engine ?? this.base?.engine ?? '—'],
      ...m.loss.map((l) => [`loss: ${l.name}`, fmt(at(l.values))] as [string, string]),
    ]));
    clear(this.charts);
    trainingCharts(this.charts, m);
  }
}
