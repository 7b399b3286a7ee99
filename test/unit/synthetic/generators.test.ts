import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, readGroundTruth, writeSynthetic, parseKind } from '../../../src/synthetic';
import { readNpy } from '../../../src/io/npy';
import { Rng } from '../../../src/synthetic/random';

function cos(a: Float32Array, i: number, j: number, d: number): number {
  let s = 0, ni = 0, nj = 0;
  for (let t = 0; t < d; t++) { s += a[i * d + t] * a[j * d + t]; ni += a[i * d + t] ** 2; nj += a[j * d + t] ** 2; }
  return s / Math.sqrt(ni * nj);
}

test('the PRNG is deterministic per seed and roughly uniform/normal', () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const xs = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextU32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.nextU32()));
  const r = new Rng(1);
  let m = 0, v = 0, u = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) { const z = r.normal(); m += z; v += z * z; u += r.uniform(); }
  assert.ok(Math.abs(m / n) < 0.03 && Math.abs(v / n - 1) < 0.05 && Math.abs(u / n - 0.5) < 0.01);
});

test('every generator is deterministic per seed and x = s·W + b exactly without noise', () => {
  for (const kind of ['g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7'] as const) {
    const a = generate(kind, { seed: 3, tokens: 200 });
    const b = generate(kind, { seed: 3, tokens: 200 });
    const c = generate(kind, { seed: 4, tokens: 200 });
    assert.deepEqual(a.x, b.x, kind);
    assert.notDeepEqual(a.x, c.x, kind);
    const { n, d, nFeatures: f } = a;
    const dense = a.meta.denseValues as Float32Array | undefined;
    let maxErr = 0;
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) {
      let v = a.bias[j] + (dense ? dense[r] * a.denseDirection![j] : 0);
      for (let i = 0; i < f; i++) v += a.codes![r * f + i] * a.features[i * d + j];
      maxErr = Math.max(maxErr, Math.abs(v - a.x[r * d + j]));
    }
    assert.ok(maxErr < 1e-4, `${kind}: reconstruction error ${maxErr}`);
    for (let i = 0; i < f; i++) assert.ok(Math.abs(cos(a.features, i, i, d) - 1) < 1e-5);
  }
});

test('G1 meets its interference target and sparsity', () => {
  const ds = generate('g1', { seed: 1, tokens: 2000 });
  let maxCos = 0;
  for (let i = 0; i < ds.nFeatures; i++) for (let j = 0; j < i; j++) maxCos = Math.max(maxCos, Math.abs(cos(ds.features, i, j, ds.d)));
  assert.ok(maxCos <= 0.1 + 1e-6, `max interference ${maxCos}`);
  let active = 0;
  for (const v of ds.codes!) if (v > 0) { active++; assert.ok(v >= 1); }
  assert.ok(Math.abs(active / ds.codes!.length - 0.01) < 0.002);
});

test('G2: child at angle θ to its parent, orthogonal across groups, nested children only fire with the parent', () => {
  const ds = generate('g2', { seed: 2, angleDeg: 60, parents: 3, children: 2, tokens: 3000 });
  const f = ds.nFeatures;
  assert.equal(ds.hierarchy!.length, 3);
  for (const g of ds.hierarchy!) for (const ch of g.children) assert.ok(Math.abs(cos(ds.features, g.parent, ch, ds.d) - 0.5) < 1e-5);
  assert.ok(Math.abs(cos(ds.features, 0, 3, ds.d)) < 1e-5);
  let childEvents = 0;
  for (let r = 0; r < ds.n; r++) for (const g of ds.hierarchy!) {
    const kids = g.children.filter((c) => ds.codes![r * f + c] > 0);
    assert.ok(kids.length <= 1, 'children are exclusive');
    if (kids.length) { childEvents++; assert.ok(ds.codes![r * f + g.parent] > 0, 'nested: child only with parent'); }
  }
  assert.ok(childEvents > 50);
  const solo = generate('g2', { seed: 2, soloRate: 0.05, tokens: 3000 });
  let soloEvents = 0;
  for (let r = 0; r < solo.n; r++) for (const g of solo.hierarchy!) for (const c of g.children) if (solo.codes![r * solo.nFeatures + c] > 0 && !(solo.codes![r * solo.nFeatures + g.parent] > 0)) soloEvents++;
  assert.ok(soloEvents > 100, `solo events ${soloEvents}`);
});

test('G3 adds a dense two-sided (or one-sided) scalar along a unit direction; G4 features are antipodal', () => {
  const ds = generate('g3', { seed: 5, tokens: 4000, denseScale: 3 });
  const s = ds.meta.denseValues as Float32Array;
  let v = 0, neg = 0;
  for (const z of s) { v += z * z; if (z < 0) neg++; }
  assert.ok(Math.abs(Math.sqrt(v / s.length) - 3) < 0.15 && Math.abs(neg / s.length - 0.5) < 0.03);
  const one = generate('g3', { seed: 5, tokens: 1000, oneSided: true });
  assert.ok((one.meta.denseValues as Float32Array).every((z) => z >= 0));
  const g4 = generate('g4', { seed: 1 });
  for (let m2 = 0; m2 < g4.nFeatures / 2; m2++) assert.ok(Math.abs(cos(g4.features, 2 * m2, 2 * m2 + 1, g4.d) + 1) < 1e-6);
});

test('G7 has exactly one active feature per row; G5 polygons are regular', () => {
  const ds = generate('g7', { seed: 1, tokens: 500 });
  for (let r = 0; r < ds.n; r++) {
    let k = 0;
    for (let i = 0; i < ds.nFeatures; i++) if (ds.codes![r * ds.nFeatures + i] > 0) k++;
    assert.equal(k, 1);
  }
  const g5 = generate('g5', { seed: 1, features: 12, dIn: 6, polygon: 4, tokens: 10 });
  assert.ok(Math.abs(cos(g5.features, 0, 1, 6)) < 1e-6 && Math.abs(cos(g5.features, 0, 2, 6) + 1) < 1e-6);
});

test('writeSynthetic / readGroundTruth round-trip, and bad names and options are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synth-'));
  try {
    const ds = generate('g2', { seed: 9, tokens: 100 });
    const p = writeSynthetic(ds, dir);
    const x = readNpy(p.activations);
    assert.deepEqual(x.shape, [100, ds.d]);
    assert.deepEqual(x.data, ds.x);
    const gt = readGroundTruth(dir);
    assert.equal(gt.kind, 'g2');
    assert.deepEqual(gt.features, ds.features);
    assert.deepEqual(gt.codes, ds.codes);
    assert.deepEqual(gt.hierarchy, ds.hierarchy);
    assert.equal(gt.meta.angleDeg, 90);
    const g3 = generate('g3', { seed: 1, tokens: 50 });
    writeSynthetic(g3, dir);
    assert.deepEqual(readGroundTruth(p.groundTruth).denseDirection, g3.denseDirection);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(parseKind('hierarchy'), 'g2');
  assert.throws(() => parseKind('g9'), /unknown generator/);
  assert.throws(() => generate('g2', { parents: 20, dIn: 8 }), /d_in/);
  assert.throws(() => generate('g4', { features: 5 }), /even/);
  assert.throws(() => readGroundTruth('/nonexistent/gt.safetensors'), /no such/);
});
