/**
 * Coordinates training runs: the trainer itself runs in worker threads behind src/train/api.ts; here we
 * only start runs, relay progress (notification with percentage, tokens/s, ETA and Cancel; the training
 * monitor panel), cancel, and report the outcome. The same entry point serves the palette wizard and the
 * `saeWorkbench.train` command API (tests and other extensions call it with an options object, no UI).
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { startWhere } from './trainLocation';
import type { WhereToTrain } from './trainLocation';
import type { TrainHandle, TrainOptions } from '../src/train/api';
import type { TrainingEvent, TrainingProgress } from '../src/protocol/training';
import { oneLine } from '../src/errors';
import { setTrainingRestorer, showTrainingMonitor } from './panels';
import type { RunStatus, TrainingControls } from './panels';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { CHECKPOINT_DIR, CHECKPOINT_FILE } from '../src/train/checkpoint';
import { adviceText, runWarnings } from '../src/train/outcome';
import { editorMessage, SETTING_LABEL } from './trainInputs';
import type { RunState } from '../src/protocol/trainingPanel';
import { readSettings } from './settings';
import { isCapture } from '../src/io/shards';

export interface TrainResult {
  runId: string;
  status: 'done' | 'cancelled' | 'error';
  outDir: string;
  summary?: Record<string, unknown>;
  message?: string;
  lastCheckpoint?: string;
}

interface Run { handle: TrainHandle; opts: TrainOptions; progress: vscode.EventEmitter<TrainingProgress>; status: vscode.EventEmitter<RunStatus>; last?: TrainingProgress }

/** What the workspace remembers of a run, so that its monitor restores the true state after a reload. */
interface RunRecord { outDir: string; state: RunState; message?: string; lastCheckpoint?: string; input: TrainOptions; at: number; progress?: TrainingProgress[] }

/** At most this many progress rows are kept in a run's record (every other one is dropped when full). */
const KEPT_ROWS = 256;
function keepRow(rows: TrainingProgress[], p: TrainingProgress): void {
  rows.push(p);
  if (rows.length > KEPT_ROWS) { const thinned = rows.filter((_, i) => i % 2 === 1 || i === rows.length - 1); rows.length = 0; rows.push(...thinned); }
}

export const LAST_RUN_KEY = 'saeWorkbench.lastTrainOptions';
const RUNS_KEY = 'saeWorkbench.trainingRuns';
const MAX_RECORDS = 30;
const ACTIVE_CONTEXT = 'saeWorkbench.trainingActive';

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '…';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** "42% · 18,300 tok/s · ETA 3 min · EV 0.81 · wasm-simd" */
export function progressMessage(p: TrainingProgress): string {
  const pct = p.totalTokens > 0 ? Math.floor((100 * p.tokens) / p.totalTokens) : 0;
  return `${pct}% · ${Math.round(p.tokensPerSecond).toLocaleString('en-US')} tok/s · ETA ${formatEta(p.etaSeconds)} · EV ${p.explainedVariance.toFixed(2)} · ${p.engine}`;
}

/** A checkpoint file left in a run's folder (what Resume continues from), if any. */
function existingCheckpoint(outDir: string): string | undefined {
  try {
    return readdirSync(join(outDir, CHECKPOINT_DIR)).includes(CHECKPOINT_FILE) ? join(outDir, CHECKPOINT_DIR, CHECKPOINT_FILE) : undefined;
  } catch { return undefined; }
}

