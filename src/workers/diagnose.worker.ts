/**
 * The diagnostics worker (worker_threads entry; built to dist/workers/diagnose.worker.js): answers
 * 'diagnose' requests with a DiagnosticReport and sends 'progress' events, so that the extension host
 * never runs the numeric work on its own thread.
 */
import { parentPort } from 'node:worker_threads';
import { MessageHandler } from '../runtime/rpc';
import type { EventMap, RequestMap } from '../runtime/rpc';
import type { DiagnosticsWorkerEvents, DiagnosticsWorkerRequests } from '../protocol/diagnosticsWorker';
import { diagnoseFiles } from '../diagnostics/files';

if (parentPort) {
  const port = parentPort;
  const handler = new MessageHandler<RequestMap, DiagnosticsWorkerEvents, DiagnosticsWorkerRequests, EventMap>((msg, transfer) => port.postMessage(msg, transfer as never));
  handler.onRequest('diagnose', (req) => diagnoseFiles(req, (stage) => handler.event('progress', { stage })));
  port.on('message', (m) => { void handler.receive(m); });
}
