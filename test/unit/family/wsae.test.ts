// The weighted SAE through the trainer: which Γ a run trains with (variance from the data, oracle from the
// ground truth's mixing matrix), that it is stored with the SAE, and the refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../../../src/train/trainer';
import { DEFAULT_WEIGHT_ALPHA } from '../../../src/train/options';
import { computeReconWeights } from '../../../src/train/weighting';
import { varianceWeights } from '../../../src/train/weighting';
import { loadSae } from '../../../src/formats/index';
import { writeSynthetic } from '../../../src/synthetic';
import type { SyntheticDataset } from '../../../src/synthetic';
import { Rng } from '../../../src/synthetic/random';
import { isInputError } from '../../../src/errors';

const dir = mkdtempSync(join(tmpdir(), 'wsae-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const noHooks = { emit: () => undefined, cancelled: () => false };

/** Axis-aligned regular polygons, one per plane (dims 2p, 2p+1); s = Bern(1−S)·U[0,1]. */
function polygons(sizes: number[], n: number, sparsity: number): SyntheticDataset {
  const d = 2 * sizes.length, f = sizes.reduce((a, b) => a + b, 0);
  const w = new Float32Array(f * d);
  let i = 0;
  sizes.forEach((size, p) => {
    for (let v = 0; v < size; v++, i++) {
      w[i * d + 2 * p] = Math.cos((2 * Math.PI * v) / size);
      w[i * d + 2 * p + 1] = Math.sin((2 * Math.PI * v) / size);
    }
  });
  const rng = new Rng(7);
  const codes = new Float32Array(n * f);
  for (let k = 0; k < n * f; k++) if (rng.uniform() >= sparsity) codes[k] = rng.uniform();
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let a = 0; a < f; a++) for (let q = 0; q < d; q++) x[r * d + q]! += codes[r * f + a]! * w[a * d + q]!;
  return { kind: 'g5', x, n, d, features: w, nFeatures: f, bias: new Float32Array(d), codes, meta: {} };
}

const ds = polygons([4, 12, 4, 12], 2048, 0.8);
const files = writeSynthetic(ds, join(dir, 'data'));

test('oracle Γ: for decoupled planes the NNLS solution is γ_i² ∝ 1/‖row i of W_p‖², rescaled to mean γ² = 1', () => {
  // row norms²: a regular k-gon puts Σ cos² = k/2 on each of its two dimensions → 2 (squares), 6 (12-gons)
  const g = computeReconWeights({ weighting: 'oracle', weightAlpha: 0, groundTruth: files.groundTruth }, ds.x, ds.n, ds.d);
  const raw = [1 / 2, 1 / 2, 1 / 6, 1 / 6, 1 / 2, 1 / 2, 1 / 6, 1 / 6];
  const meanRaw = raw.reduce((a, b) => a + b, 0) / raw.length;
  raw.forEach((r, q) => assert.ok(Math.abs(g[q]! ** 2 - r / meanRaw) < 1e-4, `γ_${q}² = ${g[q]! ** 2}, expected ${r / meanRaw}`));
});

test('variance Γ with the default α < 0 down-weights the polysemantic dimensions, as the oracle does', () => {
  assert.ok(DEFAULT_WEIGHT_ALPHA < 0);
  const g = computeReconWeights({ weighting: 'variance', weightAlpha: DEFAULT_WEIGHT_ALPHA }, ds.x, ds.n, ds.d);
  for (const mono of [0, 1, 4, 5]) for (const poly of [2, 3, 6, 7]) assert.ok(g[mono]! > g[poly]!, `γ_${mono} = ${g[mono]} vs γ_${poly} = ${g[poly]}`);
});

test('a weighted run trains, and stores Γ (computed from all rows) and the weighted loss convention in cfg', async () => {
  const out = join(dir, 'variance');
  const summary = await runTraining({ activations: [files.activations], outDir: out, arch: 'relu', width: 32, l1: 0.1, batch: 256, tokens: 256 * 100, lr: 1e-2, weighting: 'variance', weightAlpha: -1 }, noHooks);
  const sae = loadSae(out);
  const facts = sae.cfg.training as Record<string, unknown>;
  assert.equal(facts.lossConvention, 'weighted_sum_of_squares');
  assert.equal(facts.lambdaE, undefined, 'λ/2 is not the plain λ_e under Γ');
  const rw = facts.reconstructionWeighting as { mode: string; alpha: number; gamma: number[] };
  assert.equal(rw.mode, 'variance');
  assert.equal(rw.alpha, -1);
  // the run's sample is every row (2048 < 4096), scaled; variance weights are scale-free
  const expected = varianceWeights(ds.x, ds.n, ds.d, -1);
  rw.gamma.forEach((v, q) => assert.ok(Math.abs(v - expected[q]!) < 1e-3 * expected[q]!, `γ_${q} ${v} vs ${expected[q]}`));
  const final = summary.final as { explainedVariance: number };
  assert.ok(final.explainedVariance > 0.5, `EV ${final.explainedVariance}`);
});

test('oracle weighting without --ground-truth, or --ground-truth without oracle, is refused', async () => {
  for (const extra of [{ weighting: 'oracle' as const }, { weighting: 'variance' as const, groundTruth: files.groundTruth }]) {
    await assert.rejects(runTraining({ activations: [files.activations], outDir: join(dir, 'bad'), arch: 'relu', width: 8, batch: 64, tokens: 64, ...extra }, noHooks),
      (e: unknown) => isInputError(e) && /ground-truth/.test(String((e as Error).message)));
  }
});
