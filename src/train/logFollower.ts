/**
 * Follows a run that this process did not start — a torchrun job on a cluster writing into a shared folder,
 * a run in another terminal — through its output folder: every new `step` record of training_log.jsonl
 * becomes a progress event (the records carry TrainingProgress's fields, for either engine), `summary`
 * ends it, `cancelled`/`error` records (the PyTorch backend writes them) end it as such. Cancel writes the
 * `.cancel` file the PyTorch backend polls every step. The handle is startTraining's.
 */
import { existsSync, mkdirSync, openSync, readSync, closeSync, fstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, InputError } from '../errors';
import type { TrainingEvent, TrainingProgress } from '../protocol/training';
import type { TrainHandle } from './api';
import { CANCEL_FILE } from './torchBackend';
import { TRAINING_LOG } from './trainer';

interface LogRecord extends Partial<TrainingProgress> { type: string; message?: string; checkpoint?: string; [key: string]: unknown }

/** Reads the records appended to a JSON-lines file since `offset` (whole lines only). */
export function readNewRecords(path: string, offset: number): { records: LogRecord[]; offset: number } {
  if (!existsSync(path)) return { records: [], offset };
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // a log rewritten from the start (a new run in the same folder) is read again from its beginning
    const from = size < offset ? 0 : offset;
    if (size === from) return { records: [], offset: from };
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    const records: LogRecord[] = [];
    for (const line of text.slice(0, end).split('\n')) {
      if (!line.trim()) continue;
      try { records.push(JSON.parse(line) as LogRecord); } catch { /* a torn line: skipped */ }
    }
    return { records, offset: from + Buffer.byteLength(text.slice(0, end)) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Watches `outDir` until its run ends. `fromStart`: replay the log already there (a run being resumed
 * appends to it); otherwise only what is appended after now. Polls every `pollMs`.
 */
export function followTrainingLog(outDir: string, runId: string, onEvent: (e: TrainingEvent) => void, opts: { pollMs?: number; fromStart?: boolean } = {}): TrainHandle {
  const logPath = join(outDir, TRAINING_LOG);
  let offset = !opts.fromStart && existsSync(logPath) ? fstatSizeOf(logPath) : 0;
  let timer: NodeJS.Timeout | undefined;
  let lastCheckpoint: string | undefined;
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    const poll = (): void => {
      let got: { records: LogRecord[]; offset: number };
      try { got = readNewRecords(logPath, offset); } catch (e) { clearInterval(timer); reject(new InputError(logPath, `cannot read the training log (${(e as Error).message})`)); return; }
      offset = got.offset;
      for (const r of got.records) {
        if (r.type === 'step') {
          const { type: _t, ...progress } = r;
          onEvent({ type: 'progress', progress: progress as unknown as TrainingProgress });
        } else if (r.type === 'checkpoint' && typeof r.checkpoint === 'string') {
          lastCheckpoint = r.checkpoint;
          onEvent({ type: 'checkpoint', runId, step: Number(r.step ?? 0), path: r.checkpoint });
        } else if (r.type === 'summary') {
          clearInterval(timer);
          const { type: _t, ...summary } = r;
          onEvent({ type: 'done', runId, outDir, summary });
          resolve(summary);
          return;
        } else if (r.type === 'cancelled') {
          clearInterval(timer);
          lastCheckpoint = r.checkpoint ?? lastCheckpoint;
          onEvent({ type: 'cancelled', runId, lastCheckpoint });
          reject(new CancelledError());
          return;
        } else if (r.type === 'error') {
          clearInterval(timer);
          const message = String(r.message ?? 'the run failed');
          onEvent({ type: 'error', runId, message, lastCheckpoint });
          reject(new InputError('', message));
          return;
        }
      }
    };
    timer = setInterval(poll, opts.pollMs ?? 1000);
    poll();
  });
  return {
    runId,
    done,
    cancel: () => {
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, CANCEL_FILE), `${new Date().toISOString()}\n`);
    },
  };
}

function fstatSizeOf(path: string): number {
  const fd = openSync(path, 'r');
  try { return fstatSync(fd).size; } finally { closeSync(fd); }
}
