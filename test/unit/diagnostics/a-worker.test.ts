import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageHandler } from '../../../src/runtime/rpc';
import type { EventMap, RequestMap } from '../../../src/runtime/rpc';
import type { DiagnosticsWorkerEvents, DiagnosticsWorkerRequests } from '../../../src/protocol/diagnosticsWorker';
import { generate, writeSynthetic } from '../../../src/synthetic';
import { dictionarySae } from '../../helpers/exactDictionary';
import { saveSaeLens } from '../../../src/formats/saelens';

test('the diagnostics worker answers a diagnose request with progress events, and reports input errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'diag-worker-'));
  // the built worker is plain JS; in tests the TypeScript source runs through tsx's CommonJS hook
  const entry = join(__dirname, '../../../src/workers/diagnose.worker.ts');
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true });
  try {
    const ds = generate('g3', { seed: 1, tokens: 600, features: 16, dIn: 48 });
    const paths = writeSynthetic(ds, join(dir, 'data'));
    const m = ds.nFeatures + 2, d = ds.d;
    const atoms = new Float32Array(m * d);
    atoms.set(ds.features);
    for (let j = 0; j < d; j++) { atoms[ds.nFeatures * d + j] = ds.denseDirection![j]; atoms[(ds.nFeatures + 1) * d + j] = -ds.denseDirection![j]; }
    saveSaeLens(dictionarySae(atoms, m, d, ds.bias, 0.1), join(dir, 'sae'));
    const host = new MessageHandler<DiagnosticsWorkerRequests, EventMap, RequestMap, DiagnosticsWorkerEvents>((msg) => worker.postMessage(msg));
    worker.on('message', (msg) => { void host.receive(msg); });
    const stages: string[] = [];
    host.onEvent('progress', (p) => stages.push(p.stage));
    const report = await host.request('diagnose', { saePath: join(dir, 'sae'), activationsPath: paths.activations, skip: ['identity'] });
    assert.equal((report.sections.antipodal as { dense: unknown[] }).dense.length, 1);
    assert.ok(stages.includes('read') && stages.includes('kkt') && stages.includes('wideLimit'), stages.join(','));
    await assert.rejects(host.request('diagnose', { saePath: join(dir, 'sae'), activationsPath: join(dir, 'missing.npy') }), /missing\.npy: cannot read/);
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
});
