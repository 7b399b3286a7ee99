import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../helpers/cli';
import { saveSaeLens } from '../../../src/formats/saelens';
import { writeNpy } from '../../../src/io/npy';
import { familyData, reluSae, unitRows } from './b-data';

const d = 32;


test('sae-workbench tree: JSON and the indented tree, and clear errors for bad input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'b-tree-'));
  try {
    const data = familyData(3, 1500, d);
    const pick = (idx: number[]) => { const o = new Float32Array(idx.length * d); idx.forEach((f, k) => o.set(data.features.subarray(f * d, (f + 1) * d), k * d)); return o; };
    const small = reluSae(pick([0, 4, 8, 12, 13, 14]), 6, d, { lambda: 0.1, bias: data.bias });
    const merged = new Float32Array(9 * d);
    for (let h = 0; h < 3; h++) for (let c = 1; c <= 3; c++) for (let j = 0; j < d; j++) merged[(3 * h + c - 1) * d + j] = data.features[4 * h * d + j]! + data.features[(4 * h + c) * d + j]!;
    const large = reluSae(unitRows(merged, 9, d), 9, d, { lambda: 0.1, bias: data.bias });
    saveSaeLens(small, join(dir, 'small'));
    saveSaeLens(large, join(dir, 'large'));
    writeNpy(join(dir, 'acts.npy'), { dtype: 'F32', shape: [data.n, d], data: data.x });
    const js = await run(['--json', 'tree', '--sae', join(dir, 'large'), '--sae', join(dir, 'small'), '--activations', join(dir, 'acts.npy')]);
    assert.equal(js.code, 0, js.err);
    const rep = JSON.parse(js.out) as { saes: { width: number }[]; nodes: { sae: number; latent: number; density: number; tags: string[] }[]; edges: { kind: string; from: number; to: number; cosine: number; containment: number }[] };
    assert.deepEqual(rep.saes.map((s) => s.width), [6, 9]);
    assert.equal(rep.edges.filter((e) => e.kind === 'width').length, 9);
    assert.deepEqual(rep.nodes.filter((nd) => nd.tags.includes('split')).map((nd) => nd.latent), [0, 1, 2]);
    const human = await run(['tree', '--sae', join(dir, 'small'), '--sae', join(dir, 'large'), '--activations', join(dir, 'acts.npy'), '--rows', '1000']);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /split trees on a uniform sample of 1,000 of 1,500 rows \(seed 0\)/);
    assert.match(human.out, /\n {2}0:0 .*3 children, strict split test passed.*\n {4}1:\d .*split, confidence 0\.\d\d: cos 0\.87/);
    // Bad input: wrong d_in, too few rows, a non-.npy file.
    writeNpy(join(dir, 'narrow.npy'), { dtype: 'F32', shape: [200, 16], data: new Float32Array(200 * 16) });
    const bad = await run(['tree', '--sae', join(dir, 'small'), '--activations', join(dir, 'narrow.npy')]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /small: d_in 32 does not match the 16 columns/);
    const few = await run(['tree', '--sae', join(dir, 'small'), '--activations', join(dir, 'acts.npy'), '--rows', '10']);
    assert.equal(few.code, 2);
    assert.match(few.err, /at least 100 rows .*got 10/);
    const zeros = new Float32Array(300 * d);
    for (let r = 0; r < 300; r++) zeros.set(data.bias, r * d);
    writeNpy(join(dir, 'dead.npy'), { dtype: 'F32', shape: [300, d], data: zeros });
    const dead = await run(['tree', '--sae', join(dir, 'small'), '--activations', join(dir, 'dead.npy')]);
    assert.equal(dead.code, 2);
    assert.match(dead.err, /every latent of every SAE is dead/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
