// A link to one tensor of a multi-tensor .safetensors file reaches every reader as one string,
// `<file>#<tensor>` (src/data/saeData.ts ResolvedSaeData.source): the evaluation sample, the feature-page
// pass, the eval.json key and the panels' worker all read that tensor, not another and not "name one".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeSafetensors } from '../../../src/io/safetensors';
import { writeNpy } from '../../../src/io/npy';
import { openRowSource, splitTensorPath } from '../../../src/io/rowReader';
import { recordSaeData, resolveSaeData } from '../../../src/data/saeData';
import { readActivationSample } from '../../../src/views/activations';
import { openPassSource } from '../../../src/views/featurePass';
import { MessageHandler } from '../../../src/runtime/rpc';
import type { PanelDataRequests } from '../../../src/protocol/panelData';
import { seededRandom, writeTinySae } from '../../e2e/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'sae-tensor-source-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 300, D = 16;
function rows(seed: number, scale: number): Float32Array {
  const rand = seededRandom(seed), a = new Float32Array(ROWS * D);
  for (let i = 0; i < a.length; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}
const resid = rows(5, 1), mlp = rows(6, 3);
const multi = join(dir, 'acts.safetensors');
writeSafetensors(multi, [['resid', { dtype: 'F32', shape: [ROWS, D], data: resid }], ['mlp_out', { dtype: 'F32', shape: [ROWS, D], data: mlp }]]);
// the same rows as the mlp_out tensor, alone in a .npy: what reading the right tensor must give
const mlpAlone = join(dir, 'mlp_out.npy');
writeNpy(mlpAlone, { dtype: 'F32', shape: [ROWS, D], data: mlp });
const sae = join(dir, 'sae');
writeTinySae(sae, { dIn: D, dSae: 32 });
recordSaeData(sae, { activations: [multi], tensor: 'mlp_out' });

test('the resolved data names file and tensor in one string; every reader reads that tensor', () => {
  const data = resolveSaeData(sae);
  assert.equal(data?.source, `${multi}#mlp_out`);
  assert.deepEqual(splitTensorPath(data!.source), { path: multi, tensor: 'mlp_out' });
  assert.deepEqual(splitTensorPath(mlpAlone), { path: mlpAlone }, 'a path without a tensor is itself');
  assert.equal(resolveSaeData(sae, { activations: multi, tensor: 'resid' })?.source, `${multi}#resid`, 'the workspace link names its own tensor');
  // without a tensor the file is ambiguous: the reader says so instead of guessing
  assert.throws(() => readActivationSample(multi, 100, D), /found 2 \(resid, mlp_out\); name one/);
  const source = openRowSource(data!.source);
  assert.equal(source.path, multi, 'rows are read from the file, not from a path with #');
  const s = readActivationSample(data!.source, 100, D);
  const want = readActivationSample(mlpAlone, 100, D);
  assert.deepEqual(s.x, want.x, 'the sample is the mlp_out tensor\'s rows');
  assert.notDeepEqual(s.x, readActivationSample(`${multi}#resid`, 100, D).x);
  assert.deepEqual(openPassSource(data!.source).read(10, 12), openPassSource(mlpAlone).read(10, 12), 'the feature-page pass reads the same tensor');
  assert.throws(() => readActivationSample(`${multi}#nope`, 100, D), new RegExp(`${multi.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no tensor named 'nope'`));
});

test('the panels\' worker answers on the named tensor: dictionary metrics equal those of that tensor alone', async () => {
  const worker = new Worker(join(__dirname, '..', '..', '..', 'dist', 'workers', 'panelData.worker.js'));
  const rpc = new MessageHandler<PanelDataRequests, Record<string, unknown>, Record<string, [unknown, unknown]>, Record<string, unknown>>((m) => worker.postMessage(m));
  worker.on('message', (m) => { void rpc.receive(m); });
  try {
    const source = resolveSaeData(sae)!.source;
    const onTensor = await rpc.request('dictionary', { saeDir: sae, activations: source });
    const alone = await rpc.request('dictionary', { saeDir: sae, activations: mlpAlone });
    const other = await rpc.request('dictionary', { saeDir: sae, activations: `${multi}#resid` });
    assert.equal(onTensor.metrics.tokens, ROWS);
    assert.equal(onTensor.metrics.explainedVariance, alone.metrics.explainedVariance);
    assert.notEqual(onTensor.metrics.explainedVariance, other.metrics.explainedVariance);
    const page = await rpc.request('feature', { saeDir: sae, latent: 3, activations: source });
    assert.equal(page.latent, 3);
    // eval.json beside the SAE records what it was measured on, tensor included
    const rec = await rpc.request('evaluate', { saeDir: sae, activations: source });
    assert.equal(rec?.activations, source);
    assert.equal(rec?.explained_variance, onTensor.metrics.explainedVariance);
  } finally {
    await worker.terminate();
  }
});
