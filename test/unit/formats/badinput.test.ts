/**
 * Wrong or missing keys and configs that contradict the tensors: every loader answers with a one-line
 * InputError naming the file and the problem; the CLI prints it and exits 2. Each case starts from a
 * valid fixture and breaks one thing, so the test also shows the unbroken one loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInputError } from '../../../src/errors';
import { loadModel, loadSae } from '../../../src/formats';
import { readSafetensors, writeSafetensors } from '../../../src/io/safetensors';
import { main } from '../../../src/cli/main';
import { pythonFixtures } from './helpers';

const fx = pythonFixtures();
const skip = typeof fx === 'string' ? fx : false;

function copyCase(rel: string): string {
  const { dir } = fx as { dir: string };
  const to = mkdtempSync(join(tmpdir(), 'saewb-bad-'));
  const dest = join(to, rel.split('/').pop()!);
  cpSync(join(dir, rel), dest, { recursive: true });
  return dest;
}

function editJson(path: string, edit: (j: Record<string, any>) => void): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const j = JSON.parse(readFileSync(path, 'utf8'));
  edit(j);
  writeFileSync(path, JSON.stringify(j));
}

function expectInputError(path: string, pattern: RegExp, what: string): void {
  assert.throws(() => loadModel(path), (e: unknown) => {
    assert.ok(isInputError(e), `${what}: expected an InputError, got ${String(e)}`);
    assert.match((e as Error).message, pattern, what);
    assert.ok(!(e as Error).message.includes('\n'), `${what}: one line`);
    return true;
  }, what);
}

test('configs that contradict the tensors are refused with the contradiction named', { skip }, () => {
  let p = copyCase('dictionary_learning/trainer_0');
  loadModel(p);
  editJson(join(p, 'config.json'), (j) => { j.trainer.dict_size = 40; });
  expectInputError(p, /encoder\.weight.*\[48, 16\].*\[activation_dim, dict_size\] = \[16, 40\]/, 'dl dict_size');

  p = copyCase('dictionary_learning/trainer_2');
  editJson(join(p, 'config.json'), (j) => { j.trainer.k = 5; });
  expectInputError(p, /tensor k = 6 contradicts config\.json trainer\.k = 5/, 'dl k');

  p = copyCase('dictionary_learning/trainer_0');
  editJson(join(p, 'config.json'), (j) => { j.trainer.dict_class = 'FancyAutoEncoder'; });
  expectInputError(p, /unknown dict_class 'FancyAutoEncoder'/, 'dl dict_class');

  p = copyCase('dictionary_learning/trainer_0');
  editJson(join(p, 'config.json'), (j) => { j.trainer.dict_class = 'GatedAutoEncoder'; });
  expectInputError(p, /ae\.pt: (missing tensor 'gate_bias'|GatedAutoEncoder should have no encoder\.bias|GatedAutoEncoder: no registered architecture)/, 'dl wrong class for tensors');

  p = copyCase('sparsify_run/layers.3');
  loadModel(p);
  editJson(join(p, 'cfg.json'), (j) => { j.num_latents = 64; });
  expectInputError(p, /encoder\.bias has 48 latents but cfg\.json says 64/, 'sparsify num_latents');

  p = copyCase('sparsify_run/layers.3');
  editJson(join(p, 'cfg.json'), (j) => { j.activation = 'groupmax'; });
  expectInputError(p, /activation 'groupmax' is not supported/, 'sparsify groupmax');

  p = copyCase('sparsify_run/layers.5.mlp');
  editJson(join(p, 'cfg.json'), (j) => { j.k = 100; });
  expectInputError(p, /k = 100 is larger than the 48 latents/, 'sparsify k');

  p = copyCase('crosscoder');
  loadModel(p);
  editJson(join(p, 'cfg.json'), (j) => { j.d_in = 17; });
  expectInputError(p, /W_dec' has shape \[48, 2, 16\], expected \[dict_size, n_sources, d_in\] = \[48, 2, 17\]|W_enc' has shape/, 'crosscoder d_in');

  p = copyCase('saelens_jumprelu');
  editJson(join(p, 'cfg.json'), (j) => { j.d_sae = 47; });
  expectInputError(p, /tensor 'W_enc' has shape \[16, 48\], expected \[16, 47\]/, 'saelens d_sae');

  p = copyCase('saelens_jumprelu');
  editJson(join(p, 'cfg.json'), (j) => { j.architecture = 'mystery'; });
  expectInputError(p, /unknown architecture 'mystery'/, 'saelens architecture');
});

test('missing or misshapen tensors are refused by name', { skip }, () => {
  const drop = (file: string, name: string): void => {
    const { tensors } = readSafetensors(file);
    tensors.delete(name);
    writeSafetensors(file, tensors);
  };
  let p = copyCase('sparsify_run/layers.3');
  drop(join(p, 'sae.safetensors'), 'W_dec');
  expectInputError(p, /missing tensor 'W_dec'/, 'sparsify W_dec');

  p = copyCase('gemmascope/layer_3/width_48/average_l0_5');
  rmSync(join(p, 'params.npz'));
  writeFileSync(join(p, 'params.npz'), 'not a zip at all');
  expectInputError(p, /params\.npz: not a readable \.npz/, 'gemmascope corrupt');

  const { dir } = fx as { dir: string };
  const t = mkdtempSync(join(tmpdir(), 'saewb-bad-'));
  const file = join(t, 'layer_1.safetensors');
  cpSync(join(dir, 'transcoders', 'mntss_relu_layer_3.safetensors'), file);
  drop(file, 'threshold');
  loadModel(file);
  const { tensors } = readSafetensors(file);
  tensors.set('b_dec', { dtype: 'F32', shape: [15], data: new Float32Array(15) });
  writeSafetensors(file, tensors);
  expectInputError(file, /W_dec' has shape \[16, 48\], which fits neither \[d_sae, d_out\] = \[48, 15\]/, 'transcoder b_dec length');

  expectInputError(join(dir, 'transcoders', 'square_layer_0.safetensors'), /square \[16, 16\].*refusing to guess/, 'square transcoder');
  expectInputError(join(dir, 'sparsify_run'), /a sparsify run with 2 hookpoints; open one of them: layers\.3, layers\.5\.mlp/, 'sparsify run');
  expectInputError(join(dir, 'dictionary_learning'), /6 trainers; open one of them: trainer_0/, 'dl save dir');
  expectInputError(join(dir, 'expected'), /folder is not a recognised SAE/, 'unrelated folder');
  expectInputError(join(dir, 'nope'), /no such file or folder/, 'missing path');
  assert.throws(() => loadSae(join(dir, 'crosscoder')), /crosscoder, not a single SAE/);
});

async function runCli(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const out: string[] = [], err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout), ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  const before = process.exitCode;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = before;
  }
}

test('CLI: convert and inspect succeed on every format, and bad input exits 2 with one line', { skip }, async () => {
  const { dir, cases } = fx as Exclude<typeof fx, string>;
  const out = mkdtempSync(join(tmpdir(), 'saewb-cli-'));
  for (const c of cases) {
    const r = await runCli(['--json', 'convert', join(dir, c.path), '--to', join(out, c.name)]);
    assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).format, c.format);
    const i = await runCli(['--json', 'inspect', join(dir, c.path)]);
    assert.equal(i.code, 0, `${c.name}: ${i.stderr}`);
    assert.equal(JSON.parse(i.stdout).format, c.format);
    const back = await runCli(['--json', 'inspect', join(out, c.name)]);
    assert.equal(JSON.parse(back.stdout).format, c.format === 'crosscoder' ? 'crosscoder' : 'saelens');
  }
  const again = await runCli(['convert', join(dir, 'gemmascope/layer_3/width_48/average_l0_5'), '--to', join(out, 'gemmascope')]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds a cfg\.json; pass --force/);
  assert.equal((await runCli(['convert', join(dir, 'gemmascope/layer_3/width_48/average_l0_5'), '--to', join(out, 'gemmascope'), '--force'])).code, 0);
  for (const bad of ['hostile_os_system.pt', 'transcoders/square_layer_0.safetensors', 'sparsify_run']) {
    for (const args of [['convert', join(dir, bad), '--to', join(out, 'x')], ['inspect', join(dir, bad)]]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${bad}: one line`);
      assert.match(r.stderr, /^sae-workbench: /);
    }
  }
});
