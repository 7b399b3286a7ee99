/**
 * The SAELens activation cache reader, on caches written the way datasets.save_to_disk lays them out
 * (test/fixtures/arrowCache.ts): every activation row and token id comes back, in order, across shards,
 * for both token_ids layouts; declared shapes that the data contradicts are InputErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInputError } from '../../../src/errors';
import { isActivationCache, openActivationCache, readActivationCache } from '../../../src/io/arrow';
import { writeActivationCache } from '../../fixtures/arrowCache';
import { inspectPath } from '../../../src/cli/commands/inspect';

async function readAll(dir: string, hook?: string): Promise<{ rows: number[]; tokens: number[]; batches: number }> {
  const rows: number[] = [], tokens: number[] = [];
  let batches = 0;
  for await (const b of readActivationCache(openActivationCache(dir, hook))) {
    rows.push(...b.rows);
    tokens.push(...(b.tokenIds ?? []));
    assert.equal(b.rows.length, b.nTokens * 8);
    batches++;
  }
  return { rows, tokens, batches };
}

for (const tokenLayout of ['fixed', 'list'] as const) {
  test(`reads every row and token id across shards (token_ids as ${tokenLayout === 'fixed' ? 'fixed_size_list' : 'list'})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'saewb-cache-'));
    const fx = writeActivationCache(dir, { hookName: 'blocks.3.hook_resid_post', contextSize: 5, dIn: 8, seqPerShard: [3, 1, 2], tokenLayout });
    assert.ok(isActivationCache(dir));
    const info = openActivationCache(dir);
    assert.deepEqual([info.hookName, info.contextSize, info.dIn, info.dtype, info.files.length, info.hasTokenIds], ['blocks.3.hook_resid_post', 5, 8, 'float32', 3, true]);
    const got = await readAll(dir);
    assert.equal(got.batches, 3);
    assert.deepEqual(Float32Array.from(got.rows), fx.rows);
    assert.deepEqual(Int32Array.from(got.tokens), fx.tokenIds);
    assert.deepEqual(inspectPath(dir).activationCache, { hook_name: 'blocks.3.hook_resid_post', context_size: 5, d_in: 8, dtype: 'float32', shards: 3, token_ids: true });
  });
}

test('declared shapes the data contradicts, missing shards and unknown hooks are InputErrors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-cache-'));
  writeActivationCache(dir, { hookName: 'h', contextSize: 4, dIn: 8, seqPerShard: [2] });
  const infoPath = join(dir, 'dataset_info.json');
  const info = JSON.parse(readFileSync(infoPath, 'utf8'));
  const reject = async (what: string, pattern: RegExp, hook?: string): Promise<void> => {
    await assert.rejects(async () => { await readAll(dir, hook); }, (e: unknown) => isInputError(e) && pattern.test((e as Error).message), what);
  };
  await reject('unknown hook', /no Array2D feature 'other' \(there are: h\)/, 'other');
  info.features.h.shape = [4, 9];
  writeFileSync(infoPath, JSON.stringify(info));
  await reject('d_in contradicts the data', /row 0 has a list of 8, expected 9/);
  info.features.h.shape = [3, 8];
  writeFileSync(infoPath, JSON.stringify(info));
  await reject('context contradicts the data', /list of 4, expected 3/);
  info.features.h.shape = [4, 8];
  writeFileSync(infoPath, JSON.stringify(info));
  await readAll(dir);
  rmSync(join(dir, 'data-00000-of-00001.arrow'));
  await reject('missing shard', /shard data-00000-of-00001\.arrow is listed but missing/);
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ _data_files: [{ filename: '../etc/passwd' }] }));
  await reject('path escape', /not a plain file name/);
});
