// The per-latent `split` flag of the report, set from the split tree (FLAG.split).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitLatentsOf, splitTreeFromReport } from '../../../src/views/splitTreePanel';
import { buildReport } from '../../../src/views/buildReport';
import { FLAG } from '../../../src/protocol/viewModels';
import type { SplitTreeReport } from '../../../src/diagnostics/splitTree';
import { dictionarySae } from '../../helpers/exactDictionary';
import { saveSaeLens } from '../../../src/formats/saelens';
import { orthonormalRows } from './b-data';
import { seededRandom } from '../../../src/util/random';

const node = (sae: number, latent: number): SplitTreeReport['nodes'][number] => ({ sae, latent, density: 0.1, tags: [] });
const edge = (from: number, to: number): SplitTreeReport['edges'][number] => ({ kind: 'width', from, to, cosine: 0.8, containment: 0.9 });
/** small (width 3): latent 1 has two children, latent 2 one; large (width 4). */
function tree(paths: string[], widths = [3, 4]): ReturnType<typeof splitTreeFromReport> {
  const r: SplitTreeReport = {
    splits: [], merges: [], novel: [], rows: 1000,
    saes: widths.map((width, i) => ({ name: `s${i}`, width, live: width, lambdaE: 1, rho: 1, rhoRobust: 1 })),
    nodes: [node(0, 1), node(0, 2), node(1, 0), node(1, 1), node(1, 3)],
    edges: [edge(0, 2), edge(0, 3), edge(1, 4)],
  };
  return splitTreeFromReport(r, paths);
}

test('splitLatentsOf finds the SAE by folder, else by a unique width', () => {
  assert.deepEqual(splitLatentsOf(tree(['/x/small', '/x/large']), '/x/small', 3), [1]);
  assert.deepEqual(splitLatentsOf(tree(['/x/small', '/x/large']), '/x/large', 4), [], 'the widest SAE has no children');
  assert.deepEqual(splitLatentsOf(tree([]), '/elsewhere', 3), [1], 'no paths: matched by width');
  assert.deepEqual(splitLatentsOf(tree([], [3, 3]), '/elsewhere', 3), [], 'two SAEs of that width: ambiguous');
  assert.deepEqual(splitLatentsOf(tree([]), '/elsewhere', 5), []);
});

test('the report sets FLAG.split on the latents the tree marks split', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sae-splitflag-'));
  try {
    const d = 4, m = 3;
    const sae = dictionarySae(orthonormalRows(m, d, seededRandom(1)), m, d, new Float32Array(d), 0.1);
    saveSaeLens(sae, join(dir, 'small'));
    const withTree = buildReport({ saeDir: join(dir, 'small'), splitTree: tree([join(dir, 'small'), join(dir, 'large')]) });
    const flags = withTree.dictionary.latents.flags;
    assert.deepEqual(Array.from(flags, (f) => (f & FLAG.split ? 1 : 0)), [0, 1, 0]);
    const without = buildReport({ saeDir: join(dir, 'small') });
    assert.ok(Array.from(without.dictionary.latents.flags).every((f) => !(f & FLAG.split)));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
