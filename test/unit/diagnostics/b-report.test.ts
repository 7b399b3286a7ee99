import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absorptionSection } from '../../../src/diagnostics/absorption';
import { buildContext } from '../../../src/diagnostics/context';
import { convexReferenceSection } from '../../../src/diagnostics/convexReference';
import { residualSection } from '../../../src/diagnostics/residual';
import { splitTreeSection } from '../../../src/diagnostics/splitTree';
import { jsonReplacer } from '../../../src/cli/common';
import { g1, g2, reluSae } from './b-data';

/** Every null in the JSON (a NaN or unavailable value) must have a `reason` in some enclosing object. */
function assertNullsExplained(v: unknown, path: string, explained: boolean): number {
  if (v === null) { assert.ok(explained, `${path} is null without a reason`); return 1; }
  let count = 0;
  if (Array.isArray(v)) { v.forEach((e, i) => { count += assertNullsExplained(e, `${path}[${i}]`, explained); }); return count; }
  if (typeof v === 'object' && v) {
    const o = v as Record<string, unknown>;
    const here = explained || typeof o.reason === 'string' || (typeof o.reason === 'object' && o.reason !== null && Object.keys(o.reason).length > 0);
    for (const [k, e] of Object.entries(o)) count += assertNullsExplained(e, `${path}.${k}`, here);
  }
  return count;
}

test('no section reports a NaN without a reason, with dead latents, a transcoder-free SAE, and a tiny sample', () => {
  const d = 16;
  const data = g2({ seed: 4, n: 400, d, parents: 1, children: 2, pParent: 0.3, q: 0.6, thetaDeg: 90, constant: true, extra: 3, noise: 0.01 });
  const sae = reluSae(data.features, data.nFeatures, d, { lambda: 0.1, bias: data.bias });
  sae.bEnc[5] = -100; // a dead latent → NaN entries in per-latent arrays
  for (const n of [400, 12]) {
    const ctx = buildContext(sae, data.x, n);
    let nulls = 0;
    for (const [name, rep] of [
      ['absorption', absorptionSection(ctx)], ['residual', residualSection(ctx)],
      ['convexReference', convexReferenceSection(ctx, { rows: 64, kmeans: 8, dataAtoms: 4 })], ['tree', splitTreeSection([ctx])],
    ] as const) nulls += assertNullsExplained(JSON.parse(JSON.stringify(rep, jsonReplacer)), `${name}@${n}`, false);
    assert.ok(nulls > 0, 'the dead latent does produce NaNs, so the check is not vacuous');
  }
});

test('findings are single sentences that name what was found', async () => {
  const { absorptionFindings, residualFindings, convexReferenceFindings, splitTreeFindings } = await import('../../../src/diagnostics/structureFindings');
  const d = 16;
  const data = g2({ seed: 6, n: 1500, d, parents: 1, children: 2, pParent: 0.3, q: 0.6, thetaDeg: 60, constant: true, extra: 3, noise: 0.01 });
  // Drop an extra feature from the dictionary: the residual has an unlearned sparse feature.
  const keep = [0, 1, 2, 3, 4];
  const atoms = new Float32Array(keep.length * d);
  keep.forEach((f, k) => atoms.set(data.features.subarray(f * d, (f + 1) * d), k * d));
  const ctx = buildContext(reluSae(atoms, keep.length, d, { lambda: 0.1, bias: data.bias }), data.x, data.n);
  const all = [...absorptionFindings(absorptionSection(ctx)), ...residualFindings(residualSection(ctx)),
    ...convexReferenceFindings(convexReferenceSection(ctx, { rows: 64, kmeans: 8, dataAtoms: 4 })), ...splitTreeFindings(splitTreeSection([ctx]))];
  for (const f of all) assert.ok(f.message.endsWith('.') && !f.message.includes('\n'), f.message);
  assert.ok(all.some((f) => f.section === 'residual' && /unlearned sparse feature|sparse feature the dictionary has not learned/.test(f.message)), JSON.stringify(all, null, 1));
  // The true dictionary of a nested hierarchy with a firing encoder: the parent fires on child rows → nested pairs.
  assert.ok(all.some((f) => f.section === 'tree' && /nested/.test(f.message)));
});

test('G1 with its own dictionary flags nothing: no residual spike, no absorption, no co-activation edges', () => {
  const d = 32, F = 16;
  for (const seed of [1, 2, 3]) {
    const data = g1({ seed, n: 3000, d, features: F, p: 0.05, noise: 0.01 });
    const ctx = buildContext(reluSae(data.features, F, d, { lambda: 0.1, bias: data.bias }), data.x, data.n);
    const res = residualSection(ctx);
    assert.equal(res.spectrum.spike, false, `seed ${seed}: spike ratio ${res.spectrum.spikeRatio}`);
    assert.ok(res.spectrum.top.every((t) => t.interpretation === 'not a spike'));
    const abs = absorptionSection(ctx);
    assert.deepEqual([abs.fullyAbsorbed, abs.partiallyAbsorbed], [[], []]);
    assert.equal(splitTreeSection([ctx]).edges.length, 0);
    // Rows with ≥ 2 active features leave ‖r‖ ≈ λ√|S| > λ: G* > 0 but small (docs/theory.md §G G1).
    assert.ok(!res.gain.isZero && res.gain.gStarRatio < 0.2, `G*/E½‖r‖² ${res.gain.gStarRatio}`);
  }
});
