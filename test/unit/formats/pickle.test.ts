/**
 * The restricted pickle parser and the .pt reader: Python's own pickles of plain containers (every
 * protocol) parse to the same values; tensors of every storage dtype, offsets and strides come back
 * right; hostile or unknown globals are refused by name and never run; broken archives are InputErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { isInputError } from '../../../src/errors';
import { PyDict, PyTuple, unpickle } from '../../../src/io/pickle';
import type { PyValue } from '../../../src/io/pickle';
import { readTorchFile, readTorchStructure } from '../../../src/io/torch';
import type { Tensor } from '../../../src/io/tensor';
import { loadModel } from '../../../src/formats';
import { torchPickle, writeTorchStateDict } from '../../fixtures/torchWriter';
import { pythonFixtures } from './helpers';
import { inspectPath } from '../../../src/cli/commands/inspect';

const tmp = mkdtempSync(join(tmpdir(), 'saewb-pickle-'));
const hasPython = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

function toPlain(v: PyValue): unknown {
  if (v instanceof PyTuple) return { tuple: v.items.map(toPlain) };
  if (v instanceof PyDict) return Object.fromEntries([...v.map].map(([k, x]) => [String(k), toPlain(x)]));
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return { bytes: [...v] };
  return v;
}

test('Python pickles of plain containers parse identically under protocols 2–5 (0–1 are refused cleanly)', { skip: hasPython ? false : 'python3 is not available' }, () => {
  const py = `
import pickle, sys, collections
shared = [1, 2]
obj = {'int': -5, 'big': 2**70, 'neg': -2**40, 'f': 1.5, 's': 'héllo', 'none': None, 't': True, 'fl': False,
       'tup': (1, (2, 3), ()), 'list': [shared, shared], 'nested': {'a': {'b': [1.25]}}, 'od': collections.OrderedDict([('x', 1), ('y', 2)])}
for p in range(6):
    if p >= 3: obj['b'] = b'\\x00\\x01'  # protocol 2 spells bytes as _codecs.encode(...), which is refused
    sys.stdout.buffer.write(pickle.dumps(obj, protocol=p).hex().encode() + b'\\n')
`;
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = {
    int: -5, big: `${2n ** 70n}n`, neg: -(2 ** 40), f: 1.5, s: 'héllo', none: null, t: true, fl: false,
    tup: { tuple: [1, { tuple: [2, 3] }, { tuple: [] }] }, list: [[1, 2], [1, 2]], nested: { a: { b: [1.25] } }, od: { x: 1, y: 2 },
  };
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 6);
  lines.forEach((hex, p) => {
    if (p < 2) {
      // torch writes protocol 2; protocol 0 spells text with UNICODE, an opcode a state_dict never needs:
      // either it parses to the same value or it is refused cleanly
      try { assert.deepEqual(toPlain(unpickle(Buffer.from(hex, 'hex'), 'p').value), want); } catch (e) { assert.ok(isInputError(e), String(e)); }
      return;
    }
    const { value } = unpickle(Buffer.from(hex, 'hex'), `protocol ${p}`);
    assert.deepEqual(toPlain(value), p >= 3 ? { ...want, b: { bytes: [0, 1] } } : want, `protocol ${p}`);
  });
});

test('tensors of every storage dtype, with offsets and strides, read back exactly', () => {
  const cases: [string, Tensor][] = [
    ['f32', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6]) }],
    ['f64', { dtype: 'F64', shape: [2], data: Float64Array.from([1e300, -0.5]) }],
    ['f16', { dtype: 'F16', shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff]) }],
    ['bf16', { dtype: 'BF16', shape: [2, 1], data: Uint16Array.from([0x3f80, 0x4049]) }],
    ['i64', { dtype: 'I64', shape: [], data: BigInt64Array.from([-7n]) }],
    ['i32', { dtype: 'I32', shape: [1, 2], data: Int32Array.from([2147483647, -1]) }],
    ['i16', { dtype: 'I16', shape: [2], data: Int16Array.from([-300, 300]) }],
    ['i8', { dtype: 'I8', shape: [2], data: Int8Array.from([-128, 127]) }],
    ['u8', { dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) }],
    ['bool', { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) }],
  ];
  const path = join(tmp, 'dtypes.pt');
  writeTorchStateDict(path, cases);
  const root = readTorchFile(path).root as Map<string, Tensor>;
  for (const [name, t] of cases) {
    const got = root.get(name)!;
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual([...got.data], [...t.data], name);
  }
  const structure = readTorchStructure(path).root as Map<string, { shape: number[] }>;
  assert.deepEqual(structure.get('f32')!.shape, [2, 3], 'structure-only read has shapes');
  const report = inspectPath(path);
  assert.equal(report.kind, 'pt', 'a .pt that is not an SAE is inspected as tensors');
  assert.deepEqual(report.tensors.find((t) => t.name === 'f32'), { name: 'f32', dtype: 'F32', shape: [2, 3], min: -2, max: 6, mean: 17.5 / 6, nan: 0, inf: 0 });
});

test('a tensor that is an offset, strided view of a shared storage is gathered in row-major order', () => {
  // storage [0..11]; tensor A = storage[2:8] as [2,3]; tensor B = transpose view [3,2] with stride (1,3) at offset 0
  const storage = Float32Array.from({ length: 12 }, (_, i) => i);
  const w = (s: string): number[] => [...Buffer.from(s, 'latin1')];
  const str = (s: string): number[] => [0x8c, s.length, ...w(s)];
  const pid = [0x28, ...str('storage'), 0x63, ...w('torch\nFloatStorage\n'), ...str('0'), ...str('cpu'), 0x4b, 12, 0x74, 0x51];
  const rebuild = (offset: number, shape: number[], stride: number[]): number[] => [
    0x63, ...w('torch._utils\n_rebuild_tensor_v2\n'), 0x28, ...pid, 0x4b, offset,
    0x28, ...shape.flatMap((s) => [0x4b, s]), 0x74, 0x28, ...stride.flatMap((s) => [0x4b, s]), 0x74, 0x89, 0x7d, 0x74, 0x52,
  ];
  const pkl = Uint8Array.from([0x80, 2, 0x7d, 0x28, ...str('A'), ...rebuild(2, [2, 3], [3, 1]), ...str('B'), ...rebuild(0, [3, 2], [1, 3]), 0x75, 0x2e]);
  const path = join(tmp, 'strided.pt');
  writeFileSync(path, zipSync({ 'strided/data.pkl': [pkl, { level: 0 }], 'strided/data/0': [new Uint8Array(storage.buffer), { level: 0 }] }));
  const root = readTorchFile(path).root as Map<string, Tensor>;
  assert.deepEqual([...root.get('A')!.data], [2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...root.get('B')!.data], [0, 3, 1, 4, 2, 5]);
});

function expectInputError(fn: () => unknown, pattern: RegExp, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isInputError(e), `${what}: expected an InputError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, pattern, what);
    assert.ok(!(e as Error).message.includes('\n'), `${what}: one line`);
    return true;
  });
}

test('hostile globals are refused by name, whichever opcode names them, and nothing runs', () => {
  const marker = join(tmp, 'pwned');
  const w = (s: string): number[] => [...Buffer.from(s, 'latin1')];
  const str = (s: string): number[] => [0x8c, s.length, ...w(s)];
  const call = (cmd: string): number[] => [...str(cmd), 0x85, 0x52];
  const hostile: [string, number[]][] = [
    ['os.system', [0x80, 2, 0x63, ...w('os\nsystem\n'), ...call(`touch ${marker}`), 0x2e]],
    ['posix.system', [0x80, 4, ...str('posix'), ...str('system'), 0x93, ...call(`touch ${marker}`), 0x2e]],
    ['builtins.eval', [0x80, 4, ...str('builtins'), ...str('eval'), 0x93, ...call(`open('${marker}','w')`), 0x2e]],
    ['builtins.exec', [0x80, 2, 0x63, ...w('builtins\nexec\n'), ...call('1'), 0x2e]],
    ['subprocess.check_output', [0x80, 4, ...str('subprocess'), ...str('check_output'), 0x93, ...call('id'), 0x2e]],
    ['mymodel.Net', [0x80, 2, 0x63, ...w('mymodel\nNet\n'), 0x29, 0x52, 0x2e]],
  ];
  for (const [name, bytes] of hostile) {
    expectInputError(() => unpickle(Uint8Array.from(bytes), 'evil.pkl'), new RegExp(`'${name.replace('.', '\\.')}'`), name);
    const path = join(tmp, `${name}.pt`);
    writeFileSync(path, zipSync({ 'evil/data.pkl': [Uint8Array.from(bytes), { level: 0 }] }));
    expectInputError(() => loadModel(path), new RegExp(`'${name.replace('.', '\\.')}'`), `${name} via loadModel`);
  }
  // a hostile entry inside an otherwise valid state_dict
  const path = join(tmp, 'ae.pt');
  writeTorchStateDict(path, [['W', { dtype: 'F32', shape: [1], data: Float32Array.from([1]) }]], (pw) => {
    pw.str('payload').global('os', 'system').str(`touch ${marker}`).op(0x85, 0x52);
  });
  expectInputError(() => readTorchFile(path), /'os\.system'/, 'os.system in a state_dict');
  assert.ok(!existsSync(marker), 'nothing was executed');
});

test('hostile pickles made by Python\'s own pickler are refused', { skip: typeof pythonFixtures() === 'string' ? 'no python fixtures' : false }, () => {
  const { dir } = pythonFixtures() as { dir: string };
  for (const [file, global] of [['hostile_os_system.pt', 'posix.system'], ['hostile_builtins_eval.pt', '__builtin__.eval'], ['hostile_subprocess_popen.pt', 'commands.Popen']]) {
    expectInputError(() => loadModel(join(dir, file!)), new RegExp(`refusing to load.*'${global!.replace('.', '\\.')}'`), file!);
  }
});

test('malformed pickles and archives are one-line InputErrors', () => {
  const good = torchPickle([['W', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }]]);
  const zip = (files: Record<string, Uint8Array>): string => {
    const p = join(tmp, `bad-${Math.random().toString(36).slice(2)}.pt`);
    writeFileSync(p, zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level: 0 }]]))));
    return p;
  };
  const storage = new Uint8Array(Float32Array.from([1, 2]).buffer);
  expectInputError(() => unpickle(good.subarray(0, good.length - 5), 'p'), /pickle: /, 'truncated pickle');
  expectInputError(() => unpickle(Uint8Array.from([0x80, 2, 0x69, 0x2e]), 'p'), /opcode 0x69 is not allowed/, 'INST opcode');
  expectInputError(() => unpickle(Uint8Array.from([0x80, 2, 0x68, 7, 0x2e]), 'p'), /memo 7/, 'undefined memo');
  expectInputError(() => unpickle(Uint8Array.from([0x80, 2, 0x29, 0x29, 0x2e]), 'p'), /STOP with 2 items/, 'two roots');
  expectInputError(() => unpickle(Uint8Array.from([0x80, 2, 0x4e, 0x51, 0x2e]), 'p'), /persistent id/, 'bad persistent id');
  expectInputError(() => readTorchFile(zip({ 'a/data.pkl': good })), /storage '0' is missing/, 'missing storage');
  expectInputError(() => readTorchFile(zip({ 'a/data.pkl': good, 'a/data/0': storage.subarray(0, 5) })), /has 5 bytes/, 'short storage');
  expectInputError(() => readTorchFile(zip({ 'a/data.pkl': good, 'a/data/0': storage, 'a/byteorder': Buffer.from('big') })), /byte order/, 'big-endian');
  expectInputError(() => readTorchFile(zip({ 'a/other.bin': storage })), /no <name>\/data\.pkl/, 'no data.pkl');
  const ok = zip({ 'a/data.pkl': good, 'a/data/0': storage });
  assert.deepEqual([...(readTorchFile(ok).root as Map<string, Tensor>).get('W')!.data], [1, 2]);
  const bytes = readFileSync(ok);
  for (const cut of [10, bytes.length >> 1, bytes.length - 30, bytes.length - 1]) {
    const p = join(tmp, `trunc-${cut}.pt`);
    writeFileSync(p, bytes.subarray(0, cut));
    expectInputError(() => readTorchFile(p), /zip|torch/, `truncated at ${cut}`);
  }
  const legacy = join(tmp, 'legacy.pt');
  writeFileSync(legacy, Uint8Array.from([0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, ...new Array(30).fill(0)]));
  expectInputError(() => readTorchFile(legacy), /legacy torch/, 'legacy format');
});

test('self-containing, deeply nested and exponentially shared pickles are refused or read in linear time', () => {
  const path = (name: string, pkl: number[]): string => {
    const p = join(tmp, `${name}.pt`);
    writeFileSync(p, zipSync({ [`${name}/data.pkl`]: [Uint8Array.from(pkl), { level: 0 }] }));
    return p;
  };
  // L = []; L.append(L)
  expectInputError(() => readTorchFile(path('cycle', [0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e])), /nested deeper than/, 'cycle');
  // [[[[...]]]] 5000 deep
  const deep = [0x80, 2, ...new Array(5000).fill([0x5d]).flat(), ...new Array(4999).fill(0x61), 0x2e];
  expectInputError(() => readTorchFile(path('deep', deep)), /nested deeper than/, 'deep nesting');
  // L0 = [1]; L_i = [L_{i-1}, L_{i-1}] for 60 levels (2^60 leaves if expanded); every level stays on the
  // stack inside one MARK … TUPLE so that STOP sees one item
  const pkl: number[] = [0x80, 2, 0x28, 0x5d, 0x4b, 1, 0x61, 0x71, 0];
  for (let i = 1; i <= 60; i++) pkl.push(0x5d, 0x68, i - 1, 0x61, 0x68, i - 1, 0x61, 0x71, i);
  pkl.push(0x74, 0x2e);
  const value = readTorchFile(path('laughs', pkl)).root as unknown[];
  assert.equal(value.length, 61);
});
