import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../../src/io/safetensors';
import { fromFloat32, toFloat32 } from '../../../src/io/tensor';
import type { Tensor } from '../../../src/io/tensor';
import { InputError } from '../../../src/errors';
import { pythonFixtures, readManifest, tempDir } from '../../helpers/fixtures';

interface Manifest { 'all_dtypes.safetensors': { metadata: Record<string, string>; tensors: Record<string, { dtype: string; shape: number[]; values: number[] }> } }

test('reads every dtype of a safetensors file written by numpy + struct', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const m = readManifest<Manifest>(dir)['all_dtypes.safetensors'];
  const f = readSafetensors(join(dir, 'all_dtypes.safetensors'));
  assert.deepEqual(f.metadata, m.metadata);
  assert.deepEqual([...f.tensors.keys()].sort(), Object.keys(m.tensors).sort());
  for (const [name, exp] of Object.entries(m.tensors)) {
    const t = f.tensors.get(name)!;
    assert.equal(t.dtype, exp.dtype, name);
    assert.deepEqual(t.shape, exp.shape, name);
    const got = Array.from(toFloat32(t));
    exp.values.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${name}[${i}]: ${got[i]} vs ${v}`));
  }
});

test('round-trips through our writer, with 8-byte aligned data and zero-copy views', () => {
  const dir = tempDir();
  const tensors: Record<string, Tensor> = {
    a: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    h: fromFloat32('F16', [3], Float32Array.from([0.5, -2, 1024])),
    b: fromFloat32('BF16', [2], Float32Array.from([1.5, -3])),
    l: { dtype: 'I64', shape: [2], data: BigInt64Array.from([5n, -7n]) },
  };
  writeSafetensors(join(dir, 'x.safetensors'), tensors, { who: 'us' });
  const back = readSafetensors(join(dir, 'x.safetensors'));
  assert.deepEqual(back.metadata, { who: 'us' });
  assert.deepEqual(Array.from(toFloat32(back.tensors.get('a')!)), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(toFloat32(back.tensors.get('h')!)), [0.5, -2, 1024]);
  assert.deepEqual(Array.from(toFloat32(back.tensors.get('b')!)), [1.5, -3]);
  assert.deepEqual(Array.from(back.tensors.get('l')!.data as BigInt64Array), [5n, -7n]);
  const bytes = readFileSync(join(dir, 'x.safetensors'));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + headerLen) % 8, 0, 'data section starts 8-byte aligned');
  const buf = new Uint8Array(8 + headerLen + 64);
  buf.set(bytes.subarray(0, Math.min(bytes.length, buf.length)));
  const a = decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'mem').tensors.get('a')!;
  assert.equal(a.data.buffer, bytes.buffer, 'F32 tensor is a view into the file bytes');
});

/** Builds a safetensors byte string from a raw header object and a data length. */
function raw(header: unknown, dataBytes: number, headerLenOverride?: number): Uint8Array {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const out = Buffer.alloc(8 + h.length + dataBytes);
  out.writeBigUInt64LE(BigInt(headerLenOverride ?? h.length), 0);
  h.copy(out, 8);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const badCases: [string, Uint8Array, RegExp][] = [
  ['empty file', new Uint8Array(3), /truncated.*header length is missing/],
  ['header length beyond the file', raw({}, 0, 1000), /header length 1000 runs past the end/],
  ['invalid JSON', raw('{"a": ', 0), /not valid JSON/],
  ['header not an object', raw('[1,2]', 0), /not a JSON object/],
  ['unknown dtype', raw({ a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1), /unknown dtype "F8"/],
  ['bad shape', raw({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /shape \[-1\]/],
  ['byte count mismatch', raw({ a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, 12), /12 bytes for F32\[2, 2\], which needs 16/],
  ['offsets out of range (truncated data)', raw({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), /out of range.*truncated/],
  ['overlapping tensors', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /'a' and 'b' overlap/],
  ['metadata not strings', raw({ __metadata__: { n: 1 } }, 0), /__metadata__\.n is not a string/],
];

for (const [name, bytes, re] of badCases) {
  test(`bad safetensors: ${name} -> one-line InputError naming the file`, () => {
    assert.throws(() => decodeSafetensors(bytes, 'bad.safetensors'), (e: unknown) => {
      assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
      assert.match(e.message, /^bad\.safetensors: /);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });
}

test('header-only read agrees with the full read and survives a truncated data section', () => {
  const dir = tempDir();
  const p = join(dir, 't.safetensors');
  writeFileSync(p, Buffer.concat(encodeSafetensors({ w: { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) } })));
  assert.deepEqual(readSafetensorsHeader(p).entries.get('w')?.shape, [4, 4]);
  const full = readFileSync(p);
  writeFileSync(p, full.subarray(0, full.length - 10));
  assert.throws(() => readSafetensorsHeader(p), /out of range/);
  assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read: ENOENT/);
});
