// The ground-truth card's data (found beside the evaluation or the training activations, metrics against
// a known dictionary, a reason otherwise) and the split flag the panels and the report set from a split tree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSaeLens } from '../../../src/formats/saelens';
import { findGroundTruth, groundTruthModel, latentGroundTruth } from '../../../src/views/groundTruth';
import { EDGE_KIND, FLAG, NODE_KIND } from '../../../src/protocol/viewModels';
import type { SplitTreeModel } from '../../../src/protocol/viewModels';
import { buildReport } from '../../../src/views/buildReport';
import { markSplitLatents, splitLatentsOf } from '../../../src/views/splitTreePanel';
import type { Sae } from '../../../src/sae/types';
import { generate, writeSynthetic } from '../../../src/synthetic';

const D = 16, F = 8;

/** An SAE whose first F atoms (and encoder rows) are the ground-truth features, reversed; the rest half-length copies of feature 0. */
function saeFor(features: Float32Array, width = 12, d = D): Sae {
  const wDec = new Float32Array(width * d), wEnc = new Float32Array(d * width);
  for (let i = 0; i < width; i++) {
    const f = i < F ? F - 1 - i : 0;
    for (let j = 0; j < d; j++) { wDec[i * d + j] = features[f * d + j]! * (i < F ? 1 : 0.5); wEnc[j * width + i] = features[f * d + j]!; }
  }
  return {
    cfg: { activation: 'relu', dIn: d, dSae: width, dOut: d, transcoder: false, applyBDecToInput: false, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {} },
    wEnc, bEnc: new Float32Array(width).fill(-0.2), wDec, bDec: new Float32Array(d),
  };
}

function synthDir(): { dir: string; activations: string; features: Float32Array } {
  const dir = mkdtempSync(join(tmpdir(), 'gt-card-'));
  const ds = generate('g1', { seed: 4, tokens: 600, dIn: D, features: F, sparsity: 0.8, noise: 0 });
  const { activations } = writeSynthetic(ds, join(dir, 'data'));
  return { dir, activations, features: ds.features };
}

describe('ground-truth card data', () => {
  it('finds the ground truth beside the evaluation activations and computes the metrics and per-latent best match', () => {
    const s = synthDir();
    const sae = saeFor(s.features);
    const saeDir = join(s.dir, 'sae');
    saveSaeLens(sae, saeDir);
    const m = groundTruthModel(sae, saeDir, s.activations);
    assert.equal(m.reason, undefined);
    assert.equal(m.foundBy, 'evaluation activations');
    assert.ok(m.metrics, 'metrics computed');
    assert.equal(m.metrics.features, F);
    assert.ok(m.metrics.mmcs > 0.999, `decoder = ground truth gives MMCS 1 (got ${m.metrics.mmcs})`);
    assert.equal(m.metrics.recovery90, 1);
    assert.equal(m.metrics.recoveryHungarian95, 1);
    assert.ok(Number.isFinite(m.metrics.lGT), 'rows aligned with the codes: L_GT computed');
    // latent i < F is feature F−1−i; latents ≥ F are half-length copies of feature 0
    assert.deepEqual(Array.from(m.bestFeature!), [7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0]);
    assert.ok(Array.from(m.bestCos!).every((c) => Math.abs(c - 1) < 1e-5));
    assert.deepEqual(latentGroundTruth(m, 2), { feature: 5, cosine: m.bestCos![2], features: F });
    assert.equal(latentGroundTruth(m, 12), undefined, 'out of range');
  });

  it('finds it through the activations the training log names, and says why when there is none', () => {
    const s = synthDir();
    const sae = saeFor(s.features);
    const saeDir = join(s.dir, 'sae');
    saveSaeLens(sae, saeDir);
    const elsewhere = join(s.dir, 'other');
    mkdirSync(elsewhere);
    const evalActs = join(elsewhere, 'activations.npy');
    let none = groundTruthModel(sae, saeDir, evalActs);
    assert.equal(none.metrics, undefined);
    assert.match(none.reason!, /no ground_truth\.safetensors beside the activations \(.*other\)/);
    writeFileSync(join(saeDir, 'training_log.jsonl'), `${JSON.stringify({ type: 'start', runId: 'r', options: { activations: [s.activations], width: 12 } })}\n{"step":1,"tokens":10}\n`);
    const viaLog = findGroundTruth(saeDir, evalActs);
    assert.ok('groundTruth' in viaLog && viaLog.foundBy === 'training log' && viaLog.activations === s.activations);
    const m = groundTruthModel(sae, saeDir, evalActs);
    assert.ok(m.metrics && m.metrics.mmcs > 0.999, 'metrics on the training activations');
    // a ground truth of another width is a reason, not a crash
    const narrow = saeFor(s.features, 12, D);
    narrow.cfg = { ...narrow.cfg, dIn: 8, dOut: 8 };
    none = groundTruthModel(narrow, saeDir, evalActs);
    assert.match(none.reason!, /ground truth has d 16 but the SAE has d_in 8/);
    // a log that names nothing
    writeFileSync(join(saeDir, 'training_log.jsonl'), '{"type":"start","options":{"activations":[3]}}\n');
    assert.match(groundTruthModel(sae, saeDir).reason!, /no activation file given, no training log naming one/);
  });
});