export class TrainingRuns implements vscode.Disposable {
  private readonly runs = new Map<string, Run>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private counter = 0;
  /** Shown while runs are active, also when the progress notification is dismissed: click to cancel. */
  private readonly status = vscode.window.createStatusBarItem('saeWorkbench.training', vscode.StatusBarAlignment.Left, 10);

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.OutputChannel, private readonly onFinished: (outDir: string) => void) {
    this.status.name = 'SAE Workbench training';
    this.status.command = 'saeWorkbench.cancelTraining';
    setTrainingRestorer((runId) => this.restore(runId));
  }

  private records(): Record<string, RunRecord> { return this.context.workspaceState.get<Record<string, RunRecord>>(RUNS_KEY, {}); }

  private async remember(runId: string, rec: RunRecord): Promise<void> {
    const all = { ...this.records(), [runId]: rec };
    const keep = Object.entries(all).sort((a, b) => b[1].at - a[1].at).slice(0, MAX_RECORDS);
    await this.context.workspaceState.update(RUNS_KEY, Object.fromEntries(keep));
  }

  /** The monitor's feed for a run: live when it runs in this window, else its state as it ended. */
  private restore(runId: string): { progress?: vscode.Event<TrainingProgress>; controls?: TrainingControls } {
    const live = this.runs.get(runId);
    if (live) return { progress: live.progress.event, controls: this.controlsFor(runId, live.opts, { state: 'running' }, live.status.event) };
    const rec = this.records()[runId];
    if (!rec) return {};
    const checkpoint = rec.lastCheckpoint ?? existingCheckpoint(rec.outDir);
    // a run recorded as running that is not running here was stopped by the reload (its worker died with the window)
    const initial: RunStatus = rec.state === 'running' || rec.state === 'cancelling'
      ? { state: 'cancelled', message: `interrupted by a window reload${checkpoint ? '; Resume continues from the last checkpoint' : ' before its first checkpoint'}`, resumable: !!checkpoint }
      : { state: rec.state, message: rec.message, resumable: rec.state !== 'done' && !!checkpoint };
    return { controls: { ...this.controlsFor(runId, rec.input, initial), history: rec.progress } };
  }

  private controlsFor(runId: string, input: TrainOptions & { where?: WhereToTrain }, initial: RunStatus, status?: vscode.Event<RunStatus>): TrainingControls {
    return {
      cancel: () => this.cancel(runId),
      // the resumed run keeps the run id, so it reports to the same monitor
      resume: () => { void this.run({ ...input, runId, resume: true }, true); },
      status, outDir: input.outDir, initial,
    };
  }

  dispose(): void {
    for (const r of this.runs.values()) r.handle.cancel();
    this.changed.dispose();
    this.status.dispose();
  }

  private updateStatus(): void {
    const runs = [...this.runs.values()];
    if (runs.length === 0) { this.status.hide(); return; }
    const p = runs[0]!.last;
    const pct = p && p.totalTokens > 0 ? ` ${Math.floor((100 * p.tokens) / p.totalTokens)}%` : '';
    this.status.text = `$(sync~spin) SAE${pct}${runs.length > 1 ? ` (+${runs.length - 1})` : ''}`;
    this.status.tooltip = `${runs.map((r) => `${r.opts.runId}: ${r.last ? progressMessage(r.last) : 'starting…'}`).join('\n')}\nClick to cancel.`;
    this.status.show();
  }

  active(): string[] { return [...this.runs.keys()]; }

  /** Cancels one run, or every run when no id is given. Returns the ids asked to stop. */
  cancel(runId?: string): string[] {
    const ids = runId ? [runId].filter((id) => this.runs.has(id)) : this.active();
    for (const id of ids) this.runs.get(id)!.handle.cancel();
    return ids;
  }

  /** Fills what the caller left out from the settings (threads, engine, memory budget). */
  private withDefaults(opts: TrainOptions): TrainOptions {
    const s = readSettings();
    return {
      ...opts,
      threads: opts.threads ?? (s.threads || undefined),
      engine: opts.engine ?? s.engine,
      memoryBudget: opts.memoryBudget ?? s.memoryBudgetMB * 1024 * 1024,
      runId: opts.runId ?? `run-${Date.now().toString(36)}-${++this.counter}`,
    };
  }

  /** Starts a run and resolves when it ends (never rejects: the result says how it ended). */
  async run(given: TrainOptions & { where?: WhereToTrain }, ui: boolean): Promise<TrainResult> {
    // where it trains (trainLocation.ts): this machine, the PyTorch backend, or a torchrun job followed by its folder
    const { where, ...input } = given;
    const opts = this.withDefaults(input);
    const runId = opts.runId!;
    for (const a of opts.activations) {
      // a capture's site is named `<folder>#<site>`, which is no path on disk (src/io/shards.ts)
      if (!existsSync(a) && !isCapture(a)) return this.fail(runId, opts.outDir, `${a}: no such activation file`, ui);
    }
    if (this.runs.has(runId)) return this.fail(runId, opts.outDir, `a run with id ${runId} is already running`, ui);
    const progress = new vscode.EventEmitter<TrainingProgress>();
    const status = new vscode.EventEmitter<RunStatus>();
    let lastCheckpoint: string | undefined;
    const kept: TrainingProgress[] = [];
    // Declared before starting: the trainer may report synchronously.
    const run = { opts, progress, status } as Run;
    try {
      run.handle = startWhere(opts, where, (e: TrainingEvent) => {
        if (e.type === 'progress') {
          // which engine runs (native BLAS, WebAssembly SIMD, plain JS, PyTorch), once per run
          if (!run.last) this.log.appendLine(`training ${runId}: engine ${e.progress.engine}`);
          run.last = e.progress; keepRow(kept, e.progress); progress.fire(e.progress); this.updateStatus();
        }
        else if (e.type === 'checkpoint') lastCheckpoint = e.path;
        else if ((e.type === 'error' || e.type === 'cancelled') && e.lastCheckpoint) lastCheckpoint = e.lastCheckpoint;
      });
    } catch (e) {
      progress.dispose();
      status.dispose();
      return this.fail(runId, opts.outDir, oneLine(e), ui);
    }
    this.runs.set(runId, run);
    await this.updateContext();
    await this.context.workspaceState.update(LAST_RUN_KEY, { ...input, runId: undefined, resume: undefined });
    const record = (state: RunState, message?: string): Promise<void> => this.remember(runId, { outDir: opts.outDir, state, message, lastCheckpoint, input: { ...input, runId: undefined, resume: undefined }, at: Date.now(), progress: state === 'running' ? undefined : kept });
    await record('running');
    this.log.appendLine(`training ${runId}: ${opts.arch} width ${opts.width} on ${opts.activations.join(', ')} -> ${opts.outDir}`);
    if (ui) {
      // The monitor's Cancel stops this run; Resume continues it from its checkpoint in the same monitor.
      showTrainingMonitor(this.context, runId, progress.event, this.controlsFor(runId, { ...input, runId: undefined, resume: undefined, where }, { state: 'running' }, status.event));
      void this.showProgress(run);
    }
    let result: TrainResult;
    try {
      const summary = await run.handle.done;
      for (const note of (summary.engineNotes as string[] | undefined) ?? []) this.log.appendLine(`training ${runId}: engine note: ${note}`);
      result = { runId, status: 'done', outDir: opts.outDir, summary };
    } catch (e) {
      const cancelled = e instanceof Error && e.name === 'CancelledError';
      result = { runId, status: cancelled ? 'cancelled' : 'error', outDir: opts.outDir, message: cancelled ? undefined : editorMessage(oneLine(e)), lastCheckpoint };
    } finally {
      this.runs.delete(runId);
      progress.dispose();
      await this.updateContext();
    }
    const warnings = result.summary ? runWarnings(result.summary, opts.arch).map((w) => adviceText(w, (k) => SETTING_LABEL[k])) : [];
    if (warnings.length) result.message = warnings.join('; ');
    const resumable = result.status !== 'done' && !!(lastCheckpoint ?? existingCheckpoint(opts.outDir));
    status.fire({ state: result.status, message: result.message, resumable });
    status.dispose();
    await record(result.status, result.message);
    this.log.appendLine(`training ${runId}: ${result.status}${result.message ? ` (${result.message})` : ''}`);
    this.onFinished(opts.outDir);
    if (ui) this.announce(result);
    return result;
  }

  private async fail(runId: string, outDir: string, message: string, ui: boolean): Promise<TrainResult> {
    this.log.appendLine(`training ${runId}: not started: ${message}`);
    if (ui) void vscode.window.showErrorMessage(`SAE Workbench: training did not start: ${editorMessage(message)}`);
    return { runId, status: 'error', outDir, message };
  }

  private showProgress(run: Run): Thenable<void> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training SAE (${run.opts.arch}, ${run.opts.width.toLocaleString('en-US')} latents)`, cancellable: true },
      (reporter, token) => new Promise<void>((resolve) => {
        token.onCancellationRequested(() => run.handle.cancel());
        let reported = 0;
        const sub = run.progress.event((p) => {
          const pct = p.totalTokens > 0 ? (100 * p.tokens) / p.totalTokens : 0;
          reporter.report({ increment: Math.max(0, pct - reported), message: progressMessage(p) });
          reported = Math.max(reported, pct);
        });
        void run.handle.done.then(() => undefined, () => undefined).finally(() => { sub.dispose(); resolve(); });
      }),
    );
  }

  private announce(r: TrainResult): void {
    if (r.status === 'done') {
      const final = r.summary?.final as { explainedVariance?: number } | undefined;
      const ev = final?.explainedVariance ?? r.summary?.explainedVariance;
      const evText = typeof ev === 'number' ? ` (EV ${ev.toFixed(3)})` : '';
      if (r.message) void vscode.window.showWarningMessage(`SAE Workbench: the run in ${vscode.workspace.asRelativePath(r.outDir)} finished, but ${r.message}.`);
      void vscode.window.showInformationMessage(`SAE Workbench: training finished${evText}: ${vscode.workspace.asRelativePath(r.outDir)}`, 'Open Dictionary').then((pick) => {
        if (pick) void vscode.commands.executeCommand('saeWorkbench.showDictionary', r.outDir);
      });
    } else if (r.status === 'cancelled') {
      void vscode.window.showInformationMessage(`SAE Workbench: training cancelled${r.lastCheckpoint ? `; last checkpoint ${r.lastCheckpoint}` : ''}.`);
    } else {
      void vscode.window.showErrorMessage(`SAE Workbench: training failed: ${r.message}${r.lastCheckpoint ? ` (last checkpoint kept: ${r.lastCheckpoint})` : ''}`);
    }
  }

  private async updateContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', ACTIVE_CONTEXT, this.runs.size > 0);
    this.updateStatus();
    this.changed.fire();
  }
}
