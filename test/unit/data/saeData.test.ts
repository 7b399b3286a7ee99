// One notion of an SAE's data (src/data): what a tensor file holds, read from its header; the record in
// cfg.json (written, read back, carried through convert); the order in which an SAE's data is resolved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/io/npy';
import { writeSafetensors } from '../../../src/io/safetensors';
import { classifyActivationFile, rowTensorOf } from '../../../src/data/activationFiles';
import { rankCandidates, readSaeData, recordSaeData, recordTrainingData, resolveSaeData } from '../../../src/data/saeData';
import { generate, parseKind, writeSynthetic } from '../../../src/synthetic';

const dir = mkdtempSync(join(tmpdir(), 'sae-data-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

test('tensor files are classified by content: rows, ground truth, codes, token ids, other shapes, broken', () => {
  const rows = join(dir, 'acts.npy'); writeNpy(rows, f32([100, 8]));
  const oneD = join(dir, 'norms.npy'); writeNpy(oneD, f32([100]));
  const threeD = join(dir, 'cube.npy'); writeNpy(threeD, f32([4, 5, 8]));
  const ids = join(dir, 'ids.npy'); writeNpy(ids, { dtype: 'I32', shape: [4, 25], data: new Int32Array(100) });
  const codes = join(dir, 'codes.npy'); writeNpy(codes, f32([100, 30]));
  const cut = join(dir, 'cut.npy'); writeNpy(cut, f32([100, 8])); truncateSync(cut, 400);
  const junk = join(dir, 'junk.safetensors'); writeFileSync(junk, 'not a safetensors file at all');
  const multi = join(dir, 'multi.safetensors'); writeSafetensors(multi, [['resid', f32([50, 8])], ['mlp_out', f32([50, 8])], ['codes', f32([50, 3])]]);
  const synth = join(dir, 'synth'); writeSynthetic(generate(parseKind('g1'), { tokens: 64, seed: 1 }), synth);

  const role = (p: string) => classifyActivationFile(p).role;
  assert.equal(role(rows), 'activations');
  assert.equal(classifyActivationFile(rows).note, '100 rows × d 8 (F32)');
  assert.equal(role(oneD), 'other');
  assert.match(classifyActivationFile(oneD).note, /1-D F32 array \[100\], not 2-D float rows/);
  assert.equal(role(threeD), 'other');
  assert.equal(role(ids), 'tokenIds');
  assert.equal(role(codes), 'codes');
  assert.equal(role(cut), 'broken');
  assert.match(classifyActivationFile(cut).note, /truncated \.npy data: F32\[100, 8\] needs 3200 bytes/);
  assert.equal(role(junk), 'broken');
  assert.equal(role(join(synth, 'ground_truth.safetensors')), 'groundTruth');
  assert.equal(role(join(synth, 'activations.npy')), 'activations');
  const m = classifyActivationFile(multi);
  assert.equal(m.role, 'activations');
  assert.deepEqual(m.tensors.map((t) => t.name), ['resid', 'mlp_out']);
  assert.equal(rowTensorOf(m), undefined, 'two row tensors: the caller must name one');
  assert.equal(rowTensorOf(m, 'mlp_out')?.rows, 50);
});

function saeFolder(path: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'cfg.json'), JSON.stringify({ d_in: 8, d_sae: 16, architecture: 'standard', metadata: { sae_lens_version: '6.18.0', hook_name: null }, ...extra }));
  return path;
}

test('the record is written into cfg.json relative to the SAE, read back absolute, and keeps other fields', () => {
  const root = join(dir, 'proj');
  const acts = join(root, 'data', 'acts.npy');
  mkdirSync(join(root, 'data'), { recursive: true });
  writeNpy(acts, f32([10, 8]));
  writeNpy(join(root, 'data', 'tokens.npy'), { dtype: 'I32', shape: [10], data: new Int32Array(10) });
  writeFileSync(join(root, 'data', 'vocab.json'), '{"a": 0}');
  const sae = saeFolder(join(root, 'saes', 'one'), { keep: 'me' });
  recordTrainingData({ outDir: sae, activations: [acts], hookName: 'blocks.3.hook_resid_post', modelName: 'gpt2' });
  const cfg = JSON.parse(readFileSync(join(sae, 'cfg.json'), 'utf8')) as { keep: string; metadata: Record<string, unknown>; sae_workbench: { data: Record<string, unknown> } };
  assert.equal(cfg.keep, 'me');
  assert.equal(cfg.metadata.dataset_path, '../../data/acts.npy');
  assert.equal(cfg.metadata.hook_name, 'blocks.3.hook_resid_post');
  assert.equal(cfg.metadata.model_name, 'gpt2');
  assert.equal(cfg.metadata.sae_lens_version, '6.18.0');
  assert.equal(cfg.sae_workbench.data.token_ids, '../../data/tokens.npy');
  const back = readSaeData(sae);
  assert.deepEqual(back.activations, [acts]);
  assert.equal(back.tokenIds, join(root, 'data', 'tokens.npy'));
  assert.equal(back.vocabulary, join(root, 'data', 'vocab.json'));
  // a later call adds to the record without repeating the files
  recordSaeData(sae, { tensor: 'resid' });
  assert.deepEqual(readSaeData(sae).activations, [acts]);
  assert.equal(readSaeData(sae).tensor, 'resid');
  assert.equal(readSaeData(sae).hookName, 'blocks.3.hook_resid_post');
});

test('resolve: the workspace link, then the recorded file, then activations.npy beside; candidates ranked', () => {
  const root = join(dir, 'resolve');
  const recorded = join(root, 'data', 'acts.npy');
  const other = join(root, 'elsewhere', 'more.npy');
  const wrongWidth = join(root, 'data', 'wide.npy');
  for (const p of [recorded, other, wrongWidth]) mkdirSync(join(p, '..'), { recursive: true });
  writeNpy(recorded, f32([10, 8])); writeNpy(other, f32([10, 8])); writeNpy(wrongWidth, f32([10, 9]));
  const sae = saeFolder(join(root, 'saes', 'a'));
  assert.equal(resolveSaeData(sae), undefined);
  recordSaeData(sae, { activations: [recorded] });
  assert.deepEqual(resolveSaeData(sae), { activations: recorded, tensor: undefined, source: recorded, origin: 'recorded' });
  assert.equal(resolveSaeData(sae, { activations: other })?.origin, 'linked');
  assert.equal(resolveSaeData(sae, { activations: join(root, 'gone.npy') })?.origin, 'recorded', 'a link to a file that is gone is passed over');
  const beside = saeFolder(join(root, 'besides', 'b'));
  writeNpy(join(root, 'besides', 'activations.npy'), f32([10, 8]));
  assert.equal(resolveSaeData(beside)?.origin, 'beside');

  const files = [other, wrongWidth, recorded].map(classifyActivationFile);
  assert.deepEqual(rankCandidates(sae, 8, files).map((f) => f.path), [recorded, other], 'the recorded file first, and only files of the SAE width');
});
