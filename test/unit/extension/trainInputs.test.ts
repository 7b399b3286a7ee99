import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCount, formatCount, validateWidth, validateK, validateTokens, validateL1, defaultRunName, checkTrainOptions } from '../../../extension/trainInputs';
import { isInputError } from '../../../src/errors';

test('counts parse with k/M/B suffixes and separators; junk is rejected', () => {
  assert.equal(parseCount('16384'), 16384);
  assert.equal(parseCount('16k'), 16000);
  assert.equal(parseCount('2.5M'), 2_500_000);
  assert.equal(parseCount('1_000_000'), 1_000_000);
  assert.equal(parseCount(' 3B '), 3_000_000_000);
  for (const bad of ['', '-5', '0', 'ten', '1e6', '5 x']) assert.equal(parseCount(bad), undefined, bad);
  assert.equal(formatCount(10_000_000), '10M');
  assert.equal(formatCount(16384), '16,384');
});

test('field checks say what is wrong', () => {
  assert.equal(validateWidth('16384'), undefined);
  assert.match(validateWidth('1')!, /between 2 and/);
  assert.match(validateWidth('abc')!, /positive whole number/);
  assert.equal(validateK('32', 64), undefined);
  assert.match(validateK('64', 64)!, /smaller than the width \(64\)/);
  assert.match(validateTokens('lots')!, /Token budget/);
  assert.equal(validateL1('0.001'), undefined);
  assert.match(validateL1('-1')!, /positive number/);
  assert.equal(defaultRunName('topk', 16384, new Date('2026-01-22T03:15:09Z')), 'topk-16k-20260122-0315');
});

test('command-API options are checked before anything starts', () => {
  const ok = { activations: ['/a.npy'], outDir: '/o', arch: 'topk', width: 64, k: 4, tokens: 1000 };
  assert.deepEqual(checkTrainOptions(ok), ok);
  const bad: [unknown, RegExp][] = [
    [undefined, /options object/],
    [{ ...ok, activations: [] }, /activations/],
    [{ ...ok, arch: 'sigmoid' }, /arch must be one of relu, topk/],
    [{ ...ok, width: 1.5 }, /width must be/],
    [{ ...ok, k: 64 }, /k must be smaller than width/],
    [{ ...ok, l1: -2 }, /l1 must be a positive number/],
    [{ ...ok, engine: 'cuda' }, /engine must be/],
  ];
  for (const [o, re] of bad) assert.throws(() => checkTrainOptions(o), (e: unknown) => isInputError(e) && re.test(e.problem), JSON.stringify(o));
});
