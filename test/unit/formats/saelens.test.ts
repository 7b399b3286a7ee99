import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSaeLens, saveSaeLens } from '../../../src/formats/saelens';
import { forward } from '../../../src/sae/forward';
import { pythonFixtures, readManifest, tempDir } from '../../helpers/fixtures';

interface Manifest { sae: { x: number[]; codes_relu: number[]; codes_topk3: number[]; recon_relu: number[]; W_enc: number[]; W_dec: number[] } }

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)), `[${i}] ${a[i]} vs ${b[i]}`);
}

test('loads a SAELens v6 folder; codes and reconstruction match numpy', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const m = readManifest<Manifest>(dir).sae;
  const sae = loadSaeLens(join(dir, 'saelens_v6'));
  assert.equal(sae.cfg.activation, 'relu');
  assert.equal(sae.cfg.dIn, 6);
  assert.equal(sae.cfg.dSae, 10);
  assert.equal(sae.cfg.hookName, 'blocks.8.hook_resid_pre');
  assert.equal(sae.cfg.modelName, 'gpt2');
  const { codes, recon } = forward(sae, Float32Array.from(m.x), 5);
  close(codes, m.codes_relu);
  close(recon, m.recon_relu);
});

test('normalises a pre-6.0 config (hook_point, activation_fn_kwargs.k, boolean normalize_activations)', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const m = readManifest<Manifest>(dir).sae;
  const sae = loadSaeLens(join(dir, 'saelens_pre6'));
  assert.equal(sae.cfg.activation, 'topk');
  assert.equal(sae.cfg.k, 3);
  assert.equal(sae.cfg.hookName, 'blocks.3.hook_resid_post');
  assert.equal(sae.cfg.normalizeActivations, 'none');
  close(forward(sae, Float32Array.from(m.x), 5).codes, m.codes_topk3);
});

test('save -> load round-trips tensors exactly and writes a v6 cfg.json', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  for (const folder of ['saelens_v6', 'saelens_pre6']) {
    const a = loadSaeLens(join(dir, folder));
    const out = tempDir();
    saveSaeLens(a, out);
    const b = loadSaeLens(out);
    assert.deepEqual(b.wEnc, a.wEnc);
    assert.deepEqual(b.wDec, a.wDec);
    assert.deepEqual(b.bEnc, a.bEnc);
    assert.deepEqual(b.bDec, a.bDec);
    assert.equal(b.cfg.activation, a.cfg.activation);
    assert.equal(b.cfg.k, a.cfg.k);
    assert.equal(b.cfg.hookName, a.cfg.hookName);
    const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8')) as { metadata: { sae_lens_version: string; hook_name: string }; architecture: string };
    assert.match(cfg.metadata.sae_lens_version, /^6\./);
    assert.equal(cfg.metadata.hook_name, a.cfg.hookName);
    assert.equal(cfg.architecture, folder === 'saelens_v6' ? 'standard' : 'topk');
  }
});

test('configs that contradict the tensors, and broken configs, get one-line errors', () => {
  const dir = pythonFixtures('make_io_fixtures.py');
  const work = tempDir();
  const cases: [string, (cfg: Record<string, unknown>) => unknown, RegExp][] = [
    ['d_sae mismatch', (c) => ({ ...c, d_sae: 11 }), /tensor 'W_enc' has shape \[6, 10\], expected \[6, 11\] from cfg\.json/],
    ['d_in not an integer', (c) => ({ ...c, d_in: 'six' }), /d_in must be a positive integer/],
    ['unknown architecture', (c) => ({ ...c, architecture: 'mystery' }), /unknown architecture 'mystery'/],
  ];
  for (const [name, edit, re] of cases) {
    const d = join(work, name.replace(/\W/g, '_'));
    cpSync(join(dir, 'saelens_v6'), d, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(d, 'cfg.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(d, 'cfg.json'), JSON.stringify(edit(cfg)));
    assert.throws(() => loadSaeLens(d), re, name);
  }
  const d = join(work, 'badjson');
  cpSync(join(dir, 'saelens_v6'), d, { recursive: true });
  writeFileSync(join(d, 'cfg.json'), '{"d_in": 6,');
  assert.throws(() => loadSaeLens(d), /cfg\.json: invalid JSON/);
});
