import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCount, formatCount, validateWidth, validateK, validateTokens, validateL1, defaultRunName, checkTrainOptions, editorMessage, outFolderProblem, validateHookName, archChoices } from '../../../extension/trainInputs';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAINABLE_ARCHS } from '../../../src/sae/arch/registry';
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
    [{ ...ok, arch: 'standard' }, new RegExp(`arch must be one of ${TRAINABLE_ARCHS.join(', ')} \\(the architectures the engine trains\\)`)],
  ];
  for (const [o, re] of bad) assert.throws(() => checkTrainOptions(o), (e: unknown) => isInputError(e) && re.test(e.problem), JSON.stringify(o));
});

test('the wizard offers what the engine trains, and trainer errors read as the editor\'s fields, not CLI flags', () => {
  assert.deepEqual(archChoices().map((c) => c.label), [...TRAINABLE_ARCHS], 'the wizard offers exactly the registry\'s trainable list');
  assert.equal(editorMessage("--arch: 'gated' cannot be trained (trainable: relu, topk)"), "architecture: 'gated' cannot be trained (trainable: relu, topk)");
  assert.equal(editorMessage('/d/gt.safetensors: expected one 2-D tensor, found 2 (features, codes); name one'),
    '/d/gt.safetensors: expected one 2-D tensor, found 2 (features, codes); choose the tensor in the wizard (Train Sparse Autoencoder…)');
  assert.equal(editorMessage('width 3 is fine (no flag here)'), 'width 3 is fine (no flag here)');
  assert.equal(validateHookName(''), undefined, 'the hook is optional');
  assert.equal(validateHookName('blocks.8.hook_resid_pre'), undefined);
  assert.match(validateHookName('"blocks 8"') ?? '', /no spaces or quotes/);
});

test('the output folder must be new or empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wizard-out-'));
  try {
    assert.equal(outFolderProblem(join(dir, 'new')), undefined);
    mkdirSync(join(dir, 'empty'));
    assert.equal(outFolderProblem(join(dir, 'empty')), undefined);
    writeFileSync(join(dir, 'empty', 'cfg.json'), '{}');
    assert.match(outFolderProblem(join(dir, 'empty')) ?? '', /not empty/);
    assert.match(outFolderProblem(join(dir, 'empty', 'cfg.json')) ?? '', /a file, not a folder/);
    assert.equal(outFolderProblem(''), 'Give a folder');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
