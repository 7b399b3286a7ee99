/**
 * Starting our workers both when running from source under tsx (tests, benches) and when bundled
 * (dist/workers/<name>.worker.js next to dist/cli, dist/extension or dist/workers itself).
 *
 * From source, Node 20 does not apply `--import tsx` given in a worker's execArgv to the worker's entry
 * (ERR_UNKNOWN_FILE_EXTENSION), so the worker starts from a two-line CommonJS bootstrap that registers
 * tsx's require hook and then requires the .ts entry.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';

export type WorkerName = 'trainer' | 'kernel' | 'diagnosticsPool';

/** Each worker's entry file from the repository root (when running from source). */
const SOURCE: Record<WorkerName, string> = { trainer: 'src/workers/trainer.worker.ts', kernel: 'src/workers/kernel.worker.ts', diagnosticsPool: 'src/workers/diagnosticsPool.worker.ts' };

export function workerFile(name: WorkerName): { file: string; fromSource: boolean } {
  if (__filename.endsWith('.ts')) return { file: join(__dirname, '..', '..', SOURCE[name]), fromSource: true };
  const candidates = [join(__dirname, '..', 'workers', `${name}.worker.js`), join(__dirname, `${name}.worker.js`)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`the ${name} worker bundle is missing (looked for ${candidates.join(', ')}); run npm run build`);
  return { file: found, fromSource: false };
}

export function startWorker(name: WorkerName, workerData: unknown, transferList?: TransferListItem[]): Worker {
  const { file, fromSource } = workerFile(name);
  if (fromSource) return new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData, transferList });
  return new Worker(file, { workerData, transferList });
}
