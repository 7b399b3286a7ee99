// Within-SAE nestings that absorption hides from co-firing (src/diagnostics/nesting.ts): a dictionary at the
// absorbing optimum — the parent atom w_P and the merged children w_P + w_c — with the parent latent silent
// on its children's rows. The parent's direction on the children's rows gives P → each child; siblings,
// duplicates and an unrelated atom give nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSplitTree } from '../../../src/diagnostics/splitTree';
import { nestingCandidates } from '../../../src/diagnostics/nesting';
import { dictionarySae } from '../../helpers/exactDictionary';
import { firingCounts, latentRows } from '../../../src/diagnostics/encoderCodes';
import type { SparseCodes } from '../../../src/diagnostics/encoderCodes';
import { seededRandom } from '../../../src/util/random';
import { orthonormalRows } from './b-data';

test('C4 within one SAE: absorbed children hang under their silent parent by direction; siblings, duplicates and others do not (exact absorbing codes)', () => {
  const rnd = seededRandom(3);
  const d = 16, n = 4000;
  const w = orthonormalRows(5, d, rnd); // P, c1, c2, c3, Q
  const atoms = new Float32Array(6 * d); // 0: P, 1–3: (P + c)/√2, 4: Q, 5: Q again (a duplicate, cos 0.995)
  for (let j = 0; j < d; j++) {
    atoms[j] = w[j]!;
    for (let c = 1; c <= 3; c++) atoms[c * d + j] = (w[j]! + w[c * d + j]!) / Math.SQRT2;
    atoms[4 * d + j] = w[4 * d + j]!;
    atoms[5 * d + j] = w[4 * d + j]! + 0.1 * w[(j % 4) * d + j]!;
  }
  // exact absorbing codes: a child row is coded by its merged atom alone, a parent-only row by P, a Q row by Q (or its duplicate)
  const rowPtr = new Int32Array(n + 1), idx: number[] = [], val: number[] = [];
  for (let r = 0; r < n; r++) {
    const u = rnd(), m = 1 + rnd();
    if (u < 0.45) { idx.push(1 + Math.floor(rnd() * 3)); val.push(Math.SQRT2 * m); }
    else if (u < 0.6) { idx.push(0); val.push(m); }
    else if (u < 0.8) { idx.push(rnd() < 0.5 ? 4 : 5); val.push(m); }
    rowPtr[r + 1] = idx.length;
  }
  const codes: SparseCodes = { n, m: 6, rowPtr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
  const unit = Float32Array.from(atoms);
  for (let i = 0; i < 6; i++) { let s = 0; for (let j = 0; j < d; j++) s += unit[i * d + j]! ** 2; for (let j = 0; j < d; j++) unit[i * d + j]! /= Math.sqrt(s); }
  const all = nestingCandidates(codes, latentRows(codes), firingCounts(codes), unit, d, 5);
  const pair = (p: number, c: number) => all.find((e) => e.parent === p && e.child === c)!;
  for (const c of [1, 2, 3]) {
    assert.ok(pair(0, c).forward > 0.95 && pair(0, c).reverse < 0.6, `P → ${c}: forward ${pair(0, c).forward}, reverse ${pair(0, c).reverse}`);
    assert.ok(pair(c, 0).forward < 0.6, `${c} is not P's parent`);
  }
  assert.ok(Math.abs(pair(1, 2).forward - pair(2, 1).forward) < 0.1, 'siblings are symmetric');
  // the same through the tree, with these codes
  const sae = dictionarySae(atoms, 6, d, new Float32Array(d), 0.2);
  const tree = buildSplitTree([{ name: 'absorbing', sae, codes, unitAtoms: unit, lambdaE: 0.2 }]);
  assert.ok(tree.edges.every((e) => e.kind !== 'coactivation' || e.basis === 'direction'), 'the silent parent never co-fires: every edge is by direction');
  const within = tree.edges.filter((e) => e.kind === 'coactivation').map((e) => `${tree.nodes[e.from]!.latent}>${tree.nodes[e.to]!.latent}`).sort();
  assert.deepEqual(within, ['0>1', '0>2', '0>3']);
});
