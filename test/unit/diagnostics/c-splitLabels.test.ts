// C4 split labels on a constructed pair of dictionaries with a known split and a known duplicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSplitTree, treeInputFromSae } from '../../../src/diagnostics/splitTree';
import { dictionarySae } from '../../helpers/exactDictionary';
import { seededRandom } from '../../../src/util/random';
import { orthonormalRows } from './b-data';

test('C4: a parent whose children are merged atoms splits although the amortised encoder leaks onto siblings; duplicates do not split', () => {
  const rnd = seededRandom(17);
  const d = 16, n = 3000, lambda = 0.2;
  // features: parent P (0) with exclusive children (1, 2, 3) at 90°, and a solo feature Q (4)
  const w = orthonormalRows(5, d, rnd);
  const row = (i: number): Float32Array => w.subarray(i * d, (i + 1) * d);
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const u = rnd();
    if (u < 0.45) { const c = 1 + Math.floor(rnd() * 3); for (let j = 0; j < d; j++) x[r * d + j] = row(0)[j]! + row(c)[j]!; }
    else if (u < 0.7) for (let j = 0; j < d; j++) x[r * d + j] = row(4)[j]!;
  }
  // small dictionary: P and Q; large: the absorbing optimum's merged atoms w_P + w_c, and Q twice (a duplicate)
  const small = new Float32Array(2 * d);
  small.set(row(0), 0); small.set(row(4), d);
  const large = new Float32Array(5 * d);
  for (let c = 1; c <= 3; c++) for (let j = 0; j < d; j++) large[(c - 1) * d + j] = row(0)[j]! + row(c)[j]!;
  large.set(row(4), 3 * d);
  for (let j = 0; j < d; j++) large[4 * d + j] = row(4)[j]! + 0.1 * (j === 0 ? 1 : 0) * (row(0)[j]! + 1);
  const bias = new Float32Array(d);
  const S = treeInputFromSae(dictionarySae(small, 2, d, bias, lambda), x, n, 'small');
  const L = treeInputFromSae(dictionarySae(large, 5, d, bias, lambda), x, n, 'large');
  const rep = buildSplitTree([S, L], { skipWithin: true });
  const of = (latent: number) => rep.splits.find((sp) => rep.nodes[sp.node]!.sae === 0 && rep.nodes[sp.node]!.latent === latent);
  const p = of(0), q = of(1);
  assert.ok(p && q, JSON.stringify(rep.splits));
  assert.deepEqual(p.children.map((c) => rep.nodes[c]!.latent).sort(), [0, 1, 2]);
  // every merged atom fires on its siblings' rows (leakage), so co-firing at any level is total …
  assert.ok(p.maxCoFiring > 0.9, `co-firing ${p.maxCoFiring}`);
  // … but never at comparable strength: the children partition the parent's rows
  assert.ok(p.maxCoActivation <= 0.01, `co-activation ${p.maxCoActivation}`);
  assert.ok(p.split && rep.nodes[p.node]!.tags.includes('split'), 'P is labelled split');
  assert.ok(p.coverage > 0.99);
  // B2's centroid of three symmetric merged children is ∝ 3w_P + Σ w_c: cos 3/√12 with w_P (the small
  // atom w_P is not the mean direction of its rows, so the check is off, as it should be)
  assert.ok(Math.abs(p.centroidCosine - 3 / Math.sqrt(12)) < 0.02 && !p.centroidOk, `centroid ${p.centroidCosine}`);
  // Q's two children are the same direction firing together at full strength: not a split
  assert.deepEqual(q.children.map((c) => rep.nodes[c]!.latent).sort(), [3, 4]);
  assert.ok(q.maxCoActivation > 0.9 && !q.split, `duplicate co-activation ${q.maxCoActivation}`);
  assert.match(q.notSplit ?? '', /duplicates/);
  assert.equal(p.notSplit, undefined);
});
