// Findings whose sentences follow from the numbers they print (issue 16): the dense-axis finding on a ReLU
// SAE whose atoms all lie along ±v of one strong dense direction; the absorption sentence when nothing is flagged;
// the duplicated-atoms finding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext } from '../../../src/diagnostics/context';
import { runDiagnostics } from '../../../src/diagnostics';
import type { AntipodalReport } from '../../../src/diagnostics/antipodal';
import { ABSORPTION_NAN_REASONS } from '../../../src/diagnostics/absorption';
import type { AbsorptionReport, ParentAbsorption } from '../../../src/diagnostics/absorption';
import { absorptionFindings } from '../../../src/diagnostics/structureFindings';
import { seededRandom } from '../../../src/diagnostics/linalg';
import type { DuplicatesReport } from '../../../src/diagnostics/duplicates';
import { g1, gaussian, orthonormalRows, reluSae, unitRows } from './b-data';

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

test('C3: the no-absorption sentence never claims a latent fires where its numbers say it does not', () => {
  const parent = (latent: number, presentRows: number, holes: number, absorbed: number): ParentAbsorption =>
    ({ latent, firing: 100, threshold: 0.5, presentRows, holes, absorbed, rate: absorbed / presentRows, absorbers: [], full: false, partial: false });
  const report = (parents: ParentAbsorption[]): AbsorptionReport =>
    ({ rate: new Float32Array(8), nanReasons: ABSORPTION_NAN_REASONS, parents, fullyAbsorbed: [], partiallyAbsorbed: [] });
  // the case: on a median 92% of the rows carrying a latent's direction it does not fire, and no absorber takes them
  const silent = absorptionFindings(report([0, 1, 2, 3, 4].map((i) => parent(i, 200, 180 + 2 * i, 0))));
  assert.equal(silent.length, 1);
  assert.doesNotMatch(silent[0]!.message, /itself fires|the latent fires/);
  assert.match(silent[0]!.message, /on a median 92% of the rows that carry a latent's direction \(q ≥ τ\) the latent does not fire, and absorbers take a median 0% of those rows/);
  assert.equal(silent[0]!.severity, 'warning');
  // holes few: the sentence may say the latent fires, with the share its numbers give
  const firing = absorptionFindings(report([0, 1, 2].map((i) => parent(i, 200, 4 + i, 1))));
  assert.match(firing[0]!.message, /the latent itself fires on a median 97\.5% of them/);
  // every hole share: a claim that the latent fires never exceeds 1 − the median hole share
  for (let h = 0; h <= 200; h += 10) {
    const msg = absorptionFindings(report([parent(0, 200, h, 0)]))[0]!.message;
    const claim = /itself fires on a median ([\d.]+)%/.exec(msg);
    if (claim) assert.ok(Number(claim[1]) / 100 <= 1 - h / 200 + 1e-9 && h / 200 <= 0.1, `${h}: ${msg}`);
    else assert.match(msg, new RegExp(`on a median ${Number((100 * h / 200).toPrecision(3))}% of the rows`));
  }
});

test('C3: a latent silent on part of the rows that carry its direction, the holes taken by nested absorbers, is "partly absorbed" with its rate; "fire weakly" is said only of weak co-firing', () => {
  const absorber = (latent: number, partial: boolean) => ({ latent, holesAttributed: 50, holesAbsorbed: partial ? 0 : 50, nesting: 0.93, cosine: 0.7, exclusivity: 0.3, encoderSuppression: 0, encoderSuppressionRelative: 0, suppressed: false, pull: 0, coFiringActivationRatio: partial ? 0.3 : 0.94, partial });
  const holes: ParentAbsorption = { latent: 3, firing: 300, threshold: 0.5, presentRows: 415, holes: 198, absorbed: 198, rate: 198 / 415, absorbers: [absorber(10, false)], full: false, partial: true, partialHoles: true };
  const weak: ParentAbsorption = { latent: 5, firing: 300, threshold: 0.5, presentRows: 400, holes: 4, absorbed: 0, rate: 0, absorbers: [absorber(11, true)], full: false, partial: true };
  const f = absorptionFindings({ rate: new Float32Array(12), nanReasons: ABSORPTION_NAN_REASONS, parents: [holes, weak], fullyAbsorbed: [], partiallyAbsorbed: [3, 5] });
  const partly = f.find((x) => /partly absorbed/.test(x.message))!;
  assert.match(partly.message, /latents 3 are partly absorbed: each is silent on 47\.7% of the rows that carry its direction/);
  assert.doesNotMatch(partly.message, /weakly/);
  const weakly = f.find((x) => /fire weakly/.test(x.message))!;
  assert.match(weakly.message, /^latents 5 are partially absorbed/);
});

test('duplicated atoms: near-duplicate atoms are reported with their cosine and whether both fire; a dictionary without them has no such finding', () => {
  const data = g1({ seed: 9, n: 3000, d: 24, features: 12, p: 0.08 });
  const d = data.d, F = data.nFeatures;
  const tiedSae = (atoms: Float32Array, m: number) => {
    const tied = new Float32Array(d * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) tied[j * m + i] = atoms[i * d + j]!;
    return reluSae(atoms, m, d, { lambda: 0.1, bias: data.bias, wEnc: tied });
  };
  const skip = ['kkt', 'identity', 'absorption', 'residual', 'convexReference', 'wideLimit', 'amortisation', 'coactivation', 'antipodal'];
  const clean = runDiagnostics(buildContext(tiedSae(data.features, F), data.x, data.n), { skip });
  assert.equal(clean.findings.filter((f) => f.section === 'duplicates').length, 0);
  // features 0, 1, 2 written twice: the copy tilted by ~14° toward feature 11's neighbour direction (cos 0.97)
  const atoms = new Float32Array((F + 3) * d);
  atoms.set(data.features, 0);
  const extra = orthonormalRows(1, d, seededRandom(4));
  for (let c = 0; c < 3; c++) for (let j = 0; j < d; j++) atoms[(F + c) * d + j] = data.features[c * d + j]! + 0.25 * extra[j]!;
  const r = runDiagnostics(buildContext(tiedSae(unitRows(atoms, F + 3, d), F + 3), data.x, data.n), { skip });
  const rep = r.sections.duplicates as DuplicatesReport;
  assert.deepEqual(rep.pairs.map((p) => [p.i, p.j]).sort(), [[0, 12], [1, 13], [2, 14]]);
  for (const p of rep.pairs) assert.ok(p.cosine > 0.95 && p.cosine < 0.99 && p.shared > 0.9, JSON.stringify(p));
  const f = r.findings.filter((x) => x.section === 'duplicates');
  assert.equal(f.length, 1);
  assert.match(f[0]!.message, /^3 pairs of live latents \(6 latents\) have nearly the same decoder direction \(cos ≥ 0\.9\), e\.g\. \d+ and \d+ \(cos 0\.9\d+, together on (9\d|100)(\.\d+)?% of the rarer one's rows\)/);
  assert.match(f[0]!.message, /3 pairs fire together on ≥ 50% of the rarer latent's rows .*, 0 almost never/);
});
