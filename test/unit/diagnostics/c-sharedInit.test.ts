// Same-seed initialisation across widths (issue: "identical first rows across widths must not create edges"):
// two SAEs whose first atoms are identical — what one seed gives every width before training — get no
// cross-width edges from those pairs, and the tree says why; atoms that training moved apart keep theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSplitTree, treeInputFromSae } from '../../../src/diagnostics/splitTree';
import { dictionarySae } from '../../../src/diagnostics/exactDictionary';
import { seededRandom } from '../../../src/util/random';
import { orthonormalRows } from './b-data';

function family(perturb: number): ReturnType<typeof buildSplitTree> {
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
  const S = treeInputFromSae(dictionarySae(small, mS, d, bias, 0.2), x, n, 'small');
  const L = treeInputFromSae(dictionarySae(large, mL, d, bias, 0.2), x, n, 'large');
  return buildSplitTree([S, L], { skipWithin: true });
}

test('C4 across widths: identical same-index atoms (one seed\'s initialisation) make no edges and are reported; atoms trained apart keep their edges', () => {
  const shared = family(0);
  assert.equal(shared.edges.filter((e) => e.kind === 'width').length, 0, 'no width edges from the shared initialisation');
  assert.equal(shared.novel[0]!.sharedInit, 6);
  assert.match(shared.novel[0]!.reason ?? '', /identical to the narrower SAE's at the same index/);
  const apart = family(0.15);
  assert.equal(apart.novel[0]!.sharedInit, undefined);
  const same = apart.edges.filter((e) => e.kind === 'width' && apart.nodes[e.from]!.latent === apart.nodes[e.to]!.latent);
  assert.equal(same.length, 6, 'each moved atom keeps its parent');
});
