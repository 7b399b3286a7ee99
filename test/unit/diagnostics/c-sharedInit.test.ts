// Same-seed initialisation across widths (issue: "identical first rows across widths must not create edges"):
// two SAEs that record the same training seed and whose first atoms are identical — what one seed gives every
// width before training — get no cross-width edges from those pairs, and the tree says why; identical atoms
// without a common seed (a narrower SAE cut from a wider one) and atoms training moved apart keep theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSplitTree, treeInputFromSae } from '../../../src/diagnostics/splitTree';
import { dictionarySae } from '../../helpers/exactDictionary';
import { seededRandom } from '../../../src/util/random';
import { orthonormalRows } from './b-data';

function family(perturb: number, seeds: [number, number] | null = [7, 7]): ReturnType<typeof buildSplitTree> {
  const rnd = seededRandom(5);
  const d = 32, mS = 6, mL = 16, n = 2000;
  const w = orthonormalRows(mL, d, rnd);
  const large = Float32Array.from(w);
  // "trained apart": each shared atom turned a little toward the next direction
  if (perturb) for (let i = 0; i < mS; i++) for (let j = 0; j < d; j++) large[i * d + j] = w[i * d + j]! + perturb * w[(i + mS) * d + j]!;
  const small = w.slice(0, mS * d);
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let k = 0; k < 2; k++) {
    const a = Math.floor(rnd() * mL), m = 1 + rnd();
    for (let j = 0; j < d; j++) x[r * d + j]! += m * w[a * d + j]!;
  }
  const bias = new Float32Array(d);
  const saeS = dictionarySae(small, mS, d, bias, 0.2), saeL = dictionarySae(large, mL, d, bias, 0.2);
  if (seeds) { saeS.cfg.training = { seed: seeds[0] }; saeL.cfg.training = { seed: seeds[1] }; }
  const S = treeInputFromSae(saeS, x, n, 'small');
  const L = treeInputFromSae(saeL, x, n, 'large');
  return buildSplitTree([S, L], { skipWithin: true });
}

test('C4 across widths: identical same-index atoms of SAEs trained from one seed (its initialisation) make no edges and are reported; without a common seed, or trained apart, they keep their edges', () => {
  const shared = family(0);
  assert.equal(shared.edges.filter((e) => e.kind === 'width').length, 0, 'no width edges from the shared initialisation');
  assert.equal(shared.novel[0]!.sharedInit, 6);
  assert.match(shared.novel[0]!.reason ?? '', /identical to the narrower SAE's at the same index/);
  // identical atoms without a common recorded seed (a narrower SAE cut from a wider one) are the same features
  for (const seeds of [null, [7, 8] as [number, number]]) {
    const cut = family(0, seeds);
    assert.equal(cut.novel[0]!.sharedInit, undefined);
    assert.equal(cut.edges.filter((e) => e.kind === 'width' && cut.nodes[e.from]!.latent === cut.nodes[e.to]!.latent).length, 6);
  }
  const apart = family(0.15);
  assert.equal(apart.novel[0]!.sharedInit, undefined);
  const same = apart.edges.filter((e) => e.kind === 'width' && apart.nodes[e.from]!.latent === apart.nodes[e.to]!.latent);
  assert.equal(same.length, 6, 'each moved atom keeps its parent');
});
