// STAT for L0-type codes: the correlation of the code with the residual along the pull direction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ompCodes } from '../../../src/diagnostics/l0ReferenceCodes';
import { finishCodeSet } from '../../../src/diagnostics/codeResiduals';
import { kktStationarity } from '../../../src/diagnostics/kkt';
import { seededRandom } from '../../../src/util/random';
import { kSparseRows } from './b-data';

test('L0 STAT separates a stationary atom from a rotated one (sin∠(g, d̂) would call both ≈ 1)', () => {
  const rnd = seededRandom(31);
  const F = 12, d = 16, n = 6000, k = 3;
  const { feats, t } = kSparseRows(F, d, n, k, rnd);
  // atom 0 rotated by 25° toward feature 1
  const rotated = Float32Array.from(feats);
  const th = (25 * Math.PI) / 180;
  for (let j = 0; j < d; j++) rotated[j] = Math.cos(th) * feats[j]! + Math.sin(th) * feats[d + j]!;
  const stat = (atoms: Float32Array) => {
    const ref = ompCodes(t, atoms, n, F, d, k);
    const cs = finishCodeSet({ source: 'exact', kind: 'l0', n, m: F, d, rowPtr: ref.rowPtr, idx: ref.idx, val: ref.val, residual: ref.residual }, atoms);
    return kktStationarity(cs, atoms, NaN, { mode: 'row-min' }, { pull: false, bootstrap: { resamples: 50, seed: 2 } });
  };
  const truth = stat(feats), bent = stat(rotated);
  for (let i = 0; i < F; i++) {
    assert.ok(truth.perLatent.stat[i]! < 2 * truth.perLatent.statSE[i]! && truth.perLatent.flagged[i] === 0, `true atom ${i}: STAT ${truth.perLatent.stat[i]} SE ${truth.perLatent.statSE[i]}`);
    // the bootstrap floor still checks the analytic one under the L0 scale
    assert.ok(Math.abs(truth.perLatent.statFloorBootstrap![i]! - truth.perLatent.statSE[i]!) < 0.25 * truth.perLatent.statSE[i]!, `floor ${i}`);
  }
  assert.ok(bent.perLatent.flagged[0] === 1 && bent.perLatent.stat[0]! > 0.3 && bent.perLatent.stat[0]! <= 1, `rotated atom: STAT ${bent.perLatent.stat[0]}`);
  assert.ok(bent.perLatent.stat[0]! > 5 * truth.perLatent.stat[0]!);
});
