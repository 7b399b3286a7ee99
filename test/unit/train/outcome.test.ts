// The end-of-run warnings (src/train/outcome.ts): which setting each failure names, per architecture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviceText, runWarnings } from '../../../src/train/outcome';

test('mostly dead latents or EV ≤ 0 name the sparsity setting to change; a healthy run has no warning', () => {
  const flag = (k: string) => `--${k}`;
  assert.deepEqual(runWarnings({ final: { explainedVariance: 0.8, deadFraction: 0.1 } }, 'relu'), []);
  assert.deepEqual(runWarnings({ final: { explainedVariance: 0.8, deadFraction: 0.5 } }, 'relu'), [], 'exactly half is not more than half');
  const relu = runWarnings({ final: { explainedVariance: -0.01, deadFraction: 0.999 } }, 'relu').map((w) => adviceText(w, flag));
  assert.deepEqual(relu, ['99.9% of the latents are dead at the end of the run: lower --l1', 'the SAE explains no variance (EV -0.010): lower --l1']);
  const topk = runWarnings({ final: { explainedVariance: 0, deadFraction: 0.75 } }, 'topk').map((w) => adviceText(w, flag));
  assert.deepEqual(topk, ['75.0% of the latents are dead at the end of the run: set --resampleEvery', 'the SAE explains no variance (EV 0.000): raise --k']);
  assert.deepEqual(runWarnings({}, 'relu'), [], 'no final figures, nothing to say');
});
