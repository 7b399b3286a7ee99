/**
 * Runs a training run on the PyTorch backend (python/sae_workbench_train: CUDA or CPU, several GPUs through
 * torchrun) and turns its JSON progress lines into the TrainingEvents the built-in engine emits, so the CLI
 * and the training monitor follow it unchanged. The handle is startTraining's: `done` resolves with the
 * summary, `cancel` asks for a checkpoint and a stop (a `.cancel` file in the output folder, which the run
 * polls every step — it also reaches ranks under torchrun and runs started elsewhere — plus SIGINT).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { CancelledError, InputError } from '../errors';
import type { TrainingEvent } from '../protocol/training';
import type { TrainHandle, TrainOptions } from './api';

export interface TorchOptions {
  /** The Python interpreter (default: $SAE_WORKBENCH_PYTHON, else python3). */
  python?: string;
  /** Processes under torchrun (1: one plain process). */
  nproc?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  bf16?: boolean;
  tf32?: boolean;
}

/** The file a run polls to stop (written by `cancel`, or by hand / by the editor for a run started elsewhere). */
export const CANCEL_FILE = '.cancel';

export function defaultPython(): string {
  return process.env.SAE_WORKBENCH_PYTHON || 'python3';
}

/** The folder holding the Python packages (python/ of the repository or the installed extension). */
export function pythonPackageRoot(): string {
  const fromEnv = process.env.SAE_WORKBENCH_PYTHONPATH;
  if (fromEnv) return fromEnv;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'python', 'sae_workbench_train', '__main__.py'))) return join(dir, 'python');
    if (dirname(dir) === dir) throw new InputError('sae_workbench_train', `the Python backend's folder was not found above ${__dirname}`);
  }
}

/** The backend's command-line arguments for a run's options (the same option names as `sae-workbench train`). */
export function torchArgs(o: TrainOptions, t: TorchOptions = {}): string[] {
  const a: string[] = [];
  const add = (flag: string, v: unknown): void => { if (v !== undefined && v !== null && v !== false) a.push(flag, ...(v === true ? [] : [String(v)])); };
  if (o.activations.length) a.push('--activations', ...o.activations);
  add('--out', o.outDir);
  add('--arch', o.arch);
  if (o.width) add('--width', o.width);
  add('--k', o.k); add('--l1', o.l1); add('--tokens', o.tokens); add('--batch', o.batch); add('--lr', o.lr); add('--seed', o.seed);
  add('--checkpoint-every', o.checkpointEvery); add('--resume', o.resume); add('--non-finite', o.onNonFinite); add('--tensor', o.tensorName);
  add('--memory-budget', o.memoryBudget); add('--lr-warmup', o.lrWarmupSteps); add('--lr-decay', o.lrDecaySteps); add('--l1-warmup', o.sparsityWarmupSteps);
  add('--unit-norm-decoder', o.unitNormDecoder); add('--no-normalize', o.normalize === false); add('--dead-tokens', o.deadTokens);
  add('--resample-every', o.resampleEvery); add('--weighting', o.weighting); add('--weight-alpha', o.weightAlpha); add('--ground-truth', o.groundTruth);
  add('--no-aux-k', o.auxK === false); add('--bandwidth', o.bandwidth); add('--init-threshold', o.initThreshold); add('--decoder-init-norm', o.decoderInitNorm); add('--b-dec-init', o.bDecInit);
  add('--target', o.target); add('--skip', o.skip); add('--crosscoder', o.crosscoder); add('--matryoshka-widths', o.matryoshkaWidths?.join(','));
  add('--run-id', o.runId); add('--device', t.device); add('--bf16', t.bf16); add('--tf32', t.tf32);
  if ((t.nproc ?? 1) === 1) add('--threads', o.threads);
  return a;
}

