import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext } from '../../../src/diagnostics/context';
import { seededRandom } from '../../../src/diagnostics/linalg';
import { buildSplitTree, splitTreeSection, treeInputFromSae } from '../../../src/diagnostics/splitTree';
import type { SplitTreeReport } from '../../../src/diagnostics/splitTree';
import { assemble, familyData, orthonormalRows, randomBias, reluSae, unitRows } from './b-data';

const d = 32, lambda = 0.1;

const rowsOf = (f: Float32Array, idx: number[]): Float32Array => {
  const out = new Float32Array(idx.length * d);
  idx.forEach((i, k) => out.set(f.subarray(i * d, (i + 1) * d), k * d));
  return out;
};

function merged(f: Float32Array, pairs: [number, number][]): Float32Array {
  const out = new Float32Array(pairs.length * d);
  pairs.forEach(([a, b], k) => { for (let j = 0; j < d; j++) out[k * d + j] = f[a * d + j]! + f[b * d + j]!; });
  return unitRows(out, pairs.length, d);
}

const node = (r: SplitTreeReport, sae: number, latent: number): number => r.nodes.findIndex((x) => x.sae === sae && x.latent === latent);

test('across widths: parents split into exclusive children, a merged pair, a novel latent, the centroid check', () => {
  const data = familyData(21, 5000);
  // Small: the parents and a, b, c. Large: merged atoms ∝ E[x − b | child] for every child, (a+b), c, z.
  const small = reluSae(rowsOf(data.features, [0, 4, 8, 12, 13, 14]), 6, d, { lambda, bias: data.bias });
  const childPairs: [number, number][] = [];
  for (let h = 0; h < 3; h++) for (let c = 1; c <= 3; c++) childPairs.push([4 * h, 4 * h + c]);
  const largeAtoms = new Float32Array(12 * d);
  largeAtoms.set(merged(data.features, childPairs), 0);
  largeAtoms.set(merged(data.features, [[12, 13]]), 9 * d);
  largeAtoms.set(rowsOf(data.features, [14, 15]), 10 * d);
  const large = reluSae(largeAtoms, 12, d, { lambda, bias: data.bias, atomScale: 0.5 });
  // Given in the wrong order on purpose: the tree sorts by width.
  const rep = buildSplitTree([treeInputFromSae(large, data.x, data.n, 'large'), treeInputFromSae(small, data.x, data.n, 'small')]);
  assert.deepEqual(rep.saes.map((s) => s.name), ['small', 'large']);
  for (let h = 0; h < 3; h++) {
    const s = rep.splits.find((x) => x.node === node(rep, 0, h))!;
    assert.ok(s.split, `family ${h}`);
    assert.deepEqual(s.children.map((c) => rep.nodes[c]!.latent).sort((a, b) => a - b), [3 * h, 3 * h + 1, 3 * h + 2]);
    assert.ok(s.coverage > 0.99 && s.maxCoActivation === 0);
    // Symmetric children at 60°: centroid ∝ 4.5 w_P + (√3/2)Σe_c, cos = 4.5/√22.5.
    assert.ok(Math.abs(s.centroidCosine - 4.5 / Math.sqrt(22.5)) < 0.01, `centroid ${s.centroidCosine}`);
    assert.ok(s.centroidOk);
    assert.ok(rep.nodes[node(rep, 0, h)]!.tags.includes('split'));
    for (const c of s.children) {
      const e = rep.edges.find((x) => x.kind === 'width' && x.to === c)!;
      assert.ok(Math.abs(e.cosine - 1.5 / Math.sqrt(3)) < 0.01 && e.containment > 0.99);
    }
  }
  assert.equal(rep.merges.length, 1);
  assert.equal(rep.nodes[rep.merges[0]!.node]!.latent, 9);
  assert.deepEqual(rep.merges[0]!.parents.map((p) => rep.nodes[p]!.latent).sort(), [3, 4]);
  assert.deepEqual(rep.novel[0]!.nodes.map((k) => rep.nodes[k]!.latent), [11]);
  assert.ok(rep.nodes[node(rep, 1, 11)]!.tags.includes('novel'));
  // c continues one-to-one: an edge, but no split.
  assert.ok(rep.edges.some((e) => e.kind === 'width' && e.from === node(rep, 0, 5) && e.to === node(rep, 1, 10)));
  assert.ok(!rep.splits.some((s) => s.node === node(rep, 0, 5) && s.split));
  // Neither dictionary has nested latents: no co-activation edges (a, b co-fire both ways, so no parent).
  assert.equal(rep.edges.filter((e) => e.kind === 'coactivation').length, 0);
});

