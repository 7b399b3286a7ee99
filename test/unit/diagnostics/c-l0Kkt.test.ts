// KKT for L0 codes on their own scale, the encoder's threshold θ (docs/diagnostics.md "KKT for L0 codes"):
// best k-sparse codes of the true dictionary are good; the same supports with magnitudes shrunk (an
// amortised encoder's misfit) are not, also when k exceeds the features a row carries (θ is then the row's
// smallest material code); an L0 SAE's λ_e is "not applicable", never "estimated, then unavailable".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ompCodes } from '../../../src/diagnostics/l0ReferenceCodes';
import { finishCodeSet } from '../../../src/diagnostics/codeResiduals';
import { kktStationarity, l0RowScale } from '../../../src/diagnostics/kkt';
import { quantile } from '../../../src/diagnostics/linalg';
import { kktFindings } from '../../../src/diagnostics/structureFindings';
import { buildContext } from '../../../src/diagnostics/context';
import { L0_LAMBDA_NOTE, runDiagnostics } from '../../../src/diagnostics';
import { seededRandom } from '../../../src/util/random';
import { kSparseRows, reluSae } from './b-data';

const F = 12, d = 16, n = 4000, k = 3;
const { feats, t } = kSparseRows(F, d, n, k, seededRandom(8));

function kkt(shrink: number, rows = t, materialCode?: number) {
  const ref = ompCodes(rows, feats, n, F, d, k);
  const val = Float32Array.from(ref.val, (v) => v * shrink);
  const residual = Float32Array.from(rows);
  for (let r = 0; r < n; r++) for (let q = ref.rowPtr[r]!; q < ref.rowPtr[r + 1]!; q++) for (let j = 0; j < d; j++) residual[r * d + j]! -= val[q]! * feats[ref.idx[q]! * d + j]!;
  const cs = finishCodeSet({ source: 'sae', kind: 'l0', n, m: F, d, rowPtr: ref.rowPtr, idx: ref.idx, val, residual }, feats);
  return kktStationarity(cs, feats, NaN, { mode: 'row-min', materialCode }, { pull: false, bootstrap: false });
}

test('L0 KKT: best k-sparse codes are good on the θ scale, shrunk magnitudes are poor, each with a verdict sentence', () => {
  const best = kkt(1), shrunk = kkt(0.6);
  assert.equal(best.summary.codeQuality, 'good', `KKT_on ${best.summary.kktOn.median}, KKT_off ${best.summary.kktOff.median}`);
  assert.ok(best.summary.kktOn.median < 0.05);
  assert.equal(shrunk.summary.codeQuality, 'poor', `KKT_on ${shrunk.summary.kktOn.median}, KKT_off ${shrunk.summary.kktOff.median}`);
  assert.equal(best.reason.codeQuality, undefined);
  const sentence = kktFindings(shrunk, 'SAE codes').find((f) => /code-space KKT/.test(f.message))!.message;
  assert.match(sentence, /code-space KKT is poor on the L0 scale \(in units of the encoder's threshold θ/);
});

test('L0 KKT when k exceeds the row\'s features: θ is the smallest material code, not the slack k-th code', () => {
  // two features per row, k 3: OMP's 3rd code fits the noise (≈ 0.1 against real codes of 1–2)
  const one = kSparseRows(F, d, n, 2, seededRandom(8)).t;
  const theta = l0RowScale({ n, rowPtr: ompCodes(one, feats, n, F, d, k).rowPtr, val: ompCodes(one, feats, n, F, d, k).val });
  assert.ok(quantile(Array.from(theta), 0.5) > 0.9, `median θ ${quantile(Array.from(theta), 0.5)}: the real code, not a noise code`);
  // magnitudes 5% short: a good encoder's misfit. On the k-th-code scale (materialCode 0) it reads as poor.
  const near = kkt(0.95, one), nearKth = kkt(0.95, one, 0), shrunk = kkt(0.6, one);
  assert.equal(nearKth.summary.codeQuality, 'poor', `k-th code scale: KKT_on ${nearKth.summary.kktOn.median}`);
  assert.equal(near.summary.codeQuality, 'good', `KKT_on ${near.summary.kktOn.median}, KKT_off ${near.summary.kktOff.median}`);
  assert.equal(shrunk.summary.codeQuality, 'poor', `KKT_on ${shrunk.summary.kktOn.median}, KKT_off ${shrunk.summary.kktOff.median}`);
  // every code material (k features per row): θ is the k-th code, as before
  const ref = ompCodes(t, feats, n, F, d, k), full = l0RowScale({ n, rowPtr: ref.rowPtr, val: ref.val }), kth = l0RowScale({ n, rowPtr: ref.rowPtr, val: ref.val }, 0);
  let same = 0;
  for (let r = 0; r < n; r++) if (full[r] === kth[r]) same++;
  assert.ok(same / n > 0.9, `θ equals the k-th code on ${same} of ${n} rows with k features`);
});

test('an L0 SAE without a stored λ_e: the report says λ_e does not apply, not that it is unavailable', () => {
  const sae = reluSae(feats, F, d, { lambda: 0.1, bias: new Float32Array(d) });
  sae.cfg.activation = 'topk';
  sae.cfg.k = k;
  sae.cfg.training = {};
  const r = runDiagnostics(buildContext(sae, t, 1500), { skip: ['identity', 'absorption', 'residual', 'convexReference', 'wideLimit', 'amortisation', 'coactivation', 'antipodal', 'duplicates'] });
  assert.equal(r.lambdaE.reason, L0_LAMBDA_NOTE);
  const text = JSON.stringify(r);
  assert.doesNotMatch(text, /λ_e is unavailable/);
  assert.ok(r.findings.some((f) => /code-space KKT is (good|fair|poor) on the L0 scale/.test(f.message)), r.findings.map((f) => f.message).join('\n'));
});
