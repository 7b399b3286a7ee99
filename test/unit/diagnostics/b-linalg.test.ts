import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskySolve, maxAssignment, seededRandom, symmetricEigen } from '../../../src/diagnostics/linalg';

test('symmetricEigen reconstructs a random symmetric matrix: A v = μ v, orthonormal, descending', () => {
  const d = 40;
  const rnd = seededRandom(3);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) { const v = rnd() - 0.5; a[i * d + j] = v; a[j * d + i] = v; }
  const { values, vectors } = symmetricEigen(a, d);
  for (let k = 1; k < d; k++) assert.ok(values[k - 1]! >= values[k]!);
  let trace = 0, sum = 0;
  for (let i = 0; i < d; i++) { trace += a[i * d + i]!; sum += values[i]!; }
  assert.ok(Math.abs(trace - sum) < 1e-9);
  for (const k of [0, 7, d - 1]) {
    for (let i = 0; i < d; i++) {
      let av = 0;
      for (let j = 0; j < d; j++) av += a[i * d + j]! * vectors[k * d + j]!;
      assert.ok(Math.abs(av - values[k]! * vectors[k * d + i]!) < 1e-9, `row ${i} of pair ${k}`);
    }
    let dot = 0, nrm = 0;
    for (let i = 0; i < d; i++) { nrm += vectors[k * d + i]! ** 2; dot += vectors[k * d + i]! * vectors[((k + 1) % d) * d + i]!; }
    assert.ok(Math.abs(nrm - 1) < 1e-9 && Math.abs(dot) < 1e-9);
  }
});

test('symmetricEigen of a diagonal matrix returns the sorted diagonal', () => {
  const { values } = symmetricEigen([2, 0, 0, 0, 5, 0, 0, 0, -1], 3);
  assert.deepEqual(Array.from(values), [5, 2, -1]);
});

test('maxAssignment finds the optimal one-to-one matching (checked by brute force)', () => {
  const rnd = seededRandom(9);
  for (const [r, c] of [[4, 4], [3, 5], [5, 3]] as const) {
    const s = Array.from({ length: r * c }, () => rnd());
    const m = maxAssignment(s, r, c);
    const total = (perm: number[]): number => perm.reduce((acc, j, i) => acc + (j >= 0 ? s[i * c + j]! : 0), 0);
    let best = -Infinity;
    const rec = (i: number, used: Set<number>, perm: number[]): void => {
      if (i === r) { best = Math.max(best, total(perm)); return; }
      let placed = false;
      for (let j = 0; j < c; j++) if (!used.has(j)) { placed = true; used.add(j); rec(i + 1, used, [...perm, j]); used.delete(j); }
      if (!placed || r > c) rec(i + 1, used, [...perm, -1]);
    };
    rec(0, new Set(), []);
    assert.ok(Math.abs(total(Array.from(m)) - best) < 1e-12, `${r}x${c}`);
    assert.equal(new Set(Array.from(m).filter((j) => j >= 0)).size, Math.min(r, c));
  }
});

test('choleskySolve solves an SPD system and ridges a singular one', () => {
  const G = new Float64Array([4, 2, 2, 3]);
  const { solutions, ridged } = choleskySolve(G, 2, [new Float64Array([2, 1])]);
  assert.equal(ridged, false);
  assert.ok(Math.abs(4 * solutions[0]![0]! + 2 * solutions[0]![1]! - 2) < 1e-12);
  assert.ok(Math.abs(2 * solutions[0]![0]! + 3 * solutions[0]![1]! - 1) < 1e-12);
  assert.equal(choleskySolve(new Float64Array([1, 1, 1, 1]), 2, [new Float64Array([1, 1])]).ridged, true);
});
