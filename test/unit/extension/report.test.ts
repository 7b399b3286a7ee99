import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMarkdown, mdCell } from '../../../extension/report';
import type { SaeFacts } from '../../../extension/saeFacts';

const facts: SaeFacts = { ok: true, dir: '/w/saes/a', name: 'a', format: 'saelens', architecture: 'topk', dIn: 16, dSae: 16384, k: 32, hookName: 'blocks.8.hook_resid_pre', explainedVariance: 0.87123 };

test('file text is made safe for Markdown table cells', () => {
  assert.equal(mdCell(' x\r\ny '), 'x y');
  assert.equal(mdCell('a|b <script>'), 'a\\|b &lt;script&gt;');
});

test('comparison: one column per SAE; says whether atoms are comparable', () => {
  const b: SaeFacts = { ...facts, name: 'b', dSae: 4096, k: undefined, architecture: 'relu' };
  const md = compareMarkdown([facts, b]);
  assert.match(md, /\| latents \| 16,384 \| 4,096 \|/);
  assert.match(md, /\| architecture \| topk \(k=32\) \| relu \|/);
  assert.match(md, /can be matched/);
  assert.match(compareMarkdown([facts, { ...b, dIn: 8 }]), /cannot be matched/);
});
