/**
 * Round-trip: every format loads, saves as SAELens v6 (crosscoders: cfg.json + cc_weights.safetensors)
 * and loads back with identical tensors, identical forward-relevant config, and identical codes; a
 * second save writes byte-identical weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../../src/formats';
import { loadSaeLens, saveSaeLens } from '../../../src/formats/saelens';
import { loadCrosscoder, saveCrosscoder } from '../../../src/formats/crosscoder';
import { encode } from '../../../src/sae/forward';
import type { Sae } from '../../../src/sae/types';
import { readNpy } from '../../../src/io/npy';
import { toFloat32 } from '../../../src/io/tensor';
import { pythonFixtures } from './helpers';

const fx = pythonFixtures();
const skip = typeof fx === 'string' ? fx : false;

const TENSORS = ['wEnc', 'bEnc', 'wDec', 'bDec', 'threshold', 'bMag', 'rMag', 'wSkip', 'logDensity'] as const;
const CFG = ['activation', 'k', 'dIn', 'dSae', 'dOut', 'transcoder', 'applyBDecToInput', 'normalizeActivations', 'rescaleActsByDecoderNorm', 'hookName', 'modelName', 'matryoshkaWidths'] as const;

function assertSameSae(a: Sae, b: Sae, what: string): void {
  for (const key of TENSORS) assert.deepEqual(b[key], a[key], `${what}: ${key}`);
  for (const key of CFG) assert.deepEqual(b.cfg[key], a.cfg[key], `${what}: cfg.${key}`);
}

test('every SAE format: load → save SAELens v6 → load gives identical tensors, config and codes', { skip }, () => {
  const { dir, cases } = fx as Exclude<typeof fx, string>;
  const x = toFloat32(readNpy(join(dir, 'expected', 'x.npy')));
  const out = mkdtempSync(join(tmpdir(), 'saewb-roundtrip-'));
  for (const c of cases.filter((k) => k.format !== 'crosscoder')) {
    const loaded = loadModel(join(dir, c.path));
    if (loaded.kind !== 'sae') throw new Error('expected an SAE');
    const a = loaded.sae;
    const target = join(out, c.name);
    saveSaeLens(a, target);
    const b = loadSaeLens(target);
    assertSameSae(a, b, c.name);
    assert.deepEqual(encode(b, x, 8).codes, encode(a, x, 8).codes, `${c.name}: codes`);
    const cfg = JSON.parse(readFileSync(join(target, 'cfg.json'), 'utf8'));
    assert.equal(cfg.metadata.sae_lens_version, '6.18.0');
    assert.equal(cfg.sae_workbench.source?.format ?? 'saelens', c.format, `${c.name}: provenance kept`);
    const again = join(out, `${c.name}-again`);
    saveSaeLens(b, again);
    assert.ok(readFileSync(join(again, 'sae_weights.safetensors')).equals(readFileSync(join(target, 'sae_weights.safetensors'))), `${c.name}: second save is byte-identical`);
  }
});

test('crosscoder: load .pt → save safetensors → load gives identical tensors', { skip }, () => {
  const { dir } = fx as Exclude<typeof fx, string>;
  const a = loadCrosscoder(join(dir, 'crosscoder'));
  const out = mkdtempSync(join(tmpdir(), 'saewb-cc-'));
  saveCrosscoder(a, out);
  const loaded = loadModel(out);
  assert.equal(loaded.kind, 'crosscoder');
  const b = loadCrosscoder(out);
  for (const key of ['wEnc', 'bEnc', 'wDec', 'bDec'] as const) assert.deepEqual(b[key], a[key], key);
  assert.deepEqual([b.cfg.nSources, b.cfg.dIn, b.cfg.dSae, b.cfg.hookName], [a.cfg.nSources, a.cfg.dIn, a.cfg.dSae, a.cfg.hookName]);
  assert.equal(b.cfg.metadata.l1_coeff, 2, 'source cfg.json fields are kept');
});
