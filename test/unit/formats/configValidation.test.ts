// SAELens cfg.json fields are validated as strictly as the tensors: k of 1.5, -2^31 or 1.1e12 does not load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSaeLens, saveSaeLens } from '../../../src/formats/saelens';
import { isInputError } from '../../../src/errors';
import { tempDir } from '../../helpers/fixtures';
import { constantSae } from '../../helpers/sae';

test('contradictory or non-integer config fields are refused with one line naming cfg.json', () => {
  const dir = tempDir('sae-cfg-');
  try {
    saveSaeLens(constantSae('topk', 8, 32, 1, false), dir);
    const cfgPath = join(dir, 'cfg.json');
    const original = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    assert.equal(loadSaeLens(dir).cfg.k, 3);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ k: 1.5 }, /k must be an integer from 1 to d_sae \(32\), got 1\.5/],
      [{ k: -(2 ** 31) }, /k must be an integer/],
      [{ k: 1.1e12 }, /k must be an integer/],
      [{ k: 33 }, /k must be an integer from 1 to d_sae/],
      [{ apply_b_dec_to_input: 'yes' }, /apply_b_dec_to_input must be true or false/],
      [{ matryoshka_widths: [8, 4, 32] }, /matryoshka_widths must be increasing/],
      [{ d_sae: 2.5 }, /d_sae must be a positive integer/],
    ];
    for (const [patch, re] of cases) {
      const sw = { ...(original.sae_workbench as Record<string, unknown>) };
      if ('k' in patch) sw.k = patch.k;
      writeFileSync(cfgPath, JSON.stringify({ ...original, ...patch, sae_workbench: sw }));
      assert.throws(() => loadSaeLens(dir), (e: unknown) => isInputError(e) && e.source === cfgPath && re.test(e.problem), JSON.stringify(patch));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
