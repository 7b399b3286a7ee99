/**
 * The training monitor: one panel per run, fed live by whoever started the run (TrainingControls), and
 * restored after a reload from what the run left behind (its record and training_log.jsonl): a run that
 * finished, was cancelled or failed shows that state and its curves; a run the reload interrupted shows
 * it was interrupted; Resume is offered only when a checkpoint is there to continue from.
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { PanelArgs } from '../../src/protocol/panels';
import type { HostToTrainingEvents, RunState, TrainingToHostEvents } from '../../src/protocol/trainingPanel';
import { TRAINING_VIEW_TYPE } from '../../src/protocol/trainingPanel';
import type { TrainingProgress } from '../../src/protocol/training';
import { readTrainingLog, trainingModelFrom, TRAINING_LOG_FILE } from '../../src/views/trainingLog';
import type { TrainingModel } from '../../src/protocol/viewModels';
import { bind, createPanel } from './base';
import type { Channel } from './base';

export interface RunStatus { state: RunState; message?: string; resumable?: boolean }

/** Run controls the training monitor needs from whoever started the run. */
export interface TrainingControls {
  cancel(): void;
  resume(): void;
  status?: vscode.Event<RunStatus>;
  /** Where the run writes (its training log is read when the panel has no live history). */
  outDir?: string;
  /** The state when the panel opens (a restored run). */
  initial?: RunStatus;
  /** Progress the host kept of a run that has ended (thinned): the curves when the log has fewer rows. */
  history?: TrainingProgress[];
}

type NoRequests = Record<string, [unknown, unknown]>;
type TrainingChannel = Channel<HostToTrainingEvents, NoRequests, TrainingToHostEvents>;

interface Monitor {
  panel: vscode.WebviewPanel;
  ch: TrainingChannel;
  rows: TrainingProgress[];
  status: RunStatus;
  controls?: TrainingControls;
  subs: vscode.Disposable[];
}

const monitors = new Map<string, Monitor>();

/** What the panel shows before live events: this session's events, else the run's log on disk. */
function historyOf(m: Monitor): TrainingModel {
  const kept = trainingModelFrom(m.rows.length ? m.rows : m.controls?.history ?? []);
  if (m.rows.length || !m.controls?.outDir) return kept;
  let logged: TrainingModel | undefined;
  try { logged = readTrainingLog(join(m.controls.outDir, TRAINING_LOG_FILE))?.model; } catch { logged = undefined; }
  // the trainer logs every so many steps: a run stopped early may have fewer logged rows than the host kept
  return logged && logged.step.length >= kept.step.length ? logged : kept;
}

function attach(m: Monitor, runId: string, progress?: vscode.Event<TrainingProgress>, controls?: TrainingControls): void {
  for (const s of m.subs) s.dispose();
  m.subs = [];
  if (controls) { m.controls = controls; if (controls.initial) m.status = controls.initial; }
  if (progress) {
    m.subs.push(progress((p) => {
      if (p.runId !== runId) return;
      m.rows.push(p);
      m.ch.event('progress', { progress: p });
    }));
  }
  if (controls?.status) m.subs.push(controls.status((s) => { m.status = s; m.ch.event('status', s); }));
}

export function trainingPanel(context: vscode.ExtensionContext, runId: string, progress?: vscode.Event<TrainingProgress>, controls?: TrainingControls,
  restored?: vscode.WebviewPanel): vscode.WebviewPanel {
  const open = monitors.get(runId);
  if (open && !restored) {
    // a resumed run reports to the monitor it was resumed from
    attach(open, runId, progress, controls);
    if (progress) { open.status = { state: 'running' }; open.ch.event('status', open.status); }
    open.panel.reveal(undefined, true);
    return open.panel;
  }
  const panel = restored ?? createPanel(context, TRAINING_VIEW_TYPE, `Training ${runId}`);
  const args: PanelArgs = { saeDirs: [], runId };
  const m = { panel, rows: [], status: { state: 'running' }, subs: [] } as unknown as Monitor;
  m.ch = bind<HostToTrainingEvents, NoRequests, TrainingToHostEvents>(panel, context, 'training', (c) => {
    c.event('history', { model: historyOf(m), args, state: m.status.state, message: m.status.message, resumable: m.status.resumable });
  });
  attach(m, runId, progress, controls);
  monitors.set(runId, m);
  m.ch.onEvent('cancel', () => { if (m.controls && m.status.state === 'running') m.controls.cancel(); else m.ch.event('error', { message: 'this run is not running' }); });
  m.ch.onEvent('resume', () => { if (m.controls && m.status.resumable) m.controls.resume(); else m.ch.event('error', { message: 'this run left no checkpoint to resume from' }); });
  panel.onDidDispose(() => { for (const s of m.subs) s.dispose(); if (monitors.get(runId) === m) monitors.delete(runId); });
  return panel;
}
