/**
 * Worker thread behind the atom map: the layout (PCA, neighbour search, UMAP) takes seconds to minutes
 * for large dictionaries, so it runs here, posting its stage as `progress` events, never on the host.
 */
import { parentPort } from 'node:worker_threads';
import { MessageHandler } from '../runtime/rpc';
import { atomMapLayout } from '../views/atomMapLayout';
import type { AtomMapWorkerEvents, AtomMapWorkerRequests } from '../protocol/atomMap';


if (parentPort) {
  const port = parentPort;
  const rpc = new MessageHandler<Record<string, [unknown, unknown]>, AtomMapWorkerEvents, AtomMapWorkerRequests, Record<string, unknown>>((m) => port.postMessage(m));
  port.on('message', (m) => { void rpc.receive(m); });
  rpc.onRequest('layout', ({ saeDirs, seed }) => atomMapLayout(saeDirs, { seed, onProgress: (stage, fraction) => rpc.event('progress', { stage, fraction }) }));
}
