/**
 * Optional cross-check against real PyTorch, skipped unless some python3 on this machine imports torch:
 * files torch.save wrote (every dtype, a transposed view and an offset view sharing one storage, an
 * nn.Parameter, strings and dicts beside tensors, an nn.Linear state_dict) read back to torch's own
 * values; and the .pt files our Python fixture script and our TS test writer produce load in real torch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readTorchFile } from '../../../src/io/torch';
import type { Tensor } from '../../../src/io/tensor';
import { readNpy } from '../../../src/io/npy';
import { toFloat32 } from '../../../src/io/tensor';
import { writeTorchStateDict } from '../../fixtures/torchWriter';
import { pythonFixtures } from './helpers';

const script = resolve(__dirname, '../../fixtures/torch_crosscheck.py');
const python = ['python3', '/usr/bin/python3', '/usr/bin/python3.11'].find((p) => spawnSync(p, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0);

test('real torch.save files read back to torch\'s values; our .pt files load in real torch', { skip: python ? false : 'no python3 with torch on this machine (optional cross-check)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-realtorch-'));
  const r = spawnSync(python!, [script, 'save', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const root = readTorchFile(join(dir, 'real.pt')).root as Map<string, unknown>;
  for (const name of ['f32', 'f64', 'f16', 'bf16', 'i64', 'i32', 'bool', 'u8', 'transposed', 'offset_view', 'param', 'scalar_f32']) {
    const ours = root.get(name) as Tensor;
    const want = readNpy(join(dir, `${name}.npy`));
    assert.deepEqual(ours.shape, want.shape, name);
    if (ours.dtype === 'I64') assert.deepEqual([...ours.data], [...want.data], name);
    else assert.deepEqual(Array.from(toFloat32(ours)), Array.from(toFloat32(want)), name);
  }
  assert.equal(root.get('activation'), 'TopK');
  assert.equal((root.get('activation_state_dict') as Map<string, unknown>).get('k'), 32);
  const lin = (readTorchFile(join(dir, 'linear.pt')).root as Map<string, Tensor>).get('weight')!;
  assert.deepEqual(Array.from(toFloat32(lin)), Array.from(toFloat32(readNpy(join(dir, 'linear_weight.npy')))));

  const ours = join(dir, 'ours.pt');
  writeTorchStateDict(ours, [['w', { dtype: 'BF16', shape: [2], data: Uint16Array.from([0x3f80, 0x4000]) }], ['k', { dtype: 'I64', shape: [], data: BigInt64Array.from([3n]) }]]);
  const files = [ours];
  const fx = pythonFixtures();
  if (typeof fx !== 'string') files.push(join(fx.dir, 'dictionary_learning/trainer_2/ae.pt'), join(fx.dir, 'openai_topk.pt'), join(fx.dir, 'crosscoder/cc_weights.pt'));
  const l = spawnSync(python!, [script, 'load', ...files], { encoding: 'utf8' });
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /ours\.pt \{'w': \(\(2,\), 'torch\.bfloat16'\), 'k': \(\(\), 'torch\.int64'\)\}/);
});
