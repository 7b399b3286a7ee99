// The L0 STAT flag at its calibrated rule (THRESHOLDS.statSigmasL0, statFloorL0; docs/diagnostics.md "L0 STAT
// calibration"): over 3 seeds, no atom of the true dictionary is flagged, every atom rotated by 10° is, and
// each flag is exactly the rule STAT > max(σ·SE, floor) of statRule('l0').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ompCodes } from '../../../src/diagnostics/l0ReferenceCodes';
import { finishCodeSet } from '../../../src/diagnostics/codeResiduals';
import { kktStationarity } from '../../../src/diagnostics/kkt';
import { statRule, THRESHOLDS } from '../../../src/diagnostics/thresholds';
import { seededRandom } from '../../../src/util/random';
import { gaussian, kSparseRows } from './b-data';

const F = 12, d = 16, n = 4000, k = 3;

function data(seed: number): { feats: Float32Array; t: Float32Array; rnd: () => number } {
  const rnd = seededRandom(seed);
  const { feats, t } = kSparseRows(F, d, n, k, rnd);
  return { feats, t, rnd };
}

function report(t: Float32Array, atoms: Float32Array) {
  const ref = ompCodes(t, atoms, n, F, d, k);
  const cs = finishCodeSet({ source: 'exact', kind: 'l0', n, m: F, d, rowPtr: ref.rowPtr, idx: ref.idx, val: ref.val, residual: ref.residual }, atoms);
  return kktStationarity(cs, atoms, NaN, { mode: 'row-min' }, { pull: false, bootstrap: false });
}

test('L0 STAT flag at the calibrated rule: true dictionaries unflagged, atoms rotated by 10° flagged (3 seeds)', () => {
  const rule = statRule('l0');
  assert.deepEqual(rule, { sigmas: THRESHOLDS.statSigmasL0, floor: THRESHOLDS.statFloorL0 });
  for (const seed of [11, 12, 13]) {
    const { feats, t, rnd } = data(seed);
    const truth = report(t, feats);
    assert.equal(truth.summary.fractionFlagged, 0, `seed ${seed}: true atoms flagged`);
    // rotate atoms 0, 2, 4 by 10° toward a random direction orthogonal to the atom
    const bent = Float32Array.from(feats);
    const th = (10 * Math.PI) / 180;
    for (const i of [0, 2, 4]) {
      const v = Float64Array.from({ length: d }, () => gaussian(rnd));
      let p = 0, nv = 0;
      for (let j = 0; j < d; j++) p += v[j]! * feats[i * d + j]!;
      for (let j = 0; j < d; j++) { v[j] = v[j]! - p * feats[i * d + j]!; nv += v[j]! ** 2; }
      for (let j = 0; j < d; j++) bent[i * d + j] = Math.cos(th) * feats[i * d + j]! + Math.sin(th) * v[j]! / Math.sqrt(nv);
    }
    const r = report(t, bent);
    for (const i of [0, 2, 4]) assert.equal(r.perLatent.flagged[i], 1, `seed ${seed}: rotated atom ${i} STAT ${r.perLatent.stat[i]} SE ${r.perLatent.statSE[i]}`);
    for (const rep of [truth, r]) for (let i = 0; i < F; i++) {
      const { stat, statSE, flagged } = rep.perLatent;
      assert.equal(flagged[i], stat[i]! > Math.max(rule.sigmas * statSE[i]!, rule.floor) ? 1 : 0, `seed ${seed} atom ${i}: flag disagrees with the rule`);
    }
  }
});
