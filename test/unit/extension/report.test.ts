import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMarkdown, mdCell, saeReportMarkdown } from '../../../extension/report';
import type { SaeFacts } from '../../../extension/saeFacts';

const facts: SaeFacts = { ok: true, dir: '/w/saes/a', name: 'a', format: 'saelens', architecture: 'topk', dIn: 16, dSae: 16384, k: 32, hookName: 'blocks.8.hook_resid_pre', explainedVariance: 0.87123 };

test('the report lists facts and annotations, with file text made safe for table cells', () => {
  const md = saeReportMarkdown(facts, [{ index: 7, label: 'a|b', description: 'line1\nline2 <script>', tags: ['x', 'y'], author: 'me', typeName: 'human', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-02T10:00:00Z' }], '2026-01-03');
  assert.match(md, /\| latents \(d_sae\) \| 16,384 \|/);
  assert.match(md, /\| explained variance \| 0\.8712 \|/);
  assert.match(md, /\| architecture \| topk \(k = 32\) \|/);
  assert.ok(md.includes('| 7 | a\\|b | line1 line2 &lt;script&gt; | x, y | me | 2026-01-02 |'), md);
  assert.equal(mdCell(' x\r\ny '), 'x y');
  assert.match(saeReportMarkdown({ ...facts, explainedVariance: undefined }, [], 'd'), /\| explained variance \| — \|[\s\S]*No latent is annotated yet/);
});

test('comparison: one column per SAE; says whether atoms are comparable', () => {
  const b: SaeFacts = { ...facts, name: 'b', dSae: 4096, k: undefined, architecture: 'relu' };
  const md = compareMarkdown([facts, b]);
  assert.match(md, /\| latents \| 16,384 \| 4,096 \|/);
  assert.match(md, /\| architecture \| topk \(k=32\) \| relu \|/);
  assert.match(md, /can be matched/);
  assert.match(compareMarkdown([facts, { ...b, dIn: 8 }]), /cannot be matched/);
});
