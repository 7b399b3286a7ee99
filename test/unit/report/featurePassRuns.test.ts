import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featurePass } from '../../../src/views/featurePass';
import { passCoverage } from '../../../src/views/featurePage';
import { finishedPassData, passDataFor } from '../../../src/views/featurePassRuns';
import type { PassProgress } from '../../../src/protocol/viewModels';
import { makeFixture, writeFixture } from '../../webview/fixtures';

test('the worker\'s pass answers pages before it ends, reports its end, and leaves the same statistics as a whole pass in the cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-runs-'));
  const fx = makeFixture(16, 24, 1024, 12, 6);
  const { saeDir, activations } = writeFixture(dir, fx);
  const reports: PassProgress[] = [];
  const ended = new Promise<void>((resolve) => {
    const data = passDataFor(fx.sae, saeDir, activations, (p) => { reports.push(p); if (p.complete) resolve(); }, 100);
    const early = passCoverage(data);
    assert.equal(early.complete, false, 'the first page comes before the pass ends');
    assert.equal(early.rowsRead, 100);
    assert.match(early.describe, /first 100 of 1,024 rows .* still running/);
    assert.equal(finishedPassData(fx.sae, saeDir, activations), undefined, 'not finished yet');
    assert.equal(passDataFor(fx.sae, saeDir, activations, () => undefined), data, 'one run per SAE + file');
  });
  await ended;
  const last = reports[reports.length - 1]!;
  assert.equal(last.complete, true);
  assert.equal(last.rowsRead, 1024);
  assert.equal(last.saeDir, saeDir);
  const done = finishedPassData(fx.sae, saeDir, activations)!;
  assert.ok(done);
  assert.equal(readdirSync(join(saeDir, '.feature-pass')).length, 1, 'cached beside the SAE');
  const whole = featurePass(fx.sae, activations, { saeDir });
  assert.equal(whole.cached, true, 'the whole pass reads what the worker wrote');
  const fresh = featurePass(fx.sae, activations);
  for (let i = 0; i < fx.dSae; i++) {
    assert.deepEqual(done.stats.top(i).rows, fresh.stats.top(i).rows);
    assert.equal(done.stats.count[i], fresh.stats.count[i]);
  }
});
