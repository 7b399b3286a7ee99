import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absorptionSection } from '../../../src/diagnostics/absorption';
import { buildContext } from '../../../src/diagnostics/context';
import { convexReferenceSection } from '../../../src/diagnostics/convexReference';
import { residualSection } from '../../../src/diagnostics/residual';
import { splitTreeSection } from '../../../src/diagnostics/splitTree';
import { jsonReplacer } from '../../../src/cli/common';
import { g2, reluSae } from './b-data';

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