test('within one dictionary: a nested chain gives a reduced DAG, and V_ij certifies non-stationarity', () => {
  const rnd = seededRandom(5);
  const n = 4000, F = 4;
  const e = orthonormalRows(F, d, rnd);
  // g = e0, p = 0.6 g + 0.8 e1, c = 0.6 p + 0.8 e2 (cos(g, c) = 0.36), plus an independent feature.
  const features = new Float32Array(F * d);
  for (let j = 0; j < d; j++) {
    features[j] = e[j]!;
    features[d + j] = 0.6 * e[j]! + 0.8 * e[d + j]!;
    features[2 * d + j] = 0.6 * features[d + j]! + 0.8 * e[2 * d + j]!;
    features[3 * d + j] = e[3 * d + j]!;
  }
  const codes = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    const u = rnd();
    if (u < 0.3) codes[r * F] = 1; // g alone
    else if (u < 0.4) { codes[r * F] = 1; codes[r * F + 1] = 1; } // g ∧ p
    else if (u < 0.45) { codes[r * F] = 1; codes[r * F + 1] = 1; codes[r * F + 2] = 1; } // g ∧ p ∧ c
    if (rnd() < 0.1) codes[r * F + 3] = 1;
  }
  const bias = randomBias(d, rnd, 0.1);
  const x = assemble(codes, features, n, F, d, bias, 0.005, rnd);
  const sae = reluSae(features, F, d, { lambda, bias });
  const rep = splitTreeSection([buildContext(sae, x, n)]);
  const co = rep.edges.filter((x) => x.kind === 'coactivation').map((x) => [rep.nodes[x.from]!.latent, rep.nodes[x.to]!.latent]);
  assert.deepEqual(co.sort(), [[0, 1], [1, 2]], 'g → p → c, with g → c removed by the transitive reduction');
  for (const edge of rep.edges) {
    // π_{j|i} = 1 (the parent fires on every child row): V = 1 − cos > 0 for any ρ.
    assert.ok(Math.abs(edge.certificate! - (1 - edge.cosine)) < 1e-6 && edge.nonStationary);
    assert.ok(Math.abs(edge.cosine - 0.6) < 0.01);
    assert.ok(edge.containment > 0.99 && edge.reverseContainment! < 0.5);
  }
  assert.ok(rep.saes[0]!.rho > 0 && rep.saes[0]!.rhoRobust <= rep.saes[0]!.rho);
});

test('Matryoshka prefix levels: each later-level latent hangs under the earlier-level latent that contains it', () => {
  const data = familyData(8, 3000);
  // Atoms: the 3 parents (level 0), then their 9 children (level 1): the true dictionary, dual encoder.
  const order = [0, 4, 8, 1, 2, 3, 5, 6, 7, 9, 10, 11];
  const sae = reluSae(rowsOf(data.features, order), 12, d, { lambda, bias: data.bias, matryoshkaWidths: [3, 12] });
  const rep = buildSplitTree([treeInputFromSae(sae, data.x, data.n, 'm')], { skipWithin: true });
  const m = rep.edges.filter((e) => e.kind === 'matryoshka');
  assert.equal(m.length, 9);
  for (const e of m) {
    const child = rep.nodes[e.to]!.latent, parent = rep.nodes[e.from]!.latent;
    assert.equal(parent, Math.floor((child - 3) / 3), `child ${child}`);
    assert.ok(e.containment > 0.99 && Math.abs(e.cosine - 0.5) < 0.01);
  }
  assert.ok(rep.nodes.filter((x) => x.tags.includes('level:1')).length === 9);
});
