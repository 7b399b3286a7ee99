import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/io/npy';
import { loadSae } from '../../../src/formats';
import { featurePass } from '../../../src/views/featurePass';
import { pageData, passFields } from '../../../src/views/featurePage';
import { rowTextFor } from '../../../src/tokens/rows';
import { makeFixture, writeFixture } from '../../webview/fixtures';

test('without tokens the page says so and shows each row\'s own label (a word per embedding row)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-rows-'));
  const fx = makeFixture(16, 24, 300, 12, 8);
  const { saeDir, activations } = writeFixture(dir, fx, false);
  const words = Array.from({ length: fx.n }, (_, r) => `word${r}`);
  writeFileSync(join(dir, 'labels.txt'), words.join('\n') + '\n');
  const sae = loadSae(saeDir);
  const run = featurePass(sae, activations);
  const d = pageData(sae, run.stats, run.source);
  assert.match(d.text.noTokens!, /no token ids beside activations\.npy/);
  const latent = [...Array(fx.dSae).keys()].find((i) => run.stats.count[i]! > 10)!;
  const page = passFields(sae, d, latent);
  assert.equal(page.hasTokens, false);
  assert.match(page.noTokens!, /no token ids/);
  assert.ok(page.top.length > 0);
  for (const e of [...page.top, ...page.quantiles.flatMap((q) => q.examples)]) {
    assert.equal(e.label, `word${e.row}`, 'each example carries its row\'s label');
    assert.equal(e.tokens, undefined);
  }
  assert.match(page.noLogits!, /no W_U beside the data/);
  // a label file of the wrong length names itself
  writeFileSync(join(dir, 'labels.txt'), 'a\nb\n');
  assert.throws(() => rowTextFor(activations, fx.n), (e: Error) => e.message.includes('labels.txt') && /has 2 row labels but activations\.npy has 300 rows/.test(e.message));
  // labels.json is looked for before labels.txt
  writeFileSync(join(dir, 'labels.json'), JSON.stringify(words));
  assert.equal(rowTextFor(activations, fx.n).labels?.texts[7], 'word7');
});

test('a plain word vocabulary with flat token ids shows each row alone; sequences bound the context otherwise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-rows-'));
  const acts = join(dir, 'emb.npy');
  writeNpy(acts, { dtype: 'F32', shape: [8, 2], data: new Float32Array(16) });
  writeNpy(join(dir, 'emb.tokens.npy'), { dtype: 'I32', shape: [8], data: Int32Array.from({ length: 8 }, (_, i) => i % 3) });
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ cat: 0, dog: 1, fish: 2 }));
  const words = rowTextFor(acts, 8).tokens!;
  assert.equal(words.decoder.scheme, 'plain');
  assert.deepEqual(words.documentOf(5), [5, 6]);
  writeNpy(join(dir, 'emb.tokens.npy'), { dtype: 'I32', shape: [2, 4], data: Int32Array.from({ length: 8 }, (_, i) => i % 3) });
  assert.deepEqual(rowTextFor(acts, 8).tokens!.documentOf(5), [4, 8], 'a [sequences, context] array marks sequences');
});
