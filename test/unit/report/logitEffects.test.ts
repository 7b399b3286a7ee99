import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/io/npy';
import { writeSafetensors } from '../../../src/io/safetensors';
import { latentLogits, logitEffects, readUnembedding } from '../../../src/views/logitEffects';
import { readTokenizer } from '../../../src/tokens/decode';
import { makeFixture } from '../../webview/fixtures';

test('logit effects are W_dec[i]·W_U: top and bottom tokens against a direct product, in either W_U orientation', () => {
  const fx = makeFixture(16, 24, 8, 12, 9);
  const dVocab = 50;
  const r = (k: number): number => Math.sin(k * 12.9898) * 43758.5453 % 1;
  const wU = Float32Array.from({ length: fx.dIn * dVocab }, (_, k) => r(k + 1)); // [d_model, d_vocab]
  const wUt = new Float32Array(wU.length); // [d_vocab, d_model], as a Hugging Face lm_head.weight
  for (let j = 0; j < fx.dIn; j++) for (let v = 0; v < dVocab; v++) wUt[v * fx.dIn + j] = wU[j * dVocab + v]!;
  const dir = mkdtempSync(join(tmpdir(), 'saewb-logits-'));
  writeSafetensors(join(dir, 'W_U.safetensors'), { W_U: { dtype: 'F32', shape: [fx.dIn, dVocab], data: wU } });
  writeNpy(join(dir, 'W_U.npy'), { dtype: 'F32', shape: [dVocab, fx.dIn], data: wUt });
  const vocab = Object.fromEntries(Array.from({ length: dVocab }, (_, v) => [`Ġt${v}`, v]));
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  const decoder = readTokenizer(join(dir, 'vocab.json'));
  const latent = 5;
  const direct = Array.from({ length: dVocab }, (_, v) => {
    let s = 0;
    for (let j = 0; j < fx.dIn; j++) s += fx.sae.wDec[latent * fx.dIn + j]! * wU[j * dVocab + v]!;
    return s;
  });
  const order = direct.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  for (const file of ['W_U.safetensors', 'W_U.npy']) {
    const u = readUnembedding(join(dir, file), fx.dIn);
    assert.equal(u.dVocab, dVocab);
    const logits = latentLogits(fx.sae, latent, u);
    direct.forEach((v, i) => assert.ok(Math.abs(logits[i]! - v) < 1e-5));
    const e = logitEffects(fx.sae, latent, u, decoder, 5, 10);
    assert.deepEqual(e.top.tokens, order.slice(0, 5).map(([, i]) => ` t${i}`), 'top tokens decoded, highest first');
    assert.deepEqual(e.bottom.tokens, order.slice(-5).reverse().map(([, i]) => ` t${i}`), 'bottom tokens, lowest first');
    assert.ok(Math.abs(e.top.values[0]! - order[0]![0]) < 1e-5);
    assert.equal(e.histogram.counts.reduce((a, b) => a + b, 0), dVocab);
    assert.ok(Math.abs(e.histogram.edges[0]! - order[dVocab - 1]![0]) < 1e-5);
  }
  writeNpy(join(dir, 'bad.npy'), { dtype: 'F32', shape: [7, 9], data: new Float32Array(63) });
  assert.throws(() => readUnembedding(join(dir, 'bad.npy'), fx.dIn), (e: Error) => e.message.includes('bad.npy') && /neither side matches the SAE's output width 16/.test(e.message));
});
