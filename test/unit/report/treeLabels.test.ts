import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featurePass } from '../../../src/views/featurePass';
import { exampleLabel, pageData } from '../../../src/views/featurePage';
import type { SplitTreeModel } from '../../../src/protocol/viewModels';
import { labelTreeNodes } from '../../../src/views/treeLabels';
import { HOSTILE, makeFixture, writeFixture } from '../../webview/fixtures';

test('split-tree nodes are named by annotation, else by the tokens their top examples fire on, else keep their label', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-tree-'));
  const fx = makeFixture(16, 24, 512, 12, 4);
  const { saeDir, activations } = writeFixture(dir, fx);
  const run = featurePass(fx.sae, activations);
  const pass = pageData(fx.sae, run.stats, run.source);
  const live = [...Array(fx.dSae).keys()].filter((i) => run.stats.count[i]! > 0);
  const [annotated, fromTokens] = live as [number, number];
  // the expected label: the distinct firing tokens of the top rows, decoded (Ġ is a space, trimmed)
  const words = ['the', 'cat', 'sat', 'on', 'mat', ...HOSTILE];
  const expected: string[] = [];
  for (const row of run.stats.top(fromTokens).rows) {
    const t = pass.text.tokens!.decoder.token(pass.text.tokens!.ids[row]!).trim();
    if (t && !expected.includes(t)) expected.push(t);
    if (expected.length === 3) break;
  }
  assert.ok(expected.length > 0 && expected.every((t) => words.includes(t)), `decoded words, no byte-level marks: ${expected.join(', ')}`);
  assert.equal(exampleLabel(pass, fromTokens), expected.map((t) => `“${t}”`).join(' '));
  const tree: SplitTreeModel = {
    saes: [{ name: 'sae', width: fx.dSae, path: saeDir }, { name: 'elsewhere', width: 4, path: '' }],
    nodes: { sae: Uint8Array.of(0, 0, 1, 0), latent: Int32Array.of(annotated, fromTokens, 1, fx.dSae - 1), density: new Float32Array(4), kind: new Uint8Array(4), labels: ['', '', 'kept', 'kept too'] },
    edges: { from: new Int32Array(0), to: new Int32Array(0), cosine: new Float32Array(0), containment: new Float32Array(0), kind: new Uint8Array(0) },
    source: 'diagnostics',
  };
  labelTreeNodes(tree, { annotations: () => new Map([[annotated, { label: 'cats', note: '' }]]), pass: (d) => (d === saeDir ? pass : undefined) });
  assert.equal(tree.nodes.labels[0], 'cats', 'the annotation wins');
  assert.equal(tree.nodes.labels[1], expected.map((t) => `“${t}”`).join(' '));
  assert.equal(tree.nodes.labels[2], 'kept', 'a column without a folder keeps its label');
  assert.equal(tree.nodes.labels[3], 'kept too', 'the dead latent (never fires) keeps its label');
});