/** argv of the whole command: `python -m sae_workbench_train …`, or torchrun's for nproc > 1. */
export function torchCommand(o: TrainOptions, t: TorchOptions = {}): { python: string; argv: string[]; env: Record<string, string> } {
  const python = t.python ?? defaultPython();
  const nproc = t.nproc ?? 1;
  const argv = nproc > 1
    ? ['-m', 'sae_workbench_train.torchrun', '--standalone', '--nproc_per_node', String(nproc), '-m', 'sae_workbench_train', ...torchArgs(o, t)]
    : ['-m', 'sae_workbench_train', ...torchArgs(o, t)];
  const path = [pythonPackageRoot(), process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  return { python, argv, env: { PYTHONPATH: path, PYTHONUNBUFFERED: '1' } };
}

/** Refuses an interpreter that does not run, before anything starts. */
export function checkInterpreter(python: string): void {
  const r = spawnSync(python, ['-c', 'import sys; print(sys.version_info[0])'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new InputError(python, `cannot run this Python interpreter (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); name one with --python or SAE_WORKBENCH_PYTHON`);
  if (r.status !== 0 || r.stdout.trim() !== '3') throw new InputError(python, 'is not a working Python 3 interpreter');
}

interface BackendLine { event: string; progress?: unknown; runId?: string; step?: number; path?: string; summary?: Record<string, unknown>; lastCheckpoint?: string }

/** Starts the run; events arrive as from the built-in engine. */
export function startTorchTraining(opts: TrainOptions, t: TorchOptions, onEvent: (e: TrainingEvent) => void): TrainHandle {
  const runId = opts.runId ?? `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const o = { ...opts, runId };
  const { python, argv, env } = torchCommand(o, t);
  checkInterpreter(python);
  const cancelPath = join(resolve(o.outDir), CANCEL_FILE);
  rmSync(cancelPath, { force: true });
  const child = spawn(python, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let lastCheckpoint: string | undefined;
  let stderrTail = '';
  const done = new Promise<Record<string, unknown>>((res, rej) => {
    let summary: Record<string, unknown> | undefined;
    let cancelled = false;
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        let m: BackendLine;
        try { m = JSON.parse(line) as BackendLine; } catch { continue; }
        if (m.event === 'progress') onEvent({ type: 'progress', progress: m.progress as never });
        else if (m.event === 'checkpoint' && m.path) { lastCheckpoint = m.path; onEvent({ type: 'checkpoint', runId, step: m.step ?? 0, path: m.path }); }
        else if (m.event === 'done') summary = m.summary;
        else if (m.event === 'cancelled') { cancelled = true; lastCheckpoint = m.lastCheckpoint ?? lastCheckpoint; }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => { stderrTail = (stderrTail + chunk).slice(-4000); });
    child.on('error', (e) => { onEvent({ type: 'error', runId, message: e.message, lastCheckpoint }); rej(e); });
    child.on('close', (code) => {
      rmSync(cancelPath, { force: true });
      if (code === 0 && summary) {
        onEvent({ type: 'done', runId, outDir: o.outDir, summary });
        res(summary);
      } else if (cancelled || code === 130) {
        onEvent({ type: 'cancelled', runId, lastCheckpoint });
        rej(new CancelledError());
      } else {
        const lines = stderrTail.trim().split('\n').filter(Boolean);
        const last = lines.at(-1) ?? `the Python backend exited with code ${code}`;
        onEvent({ type: 'error', runId, message: last, lastCheckpoint });
        // exit 2 is the backend's "bad input" (one line naming the file); anything else is a crash
        rej(code === 2 ? new InputError('', last) : new Error(`the Python backend exited with code ${code}: ${last}`));
      }
    });
  });
  return {
    runId,
    done,
    cancel: () => {
      try { mkdirSync(dirname(cancelPath), { recursive: true }); writeFileSync(cancelPath, `${new Date().toISOString()}\n`); } catch { /* the signal below still stops a single process */ }
      if ((t.nproc ?? 1) === 1) child.kill('SIGINT');
    },
  };
}

/**
 * A ready cluster job for a run: `<outDir>/torchrun/run.json` (the backend's arguments) and
 * `<outDir>/torchrun/train.sh`, which runs them under torchrun on NPROC processes per node (NNODES nodes,
 * rendezvous at MASTER_ADDR:MASTER_PORT when more than one). Paths are as this machine sees them; the script
 * says which to change when the cluster mounts the data elsewhere. Returns both paths.
 */
export function writeTorchrunScript(o: TrainOptions, t: TorchOptions = {}): { script: string; config: string } {
  const dir = join(resolve(o.outDir), 'torchrun');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'run.json');
  writeFileSync(config, JSON.stringify({ args: torchArgs({ ...o, outDir: resolve(o.outDir), activations: o.activations.map((a) => resolve(a)) }, { ...t, nproc: Math.max(2, t.nproc ?? 2) }) }, null, 2) + '\n');
  const script = join(dir, 'train.sh');
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(script, [
    '#!/usr/bin/env bash',
    `# SAE Workbench: ${o.arch} SAE, width ${o.width}, on the PyTorch backend under torchrun (written ${new Date().toISOString()}).`,
    '# Run it on each node of the job (e.g. from an sbatch script). The arguments are in run.json beside it:',
    '# activation files and the output folder are absolute paths of the machine that wrote it; edit them when the',
    '# cluster mounts them elsewhere. The editor watches the output folder (training_log.jsonl) and cancels by',
    '# writing a .cancel file there. PYTHON: an interpreter with torch; SAE_WORKBENCH_PYTHONPATH: the folder holding',
    '# sae_workbench_train (copy it to the cluster when the default below is not visible there).',
    'set -euo pipefail',
    `PYTHON="\${PYTHON:-${t.python ?? defaultPython()}}"`,
    `export PYTHONPATH="\${SAE_WORKBENCH_PYTHONPATH:-${pythonPackageRoot()}}\${PYTHONPATH:+:$PYTHONPATH}"`,
    `NPROC="\${NPROC:-${t.nproc ?? 2}}"`,
    'NNODES="${NNODES:-1}"',
    'if [ "$NNODES" = 1 ]; then RDZV=(--standalone); else RDZV=(--nnodes "$NNODES" --rdzv_backend c10d --rdzv_endpoint "${MASTER_ADDR:?set MASTER_ADDR}:${MASTER_PORT:-29500}" --rdzv_id "${RDZV_ID:-sae-workbench}"); fi',
    `exec "$PYTHON" -m sae_workbench_train.torchrun "\${RDZV[@]}" --nproc_per_node "$NPROC" -m sae_workbench_train --config ${q(config)} "$@"`,
    '',
  ].join('\n'), { mode: 0o755 });
  return { script, config };
}
