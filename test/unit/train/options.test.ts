// The decoder-row and b_dec choices of a run: TopK's rows start at unit norm and are then free (SAELens's
// recipe; --unit-norm-decoder keeps them unit), BatchTopK's are always unit, the choice is refused where an
// architecture has none; b_dec starts at the geometric median, the mean or 0 of a sample (--b-dec-init).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInputError } from '../../../src/errors';
import { bDecStart, geometricMedian } from '../../../src/train/init';
import { resolveOptions, runModelConfig } from '../../../src/train/options';
import type { TrainOptions } from '../../../src/train/options';

const base = { activations: ['x.npy'], outDir: 'out', width: 64, tokens: 4096 * 10, batch: 4096 };
const resolved = (o: Partial<TrainOptions>): ReturnType<typeof resolveOptions> => resolveOptions({ ...base, arch: 'topk', k: 4, ...o } as TrainOptions, 100_000);
const unitRows = (o: Partial<TrainOptions>): boolean => runModelConfig(resolved(o), { dIn: 16, dOut: 16, sources: 1 }).unitNormDecoder;

test('topk decoder rows: free after a unit-norm start by default, unit with unitNormDecoder; batchtopk always unit; relu free unless asked', () => {
  assert.equal(unitRows({}), false);
  assert.equal(resolved({}).decoderInitNorm, 1);
  assert.equal(unitRows({ unitNormDecoder: true }), true);
  assert.equal(unitRows({ unitNormDecoder: false }), false);
  assert.equal(unitRows({ arch: 'batchtopk' }), true);
  assert.equal(unitRows({ arch: 'relu' }), false);
  assert.equal(unitRows({ arch: 'relu', unitNormDecoder: true }), true);
});

test('a decoder-norm choice the architecture does not have is refused, naming the flag', () => {
  for (const [arch, rows] of [['batchtopk', 'unit-norm'], ['jumprelu', 'free'], ['gated', 'free']] as const) {
    assert.throws(() => resolved({ arch, unitNormDecoder: false }), (e: unknown) => isInputError(e) && e.source === '--unit-norm-decoder' && e.problem.includes(`always ${rows}`) && e.problem.includes('relu and topk'), arch);
  }
});

test('b_dec starts at the geometric median by default; mean and zeros on request; anything else is refused', () => {
  assert.equal(resolved({}).bDecInit, 'geometric_median');
  assert.equal(resolved({ bDecInit: 'mean' }).bDecInit, 'mean');
  assert.throws(() => resolved({ bDecInit: 'median' as never }), (e: unknown) => isInputError(e) && e.source === '--b-dec-init' && e.problem.includes("got 'median'"));
  // three rows where the mean and the geometric median differ: (0,0), (0,0), (3,6)
  const rows = Float32Array.from([0, 0, 0, 0, 3, 6]);
  assert.deepEqual(Array.from(bDecStart('mean', rows, 3, 2)), [1, 2]);
  assert.deepEqual(Array.from(bDecStart('zeros', rows, 3, 2)), [0, 0]);
  const gm = bDecStart('geometric_median', rows, 3, 2);
  assert.deepEqual(gm, geometricMedian(rows, 3, 2));
  assert.ok(Math.hypot(gm[0]!, gm[1]!) < 1e-3, `the geometric median of two points at 0 and one away is 0, got ${Array.from(gm).join(', ')}`);
});
