/**
 * The feature page on data with a real tokenizer: a byte-level BPE vocabulary whose tokens cut
 * multi-byte characters in two, sequences marked by a [sequences, context] token array, hostile token
 * text, and a W_U beside the data — through the whole-data pass and the model builder, rendered in
 * Chromium behind the panels' CSP. Screenshots go to .test-artifacts/feature-tokens-{dark,light}.png.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { writeNpy } from '../../src/io/npy';
import { writeSafetensors } from '../../src/io/safetensors';
import { readActivationSample } from '../../src/views/activations';
import { analyse, basicFlags } from '../../src/views/sparsePass';
import { featureModel } from '../../src/views/panelBuilders';
import { featurePass } from '../../src/views/featurePass';
import { pageData } from '../../src/views/featurePage';
import { encode } from '../../src/sae/forward';
import { bytesToUnicode } from '../../src/tokens/decode';
import { launch, watchedPage } from './browser';
import { HOSTILE, makeFixture, writeFixture } from './fixtures';
import { hostEvent, openPanel, screenshot } from './harness';

let browser: Browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const enc = new TextEncoder();
const byteLevel = (bytes: Uint8Array): string => Array.from(bytes, (b) => bytesToUnicode()[b]!).join('');

/** Token texts as the tokenizer stores them, and the sentence each sequence of 8 tokens spells. */
function vocabulary(): { vocab: Record<string, number>; sentence: number[]; text: string } {
  const cafe = enc.encode(' café'), smile = enc.encode(' 😀');
  const pieces = [
    byteLevel(enc.encode('Hello')), byteLevel(cafe.subarray(0, 4)), byteLevel(cafe.subarray(4, 5)), byteLevel(cafe.subarray(5)),
    byteLevel(smile.subarray(0, 3)), byteLevel(smile.subarray(3)),
    ...HOSTILE.map((t) => byteLevel(enc.encode(` ${t}`))),
  ];
  const vocab = Object.fromEntries(pieces.map((p, i) => [p, i]));
  // "Hello café 😀 <hostile…>" then the special token: é is cut in two tokens, 😀 after a space-led token
  const sentence = [0, 1, 2, 3, 4, 5, 6, pieces.length];
  const text = `Hello café 😀 ${HOSTILE[0]}`;
  return { vocab, sentence, text };
}

describe('feature page with decoded tokens', () => {
  it('shows multi-byte characters and spaces as the text has them, marks the partial and special tokens, keeps hostile tokens inert, and lists logit effects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'saewb-ftok-'));
    const seq = 8;
    const fx = makeFixture(32, 48, 1024, 24, 11);
    const { saeDir, activations } = writeFixture(dir, fx, false);
    const { vocab, sentence, text } = vocabulary();
    const special = Object.keys(vocab).length;
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
      model: { type: 'BPE', vocab }, decoder: { type: 'ByteLevel' }, pre_tokenizer: { type: 'ByteLevel' },
      added_tokens: [{ id: special, content: '<|endoftext|>', special: true }],
    }));
    const ids = new Int32Array(fx.n).map((_, r) => sentence[r % seq]!);
    writeNpy(join(dir, 'tokens.npy'), { dtype: 'I32', shape: [fx.n / seq, seq], data: ids });
    // W_U [d_model, d_vocab]: token v's column is atom v's decoder row, so latent 2 promotes token 2 most
    const dVocab = special + 1;
    const wU = new Float32Array(fx.dIn * dVocab);
    for (let v = 0; v < dVocab; v++) for (let j = 0; j < fx.dIn; j++) wU[j * dVocab + v] = fx.sae.wDec[v * fx.dIn + j]!;
    writeSafetensors(join(dir, 'W_U.safetensors'), { W_U: { dtype: 'F32', shape: [fx.dIn, dVocab], data: wU } });

    // the latent that fires most often on the emoji's row (position 5), so its examples show whole windows
    const codes = encode(fx.sae, fx.x, fx.n).codes;
    let latent = 0, best = -1;
    for (let i = 0; i < fx.sae.cfg.dSae; i++) {
      let c = 0;
      for (let r = 5; r < fx.n; r += seq) if (codes[r * fx.sae.cfg.dSae + i]! > 0) c++;
      if (c > best) { best = c; latent = i; }
    }
    const a = analyse(fx.sae, readActivationSample(activations, 1024, fx.dIn));
    const run = featurePass(fx.sae, activations, { saeDir });
    const model = featureModel(a, latent, basicFlags(a), pageData(fx.sae, run.stats, run.source));
    assert.ok(model.hasTokens);
    assert.ok(model.logits, 'W_U beside the data gives logit effects');

    for (const theme of ['dark', 'light'] as const) {
      const w = await watchedPage(browser);
      await openPanel(w.page, 'feature', theme);
      await hostEvent(w.page, 'load', { model, args: { saeDirs: [saeDir] } });
      await w.page.waitForSelector('.example .context');
      // every context reads as a run of the sentence, spaces and characters intact, within one sequence
      const contexts = await w.page.locator('.context').allTextContents();
      assert.ok(contexts.length > 0);
      const doc = `${text}<|endoftext|>`;
      for (const c of contexts) assert.ok(doc.startsWith(c), `context ${JSON.stringify(c)} is the start of its sequence ${JSON.stringify(doc)}`);
      assert.ok(contexts.some((c) => c.startsWith('Hello café 😀')), 'a whole window reads "Hello café 😀 …"');
      assert.ok(!contexts.some((c) => c.includes('Ġ') || c.includes('Ã')), 'no byte-level marks or mojibake');
      // é's first byte is an empty partial token and the next token shows é; the space-led token before
      // the emoji shows the space and the emoji appears once, on the token that completes it
      const full = w.page.locator('.context').filter({ hasText: 'endoftext' }).first();
      assert.deepEqual(await full.locator('.tok').allTextContents(), ['Hello', ' caf', '', 'é', ' ', '😀', ` ${HOSTILE[0]}`, '<|endoftext|>']);
      assert.equal(await full.locator('.tok').nth(2).getAttribute('class'), 'tok tok-partial');
      assert.match((await full.locator('.tok-special').getAttribute('class'))!, /tok-special/);
      // hostile token text is literal text inside a token span
      const tokens = await w.page.locator('.tok').allTextContents();
      assert.ok(tokens.some((t) => t === ` ${HOSTILE[0]}`), 'the script token is shown as text');
      assert.equal(await w.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      assert.equal(await w.page.locator('#root script, #root img').count(), 0);
      // logit effects: decoded token text in the promoted list, numbers beside
      const promoted = await w.page.locator('.logit-pos .logit-tok').allTextContents();
      assert.equal(promoted.length, Math.min(10, Math.floor(dVocab / 2)));
      assert.ok(promoted.every((t) => !t.includes('Ġ')));
      await screenshot(w.page, `feature-tokens-${theme}`);
      assert.deepEqual(w.problems, [], 'no console error, CSP violation or request');
      await w.page.close();
    }
  });
});
