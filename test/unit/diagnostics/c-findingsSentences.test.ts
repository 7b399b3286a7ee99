// Findings whose sentences follow from the numbers they print (issue 16): the dense-axis finding on a ReLU
// SAE whose atoms all lie along ±v of one strong dense direction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext } from '../../../src/diagnostics/context';
import { runDiagnostics } from '../../../src/diagnostics';
import type { AntipodalReport } from '../../../src/diagnostics/antipodal';
import { seededRandom } from '../../../src/diagnostics/linalg';
import { gaussian, orthonormalRows, reluSae, unitRows } from './b-data';

test('C2: a ReLU SAE with every atom on ±v of one dense direction gets one axis with the axis\'s variance share, 128 on +v and 127 on −v, the strongest named', () => {
  const rnd = seededRandom(3);
  const d = 16, n = 1500, m = 255, lambda = 0.1;
  const basis = orthonormalRows(d, d, rnd);
  const v = basis.subarray(0, d);
  // x = s·v + isotropic noise in the other 15 directions; s ~ N(0, 1): Var along v = 1 of E‖x‖² = 1 + 15·0.05²
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const s = gaussian(rnd);
    for (let j = 0; j < d; j++) x[r * d + j] = s * v[j]!;
    for (let t = 1; t < d; t++) { const e = 0.05 * gaussian(rnd); for (let j = 0; j < d; j++) x[r * d + j]! += e * basis[t * d + j]!; }
  }
  const expectedShare = 1 / (1 + 15 * 0.05 * 0.05);
  // 128 atoms near +v and 127 near −v (each tilted a little toward another direction), tied encoder
  const atoms = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    const sign = i < 128 ? 1 : -1, t = 1 + (i % (d - 1)), tilt = 0.01 + 0.03 * rnd();
    for (let j = 0; j < d; j++) atoms[i * d + j] = sign * v[j]! + tilt * basis[t * d + j]!;
  }
  const unit = unitRows(atoms, m, d);
  const tied = new Float32Array(d * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) tied[j * m + i] = unit[i * d + j]!;
  const sae = reluSae(unit, m, d, { lambda, bias: new Float32Array(d), wEnc: tied });
  const r = runDiagnostics(buildContext(sae, x, n), { skip: ['kkt', 'identity', 'absorption', 'residual', 'convexReference', 'wideLimit', 'amortisation', 'coactivation'] });
  const ap = r.sections.antipodal as AntipodalReport;
  assert.equal(ap.denseAxes.length, 1, `axes: ${ap.denseAxes.length}`);
  const ax = ap.denseAxes[0]!;
  const plusIsV = ax.plus.includes(0);
  assert.equal((plusIsV ? ax.plus : ax.minus).length, 128);
  assert.equal((plusIsV ? ax.minus : ax.plus).length, 127);
  assert.ok(Math.abs(ax.varianceShare - expectedShare) < 0.03, `axis share ${ax.varianceShare} vs ${expectedShare}`);
  const findings = r.findings.filter((f) => f.section === 'antipodal');
  assert.equal(findings.length, 1);
  const msg = findings[0]!.message;
  assert.match(msg, /^one dense axis, carried by (128|127) latents \(strongest \d+, \d+, \d+\) on \+v and (127|128) latents \(strongest \d+, \d+, \d+\) on −v/);
  assert.match(msg, new RegExp(`carries ${(100 * ax.varianceShare).toPrecision(3).replace('.', '\\.')}% of the variance`));
  assert.ok(Math.abs(Number(/carries ([\d.]+)% of the variance/.exec(msg)![1]) / 100 - expectedShare) < 0.03);
  // no list of every latent: the sentence names at most the three strongest per side
  assert.ok((msg.match(/\b\d{2,3}\b/g) ?? []).length < 20, msg);
});
