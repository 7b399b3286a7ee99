/**
 * SAELens specifics beyond the shared fixtures: the activation_scaler.json of a checkpoint feeds the
 * expected_average_only_in input scale (forward.ts reads it from cfg.training.activationScale).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInputError } from '../../../src/errors';
import { loadSaeLens, saveSaeLens } from '../../../src/formats/saelens';
import { encode } from '../../../src/sae/forward';
import type { Sae } from '../../../src/sae/types';

function tiny(normalize: Sae['cfg']['normalizeActivations']): Sae {
  return {
    cfg: { activation: 'relu', dIn: 2, dSae: 2, dOut: 2, transcoder: false, applyBDecToInput: false, normalizeActivations: normalize, rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: { metadata: {} } },
    wEnc: Float32Array.from([1, 0, 0, 1]), bEnc: new Float32Array(2), wDec: Float32Array.from([1, 0, 0, 1]), bDec: new Float32Array(2),
  };
}

test('activation_scaler.json scales the input of an expected_average_only_in SAE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-saelens-'));
  saveSaeLens(tiny('expected_average_only_in'), dir);
  assert.deepEqual(Array.from(encode(loadSaeLens(dir), Float32Array.from([1, 2]), 1).codes), [1, 2]);
  writeFileSync(join(dir, 'activation_scaler.json'), JSON.stringify({ scaling_factor: 3 }));
  const sae = loadSaeLens(dir);
  assert.equal(sae.cfg.training?.activationScale, 3);
  assert.deepEqual(Array.from(encode(sae, Float32Array.from([1, 2]), 1).codes), [3, 6]);
  writeFileSync(join(dir, 'activation_scaler.json'), JSON.stringify({ scaling_factor: -1 }));
  assert.throws(() => loadSaeLens(dir), (e: unknown) => isInputError(e) && /scaling_factor must be a positive number/.test((e as Error).message));
  writeFileSync(join(dir, 'activation_scaler.json'), JSON.stringify({ scaling_factor: null }));
  assert.equal(loadSaeLens(dir).cfg.training?.activationScale, undefined);
});
