// tree, diagnose and report read the one analysis sample (a uniform seeded sample over the whole file,
// src/io/rowSample.ts), so on the same SAEs and file they give the same figures, and each states the sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../helpers/cli';
import { saveSaeLens } from '../../../src/formats/saelens';
import { writeNpy } from '../../../src/io/npy';
import { buildReport } from '../../../src/views/buildReport';
import { splitTreeForSaes } from '../../../src/views/splitTreePanel';
import type { DiagnosticReport } from '../../../src/diagnostics';
import type { SplitTreeReport } from '../../../src/diagnostics/splitTree';
import { familyData, reluSae, unitRows } from './b-data';

test('tree, diagnose and report: the same sample and the same figures on the same SAE and file', async () => {
  const d = 32, rows = 20000;
  const dir = mkdtempSync(join(tmpdir(), 'same-sample-'));
  try {
    // a file stored in order: the first 10,000 rows carry only family 0, so a first-rows sample would differ
    const data = familyData(5, rows, d);
    const order = [...Array(rows).keys()].sort((a, b) => Number(data.x[b * d]! > 0) - Number(data.x[a * d]! > 0));
    const x = new Float32Array(rows * d);
    order.forEach((r, k) => x.set(data.x.subarray(r * d, (r + 1) * d), k * d));
    writeNpy(join(dir, 'acts.npy'), { dtype: 'F32', shape: [rows, d], data: x });
    const pick = (idx: number[]) => { const o = new Float32Array(idx.length * d); idx.forEach((f, k) => o.set(data.features.subarray(f * d, (f + 1) * d), k * d)); return o; };
    saveSaeLens(reluSae(pick([0, 4, 8, 12, 13, 14]), 6, d, { lambda: 0.1, bias: data.bias }), join(dir, 'small'));
    const merged = new Float32Array(9 * d);
    for (let h = 0; h < 3; h++) for (let c = 1; c <= 3; c++) for (let j = 0; j < d; j++) merged[(3 * h + c - 1) * d + j] = data.features[4 * h * d + j]! + data.features[(4 * h + c) * d + j]!;
    saveSaeLens(reluSae(unitRows(merged, 9, d), 9, d, { lambda: 0.1, bias: data.bias }), join(dir, 'large'));
    const sample = 'a uniform sample of 16,384 of 20,000 rows (seed 0)';

    const diag = await run(['--json', 'diagnose', '--sae', join(dir, 'small'), '--activations', join(dir, 'acts.npy'), '--skip', 'identity,absorption,residual,convexReference,coactivation']);
    assert.equal(diag.code, 0, diag.err);
    const dr = JSON.parse(diag.out) as DiagnosticReport & { sections: { kkt: { sae: { perLatent: { kktOn: Record<string, number | null>; stat: Record<string, number | null> } } } } };
    assert.equal(dr.sample, sample);
    const report = buildReport({ saeDir: join(dir, 'small'), activations: join(dir, 'acts.npy'), features: 2 });
    assert.equal(report.diagnostics?.sample, sample);
    assert.equal(report.diagnostics?.tokens, dr.rows.context);
    const per = report.diagnostics!.perAtom!;
    for (let i = 0; i < 6; i++) {
      assert.ok(Math.abs(per.kktOn[i]! - dr.sections.kkt.sae.perLatent.kktOn[i]!) < 1e-6, `KKT_on ${i}`);
      assert.ok(Math.abs(per.stationarity[i]! - dr.sections.kkt.sae.perLatent.stat[i]!) < 1e-6, `STAT ${i}`);
    }

    const tree = await run(['--json', 'tree', '--sae', join(dir, 'small'), '--sae', join(dir, 'large'), '--activations', join(dir, 'acts.npy')]);
    assert.equal(tree.code, 0, tree.err);
    const tr = JSON.parse(tree.out) as SplitTreeReport;
    assert.equal(tr.sample, sample);
    const model = splitTreeForSaes([join(dir, 'small'), join(dir, 'large')], join(dir, 'acts.npy'));
    assert.equal(model.sample, sample);
    const widthEdges = tr.edges.filter((e) => e.kind === 'width');
    assert.equal(model.edges.from.length, widthEdges.length);
    widthEdges.forEach((e, k) => {
      assert.ok(Math.abs(model.edges.containment[k]! - e.containment) < 1e-6 && Math.abs(model.nodes.density[model.edges.to[k]!]! - tr.nodes[e.to]!.density) < 1e-6, `edge ${k}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
