import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from '../../../src/synthetic';
import { dictionarySae } from '../../../src/diagnostics/exactDictionary';
import { buildContext } from '../../../src/diagnostics/context';
import { runDiagnostics } from '../../../src/diagnostics';
import type { AmortisationReport } from '../../../src/diagnostics/amortisation';
import type { WideLimitReport } from '../../../src/diagnostics/wideLimit';
import { phi } from '../../../src/diagnostics/wideLimit';

test('B5: a useful atom with a silenced encoder is encoder-dead; an atom off the data is dictionary-dead', () => {
  const ds = generate('g2', { seed: 1, tokens: 1500, parents: 2, children: 1, dIn: 12, parentRate: 0.3 });
  const f = ds.nFeatures, d = ds.d, m = f + 1;
  // an extra atom in a direction the data never uses (the basis is orthonormal with 4 of 12 directions used)
  const atoms = new Float32Array(m * d);
  atoms.set(ds.features);
  const extra = new Float32Array(d);
  for (let j = 0; j < d; j++) extra[j] = Math.sin(3.1 * j + 1);
  for (let i = 0; i < f; i++) { let c = 0; for (let j = 0; j < d; j++) c += extra[j] * ds.features[i * d + j]; for (let j = 0; j < d; j++) extra[j] -= c * ds.features[i * d + j]; }
  atoms.set(extra, f * d);
  const sae = dictionarySae(atoms, m, d, ds.bias, 0.1);
  sae.bEnc[0] = -1e6; // parent 0's encoder never fires, its atom is still the best direction for its rows
  const ctx = buildContext(sae, ds.x, ds.n);
  const r = runDiagnostics(ctx, { firingCounts: Float64Array.from(ctx.firing, (p) => Math.round(p * ds.n)), firingRows: ds.n });
  const am = r.sections.amortisation as AmortisationReport;
  assert.deepEqual(am.encoderDead, [0]);
  assert.deepEqual(am.dictionaryDead, [f]);
  assert.ok(am.objectiveGap > 0.05, `gap ${am.objectiveGap}`);
  assert.ok(am.perLatent.fn[0] === 1, 'every exact activation of latent 0 is missed by the encoder');
  assert.ok(r.findings.some((x) => /encoder-dead/.test(x.message)) && r.findings.some((x) => /dictionary-dead/.test(x.message)));
});

test('D1: data on the dictionary\'s rays reach the wide limit (WG = 0); other data leave a positive gap', () => {
  const ds = generate('g7', { seed: 3, tokens: 600 });
  const lambda = 0.1;
  const sae = dictionarySae(ds.features, ds.nFeatures, ds.d, ds.bias, lambda);
  const r = runDiagnostics(buildContext(sae, ds.x, ds.n), { skip: ['identity', 'antipodal'] });
  const w = r.sections.wideLimit as WideLimitReport;
  // with one atom per data ray, exact codes attain φ(‖x − b‖) on every row
  assert.ok(Math.abs(w.widthGap) < 1e-4, `WG ${w.widthGap}`);
  assert.ok(w.minSampleGap > -1e-5);
  // drop half of the atoms: rows on the missing rays cannot attain the bound
  const half = Math.floor(ds.nFeatures / 2);
  const r2 = runDiagnostics(buildContext(dictionarySae(ds.features.slice(0, half * ds.d), half, ds.d, ds.bias, lambda), ds.x, ds.n), { skip: ['identity', 'antipodal'] });
  const w2 = r2.sections.wideLimit as WideLimitReport;
  assert.ok(w2.widthGap > 0.05, `WG ${w2.widthGap}`);
  assert.equal(phi(0.05, 0.1), 0.5 * 0.05 * 0.05);
  assert.ok(Math.abs(phi(2, 0.1) - (0.2 - 0.005)) < 1e-12);
});
