import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosineNeighbours, layoutAtoms, unitRows } from '../../../src/views/atomLayout';
import { atomMapLayout } from '../../../src/views/atomMapLayout';
import { seededRandom } from '../../../src/util/random';
import { saveSaeLens } from '../../../src/formats/saelens';
import { makeFixture } from '../../webview/fixtures';

/** `families` unit parent directions in d dims, each with `children` atoms at cosine ≈ 0.8 to it. */
function familyAtoms(families: number, children: number, d: number, seed: number): { w: Float32Array; family: Int32Array } {
  const r = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const m = families * (children + 1);
  const w = new Float32Array(m * d), family = new Int32Array(m);
  for (let f = 0; f < families; f++) {
    const parent = unitRows(Float32Array.from({ length: d }, gauss), 1, d);
    for (let c = 0; c <= children; c++) {
      const i = f * (children + 1) + c;
      family[i] = f;
      const noise = unitRows(Float32Array.from({ length: d }, gauss), 1, d);
      for (let j = 0; j < d; j++) w[i * d + j] = c === 0 ? parent[j]! : 0.8 * parent[j]! + 0.6 * noise[j]!;
    }
  }
  return { w, family };
}

const median = (v: number[]): number => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

test('cosine neighbours are exact: each row\'s nearest rows by cosine, self excluded, sorted', () => {
  const { w } = familyAtoms(4, 3, 16, 1);
  const m = 16, d = 16;
  const y = unitRows(w, m, d);
  const k = 3;
  const { indices, distances } = cosineNeighbours(y, m, d, k);
  for (let i = 0; i < m; i++) {
    const brute = Array.from({ length: m }, (_, j) => j).filter((j) => j !== i)
      .map((j) => ({ j, c: Array.from({ length: d }, (_, t) => y[i * d + t]! * y[j * d + t]!).reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.c - a.c).slice(0, k);
    assert.deepEqual(Array.from(indices.subarray(i * k, (i + 1) * k)), brute.map((b) => b.j), `row ${i}`);
    brute.forEach((b, t) => assert.ok(Math.abs(distances[i * k + t]! - (1 - b.c)) < 1e-5));
  }
});

test('atoms of one family land closer together than random atoms (median distance ratio < 0.5), and a seed reproduces the map', () => {
  const families = 20, children = 5, d = 96;
  const { w, family } = familyAtoms(families, children, d, 7);
  const m = family.length;
  const a = layoutAtoms(w, m, d, { seed: 3, epochs: 300 });
  const dist = (i: number, j: number): number => Math.hypot(a.xy[2 * i]! - a.xy[2 * j]!, a.xy[2 * i + 1]! - a.xy[2 * j + 1]!);
  const within: number[] = [], all: number[] = [];
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) (family[i] === family[j] ? within : all).push(dist(i, j));
  const ratio = median(within) / median(all);
  assert.ok(ratio < 0.5, `median within-family distance / median between-family distance = ${ratio.toFixed(3)}`);
  const b = layoutAtoms(w, m, d, { seed: 3, epochs: 300 });
  assert.deepEqual(b.xy, a.xy, 'the same seed gives the same map');
  for (const v of a.xy) assert.ok(v >= -1 - 1e-6 && v <= 1 + 1e-6);
});

test('atomMapLayout caches the map beside the SAE by content hash, and a changed decoder is laid out anew', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atommap-'));
  try {
    const { sae } = makeFixture(12, 40, 16, 8, 2);
    saveSaeLens(sae, dir);
    const first = atomMapLayout([dir], { seed: 1, epochs: 50 });
    assert.equal(first.cached, false);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('atom_map.')).length, 1);
    const again = atomMapLayout([dir], { seed: 1, epochs: 50 });
    assert.equal(again.cached, true);
    assert.deepEqual(again.xy, first.xy);
    sae.wDec[0] = (sae.wDec[0] ?? 0) + 1;
    saveSaeLens(sae, dir);
    const changed = atomMapLayout([dir], { seed: 1, epochs: 50 });
    assert.equal(changed.cached, false, 'a retrained decoder never reads the old map');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a feature page\'s atom view: unit decoder, encoder agreement, and the sample inputs nearest by cosine', async () => {
  const { readActivationSample } = await import('../../../src/views/activations');
  const { analyse } = await import('../../../src/views/sparsePass');
  const { atomView } = await import('../../../src/views/atomView');
  const { writeNpy } = await import('../../../src/io/npy');
  const f = makeFixture(16, 24, 300, 12, 4);
  const dir = mkdtempSync(join(tmpdir(), 'atomview-'));
  try {
    const p = join(dir, 'acts.npy');
    writeNpy(p, { dtype: 'F32', shape: [f.n, f.dIn], data: f.x });
    const a = analyse(f.sae, readActivationSample(p, 300, f.dIn));
    const v = atomView(a, 3, () => undefined, 5);
    assert.ok(Math.abs(v.decoder.reduce((s, x) => s + x * x, 0) - 1) < 1e-5, 'unit decoder');
    assert.ok(Math.abs(v.encoderDecoderCos - 1) < 1e-5, 'the fixture\'s encoder rows are its atoms');
    assert.equal(v.top[0]!.dim, Array.from(v.decoder.keys()).sort((p2, q) => Math.abs(v.decoder[q]!) - Math.abs(v.decoder[p2]!))[0]);
    // brute force: the rows with the largest cos(x − b_dec, d̂)
    const cos = Array.from({ length: f.n }, (_, r) => {
      let xd = 0, xx = 0;
      for (let j = 0; j < f.dIn; j++) { const x = f.x[r * f.dIn + j]! - f.sae.bDec[j]!; xd += x * v.decoder[j]!; xx += x * x; }
      return { r, c: xd / Math.sqrt(xx) };
    }).sort((p2, q) => q.c - p2.c).slice(0, 5);
    assert.deepEqual(v.nearestInputs.map((n) => n.row), cos.map((c) => c.r));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
