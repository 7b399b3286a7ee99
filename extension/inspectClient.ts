/**
 * Starts the statistics worker (src/workers/inspect.worker.ts) for one file and returns its report. No vscode
 * import: unit tests run it in plain Node, which matters because the e2e extension host is plain Node while
 * desktop VS Code runs it in Electron's Node.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';
import { oneLine } from '../src/errors';
import type { InspectReport } from '../src/formats/inspect';
import { MessageHandler } from '../src/runtime/rpc';
import type { InspectWorkerRequests } from '../src/protocol/tensorEditor';

type Empty = Record<string, never>;

export interface InspectJob { report: Promise<InspectReport>; cancel(): void }

export function inspectInWorker(workerFile: string, path: string, options?: WorkerOptions): InspectJob {
  const worker = new Worker(workerFile, options);
  const rpc = new MessageHandler<InspectWorkerRequests, Empty, Empty, Empty>((m) => worker.postMessage(m));
  worker.on('message', (m: unknown) => { void rpc.receive(m); });
  worker.on('error', (e) => rpc.dispose(`the statistics worker crashed: ${oneLine(e)}`));
  worker.on('exit', (code) => rpc.dispose(code === 0 ? 'the statistics worker stopped' : `the statistics worker exited with code ${code}`));
  const report = rpc.request('inspect', { path }).finally(() => void worker.terminate());
  return { report, cancel: () => { rpc.dispose('cancelled'); void worker.terminate(); } };
}
