/**
 * Running `python -m sae_workbench_capture` (python/sae_workbench_capture, docs/capture.md) as a child
 * process: its arguments, its JSON progress lines, cancel by SIGINT (the capture then keeps its complete
 * shards and exits 130; running it again resumes). The extension's "Capture Activations…" command wraps
 * this with a progress bar; nothing here imports vscode.
 */
import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';

export interface CaptureRequest {
  /** HF name or folder, TransformerLens name (with --model-kind), or module:factory. */
  model: string;
  sites: string[];
  /** .txt/.jsonl/.parquet file or a datasets name. */
  corpus: string;
  out: string;
  /** Further options, passed as they are (e.g. --context-length 256 --device cuda). */
  extraArgs?: string[];
}

/** The JSON lines the capture prints on stdout (python/sae_workbench_capture/capture.py). */
export type CaptureEvent =
  | { event: 'start'; out: string; sites: string[]; resumed_rows: number; resumed_contexts: number; device: string; model: string }
  | { event: 'progress'; rows: number; contexts: number; fraction: number | null; rows_per_s: number }
  | { event: 'shard'; file: string; rows: number; total_rows: number }
  | { event: 'done'; rows: number; shards: number; out: string; rows_per_s?: number; already_complete?: boolean }
  | { event: 'cancelled' };

export interface CaptureResult {
  outcome: 'done' | 'cancelled' | 'failed';
  /** Rows in the capture's complete shards (done: all of them). */
  rows: number;
  /** One line for the user: the capture's own error line when it failed. */
  message: string;
  exitCode: number | null;
}

export function captureArgs(r: CaptureRequest): string[] {
  return ['-m', 'sae_workbench_capture', '--model', r.model, ...r.sites.flatMap((s) => ['--site', s]), '--corpus', r.corpus, '--out', r.out, ...(r.extraArgs ?? [])];
}

/** Splits an options line the way a shell would for plain words and quoted strings (no expansion). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

export function parseCaptureLine(line: string): CaptureEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as { event?: unknown };
    return typeof v.event === 'string' ? (v as CaptureEvent) : undefined;
  } catch {
    return undefined;
  }
}

export interface RunCaptureOptions {
  /** Folder holding sae_workbench_capture and sae_workbench_common (the extension's python/). */
  pythonRoot: string;
  /** Working folder: module:factory models import from here (the workspace). */
  cwd?: string;
  onEvent?: (e: CaptureEvent) => void;
  /** Abort: SIGINT, then SIGKILL if the capture has not stopped after `killAfterMs`. */
  signal?: AbortSignal;
  killAfterMs?: number;
}

export function runCapture(python: string, request: CaptureRequest, o: RunCaptureOptions): Promise<CaptureResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, PYTHONPATH: [o.pythonRoot, process.env.PYTHONPATH].filter(Boolean).join(delimiter), PYTHONUNBUFFERED: '1' };
    const child = spawn(python, captureArgs(request), { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let rows = 0, pending = '', stderr = '', cancelled = false, settled = false;
    const finish = (r: CaptureResult): void => { if (!settled) { settled = true; resolve(r); } };
    const onLine = (line: string): void => {
      const e = parseCaptureLine(line.trim());
      if (!e) return;
      if (e.event === 'start') rows = e.resumed_rows;
      else if (e.event === 'shard') rows = e.total_rows;
      else if (e.event === 'done') rows = e.rows;
      o.onEvent?.(e);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      lines.forEach(onLine);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-8192); });
    let killTimer: NodeJS.Timeout | undefined;
    const abort = (): void => {
      cancelled = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 15_000);
    };
    if (o.signal?.aborted) abort();
    else o.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish({
        outcome: 'failed', rows: 0, exitCode: null,
        message: e.code === 'ENOENT' ? `Python interpreter '${python}' was not found (select one with the Python extension or set saeWorkbench.pythonPath)` : `could not start '${python}': ${e.message}`,
      });
    });
    child.on('close', (code) => {
      if (killTimer) clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', abort);
      if (pending) onLine(pending);
      const lastLine = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
      if (code === 0) finish({ outcome: 'done', rows, exitCode: 0, message: `captured ${rows.toLocaleString('en-US')} rows to ${request.out}` });
      else if (cancelled || code === 130) finish({ outcome: 'cancelled', rows, exitCode: code, message: `capture cancelled: ${rows.toLocaleString('en-US')} rows in complete shards are kept; run it again to resume` });
      else finish({ outcome: 'failed', rows, exitCode: code, message: lastLine || `the capture exited with code ${code}` });
    });
  });
}
