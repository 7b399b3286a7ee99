import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectInWorker } from '../../../extension/inspectClient';
import { writeSafetensors } from '../../../src/io/safetensors';

// The worker is the TypeScript source, loaded through tsx's require hook (the extension starts the bundle
// in dist/workers; the protocol and the code are the same).
const SOURCE = join(__dirname, '../../../src/workers/inspect.worker.ts');
const WORKER = `require('tsx/cjs'); require(${JSON.stringify(SOURCE)});`;
const opts = { eval: true };

test('statistics come back from a worker thread and match values computed here', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sae-inspect-'));
  const file = join(dir, 't.safetensors');
  const a = new Float32Array([1, -2, 3, Number.NaN, 5, Number.POSITIVE_INFINITY]);
  writeSafetensors(file, { a: { dtype: 'F32', shape: [2, 3], data: a }, b: { dtype: 'F32', shape: [2], data: new Float32Array([0.5, 0.25]) } });
  const r = await inspectInWorker(WORKER, file, opts).report;
  const ta = r.tensors.find((t) => t.name === 'a')!;
  assert.deepEqual([ta.min, ta.max, ta.nan, ta.inf], [-2, 5, 1, 1]);
  assert.ok(Math.abs(ta.mean - (1 - 2 + 3 + 5) / 4) < 1e-6);
  assert.equal(r.tensors.find((t) => t.name === 'b')!.mean, 0.375);
  assert.equal(r.warnings.length, 1);
  rmSync(dir, { recursive: true });
});

test('a corrupt file rejects with a one-line error naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sae-inspect-'));
  const file = join(dir, 'bad.safetensors');
  writeFileSync(file, Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]));
  await assert.rejects(inspectInWorker(WORKER, file, opts).report, (e: Error) => e.message.includes(file) && !e.message.includes('\n'));
  rmSync(dir, { recursive: true });
});
