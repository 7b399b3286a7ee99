import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pythonFixtures, tempDir } from '../../helpers/fixtures';
import { writeNpy } from '../../../src/io/npy';
import { spawnCli as cli } from '../../helpers/cli';

interface Report { kind: string; sae?: { architecture: string; d_in: number; d_sae: number; hook_name: string }; tensors: { name: string; dtype: string; shape: number[]; nan: number; inf: number; min: number; max: number }[] }

test('inspect --json reports names, dtypes and shapes of files written by other tools', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const r = cli(['inspect', '--json', join(dir, 'all_dtypes.safetensors')]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  assert.equal(rep.kind, 'safetensors');
  const byName = Object.fromEntries(rep.tensors.map((t) => [t.name, t]));
  assert.deepEqual(byName.bf16 && [byName.bf16.dtype, byName.bf16.shape], ['BF16', [2, 3]]);
  assert.deepEqual(byName.i64 && [byName.i64.dtype, byName.i64.shape, byName.i64.min], ['I64', [3], -(2 ** 40)]);
  assert.equal(rep.tensors.length, 8);

  const npz = JSON.parse(cli(['inspect', '--json', join(dir, 'deflated.npz')]).stdout) as Report;
  assert.deepEqual(npz.tensors.map((t) => [t.name, t.dtype, t.shape]).sort(), [['W_enc', 'F32', [6, 4]], ['b_enc', 'F32', [4]]]);
  const npy = JSON.parse(cli(['inspect', '--json', join(dir, 'i8.npy')]).stdout) as Report;
  assert.deepEqual([npy.tensors[0]!.dtype, npy.tensors[0]!.shape, npy.tensors[0]!.max], ['I64', [2], 2 ** 40]);
});

test('inspect of an SAE folder gives architecture, d_in, d_sae and hook name', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const r = cli(['inspect', '--json', join(dir, 'saelens_v6')]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  assert.equal(rep.kind, 'sae');
  assert.deepEqual(rep.sae && [rep.sae.d_in, rep.sae.d_sae, rep.sae.hook_name], [6, 10, 'blocks.8.hook_resid_pre']);
  const text = cli(['inspect', join(dir, 'saelens_v6')]);
  assert.match(text.stdout, /d_in 6, d_sae 10, hook blocks\.8\.hook_resid_pre/);
});

test('NaN/Inf in weights is a warning, not a crash', () => {
  const dir = tempDir();
  const p = join(dir, 'nan.npy');
  writeNpy(p, { dtype: 'F32', shape: [4], data: Float32Array.from([1, NaN, Infinity, -2]) });
  const r = cli(['inspect', '--json', p]);
  assert.equal(r.code, 0);
  const rep = JSON.parse(r.stdout) as Report;
  assert.deepEqual([rep.tensors[0]!.nan, rep.tensors[0]!.inf, rep.tensors[0]!.min, rep.tensors[0]!.max], [1, 1, -2, 1]);
  assert.match(r.stderr, /warning: .*nan\.npy: tensor 'nan' has 1 NaN and 1 Inf values/);
});

test('bad input: exit code 2, one line naming the file, no stack trace unless --verbose', () => {
  const dir = tempDir();
  const p = join(dir, 'broken.safetensors');
  writeFileSync(p, Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]));
  const r = cli(['inspect', p]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /broken\.safetensors: safetensors header length 200 runs past the end of the file/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  const v = cli(['--verbose', 'inspect', p]);
  assert.equal(v.code, 2);
  assert.match(v.stderr, /at .*safetensors\.ts/);
  const missing = cli(['inspect', join(dir, 'nope.npy')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.npy: no such file or folder/);
  const unknown = cli(['inspect', dir]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /folder is not a recognised SAE/);
  assert.equal(cli(['no-such-command']).code, 2);
});
