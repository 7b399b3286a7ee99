import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, writeSynthetic } from '../../../src/synthetic';
import { dictionarySae } from '../../helpers/exactDictionary';
import { buildContext } from '../../../src/diagnostics/context';
import { runDiagnostics, SECTIONS } from '../../../src/diagnostics';
import { deadDense } from '../../../src/diagnostics/deadDense';
import { jsonReplacer } from '../../../src/cli/common';
import { readActivationRows } from '../../../src/diagnostics/files';
import { saveSaeLens } from '../../../src/formats/saelens';
import { main } from '../../../src/cli/main';

/** Every null in the JSON (a NaN or unavailable value) must have a `reason` in some enclosing object. */
function assertNullsExplained(v: unknown, path: string, explained: boolean): void {
  if (v === null) { assert.ok(explained, `${path} is null without a reason`); return; }
  if (Array.isArray(v)) { v.forEach((e, i) => assertNullsExplained(e, `${path}[${i}]`, explained)); return; }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const here = explained || (typeof o.reason === 'object' && o.reason !== null && Object.keys(o.reason).length > 0) || typeof o.reason === 'string';
    for (const [k, e] of Object.entries(o)) assertNullsExplained(e, `${path}.${k}`, here);
  }
}

test('runDiagnostics runs every section and never reports a null without a reason', () => {
  const ds = generate('g2', { seed: 1, tokens: 1200, dIn: 24 });
  const sae = dictionarySae(ds.features, ds.nFeatures, ds.d, ds.bias, 0.1);
  const r = runDiagnostics(buildContext(sae, ds.x, ds.n));
  assert.deepEqual(Object.keys(r.sections), SECTIONS.map((s) => s.name));
  const json = JSON.parse(JSON.stringify(r, jsonReplacer));
  assertNullsExplained(json, 'report', false);
  assert.ok(r.findings.length > 0 && r.findings.every((f) => f.message.endsWith('.')));
  assert.equal(r.lambdaE.source, 'stored');
  // nested hierarchy at the true dictionary: the exact codes flag the children as non-stationary (B3)
  const kkt = (r.sections.kkt as { exact: { perLatent: { flagged: Uint8Array } } }).exact;
  for (const g of ds.hierarchy!) for (const c of g.children) assert.equal(kkt.perLatent.flagged[c], 1, `child ${c}`);
});

test('without a stored λ_e the estimate is used; an L0 SAE without λ_e gets reasons, not NaNs', () => {
  const ds = generate('g1', { seed: 2, tokens: 600, features: 16, dIn: 32, sparsity: 0.9 });
  // λ large enough that the tied encoder's codes are near-lasso (interference ≤ 0.1 × magnitudes)
  const sae = dictionarySae(ds.features, 16, 32, ds.bias, 0.45);
  sae.cfg.training = {};
  const r = runDiagnostics(buildContext(sae, ds.x, ds.n));
  assert.equal(r.lambdaE.source, 'estimated');
  assert.ok(Math.abs(r.lambdaE.value - 0.45) < 0.05, `estimate ${r.lambdaE.value}`);
  const topk = dictionarySae(ds.features, 16, 32, ds.bias, 0);
  topk.cfg.activation = 'topk'; topk.cfg.k = 2; topk.cfg.training = {};
  topk.bEnc.fill(0);
  const r2 = runDiagnostics(buildContext(topk, ds.x, ds.n));
  assertNullsExplained(JSON.parse(JSON.stringify(r2, jsonReplacer)), 'report', false);
});

test('bad input: all latents dead, d_in mismatch, too few rows for a statistic', () => {
  const ds = generate('g1', { seed: 3, tokens: 100, features: 8, dIn: 16, sparsity: 0.5 });
  const dead = dictionarySae(ds.features, 8, 16, ds.bias, 0.1);
  dead.bEnc.fill(-1e6);
  assert.throws(() => runDiagnostics(buildContext(dead, ds.x, ds.n)), /all 8 latents are dead/);
  const dir = mkdtempSync(join(tmpdir(), 'diag-'));
  try {
    const p = writeSynthetic(ds, dir);
    assert.throws(() => readActivationRows(p.activations, 32), /d_in 16 but the SAE expects d_in 32/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  const sae = dictionarySae(ds.features, 8, 16, ds.bias, 0.1);
  const small = runDiagnostics(buildContext(sae, ds.x, 8));
  const kkt = small.sections.kkt as { reason: Record<string, string> };
  assert.match(kkt.reason.kkt, /needs at least 20 rows; the sample has 8/);
  const dd = deadDense(new Float64Array([0, 5, 50]), 100);
  assert.deepEqual(dd.dead, [0]);
  assert.deepEqual(dd.dense, [2]);
  assert.match(dd.reason.dead, /100000 rows/);
});

test('the diagnose command prints a summary and one JSON document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'diag-cli-'));
  const out: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  try {
    const ds = generate('g4', { seed: 1, tokens: 400, sparsity: 0.98 });
    const p = writeSynthetic(ds, join(dir, 'data'));
    saveSaeLens(dictionarySae(ds.features, ds.nFeatures, ds.d, ds.bias, 0.1), join(dir, 'sae'));
    process.stdout.write = ((s: string) => { out.push(s); return true; }) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    const before = process.exitCode;
    process.exitCode = undefined;
    const code = await main(['--json', 'diagnose', '--sae', join(dir, 'sae'), '--activations', p.activations]);
    process.exitCode = before;
    assert.equal(code, 0);
    const report = JSON.parse(out.join(''));
    assert.equal(report.sections.antipodal.sparse.length, ds.nFeatures / 2, 'every digon is a sparse antipodal pair');
    assert.equal(report.sections.antipodal.dense.length, 0);
  } finally {
    process.stdout.write = orig;
    process.stderr.write = origErr;
    rmSync(dir, { recursive: true, force: true });
  }
});