describe('split flag from a split tree', () => {
  const tree = (paths: string[], widths: number[]): SplitTreeModel => ({
    // node 0: latent 1 of column 0 with two children (latents 2 and 5 of column 1); node 3: latent 0 with one child
    saes: paths.map((path, i) => ({ name: `s${i}`, width: widths[i]!, path })),
    nodes: { sae: Uint8Array.of(0, 1, 1, 0, 1), latent: Int32Array.of(1, 2, 5, 0, 0), density: new Float32Array(5), kind: Uint8Array.of(NODE_KIND.split, 0, 0, 0, 0), labels: ['', '', '', '', ''] },
    edges: { from: Int32Array.of(0, 0, 3), to: Int32Array.of(1, 2, 4), cosine: new Float32Array(3), containment: new Float32Array(3), kind: Uint8Array.of(EDGE_KIND.child, EDGE_KIND.child, EDGE_KIND.child) },
    source: 'diagnostics',
  });

  it('marks the latents the tree splits, for the SAE found by folder', () => {
    const flags = new Uint8Array(12);
    markSplitLatents(flags, tree(['/x/narrow', '/x/wide'], [12, 24]), '/x/narrow');
    assert.deepEqual([...flags.keys()].filter((i) => flags[i]! & FLAG.split), [1]);
    const wide = new Uint8Array(24);
    markSplitLatents(wide, tree(['/x/narrow', '/x/wide'], [12, 24]), '/x/wide');
    assert.equal(wide.reduce((c, f) => c + (f & FLAG.split ? 1 : 0), 0), 0, 'the widest SAE has no next width');
    // a Matryoshka SAE: every level column has the same folder
    assert.deepEqual(splitLatentsOf(tree(['/m', '/m'], [12, 24]), '/m', 24), [1]);
  });

  it('reaches the report overview and its feature pages (buildReport)', () => {
    const s = synthDir();
    const sae = saeFor(s.features);
    const saeDir = join(s.dir, 'sae');
    saveSaeLens(sae, saeDir);
    const report = buildReport({ saeDir, activations: s.activations, splitTree: tree([saeDir, join(s.dir, 'wide')], [12, 24]), features: 12, diagnosticOptions: { rows: 256, exactRows: 64 } });
    assert.ok(report.dictionary.latents.flags[1]! & FLAG.split, 'latent 1 splits at the next width');
    assert.equal(report.dictionary.latents.flags[0]! & FLAG.split, 0, 'one child is no split');
    assert.ok(report.dictionary.groundTruth?.metrics, 'the report carries the ground-truth card');
    const page = report.features.find((p) => p.latent === 3);
    assert.deepEqual(page?.groundTruth && { feature: page.groundTruth.feature, features: page.groundTruth.features }, { feature: 4, features: F });
  });
});
