import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodeNpy, readNpy, readNpyHeader, readNpz, writeNpy } from '../../../src/io/npy';
import { toFloat32 } from '../../../src/io/tensor';
import { InputError } from '../../../src/errors';
import { pythonFixtures, readManifest, tempDir } from '../../helpers/fixtures';

interface Manifest { npy: Record<string, { shape: number[]; values: number[] }>; npz: Record<string, { shape: number[]; values: number[] }> }

test('reads .npy files of every supported dtype written by numpy', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const m = readManifest<Manifest>(dir).npy;
  for (const [file, exp] of Object.entries(m)) {
    const t = readNpy(join(dir, file));
    assert.deepEqual(t.shape, exp.shape, file);
    const got = Array.from(toFloat32(t));
    assert.equal(got.length, exp.values.length, file);
    exp.values.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${file}[${i}]`));
  }
});

test('reads stored and deflated .npz archives', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const m = readManifest<Manifest>(dir).npz;
  for (const f of ['stored.npz', 'deflated.npz']) {
    const arrays = readNpz(join(dir, f));
    for (const [name, exp] of Object.entries(m)) {
      const t = arrays.get(name)!;
      assert.deepEqual(t.shape, exp.shape);
      assert.deepEqual(Array.from(toFloat32(t)), exp.values.map((v) => Math.fround(v)));
    }
  }
});

test('refuses big-endian and Fortran-order arrays with a message saying how to fix them', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  assert.throws(() => readNpy(join(dir, 'bigendian.npy')), /bigendian\.npy: big-endian .* not supported; save with/);
  assert.throws(() => readNpy(join(dir, 'fortran.npy')), /fortran\.npy: Fortran-order .* np\.ascontiguousarray/);
});

test('our .npy writer produces files numpy reads back identically', () => {
  const dir = tempDir();
  const p = join(dir, 'ours.npy');
  const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.25 - 1);
  writeNpy(p, { dtype: 'F32', shape: [3, 4], data });
  const r = spawnSync('python3', ['-c', `import numpy as np,json; a=np.load(${JSON.stringify(p)}); print(json.dumps([a.dtype.str, list(a.shape), a.ravel().tolist()]))`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [descr, shape, values] = JSON.parse(r.stdout) as [string, number[], number[]];
  assert.equal(descr, '<f4');
  assert.deepEqual(shape, [3, 4]);
  assert.deepEqual(values, Array.from(data));
  assert.equal(readNpyHeader(p).dataStart % 64, 0);
  assert.deepEqual(Array.from(readNpy(p).data as Float32Array), Array.from(data));
});

test('bad .npy input gets one-line errors naming the file', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const good = readFileSync(join(dir, 'f4.npy'));
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad magic', Buffer.from('not an npy file at all'), /bad magic/],
    ['truncated data', good.subarray(0, good.length - 4), /truncated \.npy data/],
    ['truncated header', good.subarray(0, 20), /header length \d+ runs past the end/],
    ['unknown dtype', Buffer.from(good.toString('latin1').replace("'<f4'", "'<c8'"), 'latin1'), /unsupported \.npy dtype '<c8'/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(() => decodeNpy(new Uint8Array(bytes), 'x.npy'), (e: unknown) => e instanceof InputError && /^x\.npy: /.test(e.message) && re.test(e.message), name);
  }
  const tmp = tempDir();
  writeFileSync(join(tmp, 'bad.npz'), 'PK\x03\x04 truncated zip');
  assert.throws(() => readNpz(join(tmp, 'bad.npz')), /bad\.npz: not a readable \.npz/);
});
