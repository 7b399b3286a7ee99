/**
 * Worker entry: computes a file's tensor statistics (inspectPath) off the caller's thread. The extension's
 * tensor editor starts one per opened file; it answers one `inspect` request and may then be terminated.
 */
import { parentPort } from 'node:worker_threads';
import { MessageHandler } from '../runtime/rpc';
import type { InspectWorkerRequests } from '../protocol/tensorEditor';
import { inspectPath } from '../formats/inspect';

if (parentPort) {
  const port = parentPort;
  const handler = new MessageHandler<Record<string, never>, Record<string, never>, InspectWorkerRequests, Record<string, never>>((m) => port.postMessage(m));
  handler.onRequest('inspect', ({ path }) => inspectPath(path));
  port.on('message', (m: unknown) => { void handler.receive(m); });
}
