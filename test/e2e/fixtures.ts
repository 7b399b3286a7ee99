/**
 * Small, deterministic files for the extension's tests: a tiny SAELens SAE, activation files, a broken SAE
 * folder and a Python file naming a hook point. Used by unit tests and by scripts/e2e.mjs (which bundles
 * this file and runs it to build the workspace a real VS Code opens). Pure Node.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveSaeLens } from '../../src/formats/saelens';
import { writeNpy } from '../../src/io/npy';
import { writeSafetensors } from '../../src/io/safetensors';
import { seededRandom } from '../../src/util/random';
import { recordSaeData } from '../../src/data/saeData';

export { seededRandom };
import type { Sae } from '../../src/sae/types';


function randomArray(n: number, rand: () => number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

export interface TinySaeOptions { dIn?: number; dSae?: number; k?: number; hookName?: string; explainedVariance?: number; seed?: number }

export function writeTinySae(dir: string, o: TinySaeOptions = {}): void {
  const dIn = o.dIn ?? 16, dSae = o.dSae ?? 64, rand = seededRandom(o.seed ?? 1);
  const sae: Sae = {
    cfg: {
      activation: 'topk', dIn, dSae, dOut: dIn, transcoder: false, k: o.k ?? 4, applyBDecToInput: true,
      normalizeActivations: 'none', rescaleActsByDecoderNorm: false, hookName: o.hookName ?? 'blocks.8.hook_resid_pre',
      modelName: 'tiny-model', dtype: 'float32', metadata: {},
      training: o.explainedVariance !== undefined ? { summary: { explained_variance: o.explainedVariance } } : undefined,
    },
    wEnc: randomArray(dIn * dSae, rand, 0.3), bEnc: new Float32Array(dSae), wDec: randomArray(dSae * dIn, rand, 0.3), bDec: new Float32Array(dIn),
  };
  mkdirSync(dir, { recursive: true });
  saveSaeLens(sae, dir);
}

export function writeActivationsNpy(path: string, rows: number, dIn: number, seed = 2): void {
  writeNpy(path, { dtype: 'F32', shape: [rows, dIn], data: randomArray(rows * dIn, seededRandom(seed), 1) });
}

/** The workspace the end-to-end tests open. Returns the names of what it holds. */
export function makeE2eWorkspace(root: string): { sae: string; wider: string; broken: string; activations: string; tensors: string; python: string; trainedPython: string } {
  mkdirSync(root, { recursive: true });
  const sae = join(root, 'saes', 'tiny_topk');
  writeTinySae(sae, { explainedVariance: 0.87 });
  // a second width on the same activations: the split tree from one SAE offers it
  const wider = join(root, 'saes', 'tiny_topk_128');
  writeTinySae(wider, { dSae: 128, seed: 4 });
  const broken = join(root, 'saes', 'broken_sae');
  mkdirSync(broken, { recursive: true });
  writeFileSync(join(broken, 'cfg.json'), JSON.stringify({ d_in: 16, d_sae: 64, architecture: 'topk', k: 4 }));
  const activations = join(root, 'data', 'acts.npy');
  mkdirSync(join(root, 'data'), { recursive: true });
  writeActivationsNpy(activations, 2048, 16);
  // both record the activations they belong to (cfg.json metadata.dataset_path), as training writes it
  for (const dir of [sae, wider]) recordSaeData(dir, { activations: [activations] });
  const tensors = join(root, 'data', 'probe.safetensors');
  const rand = seededRandom(3);
  writeSafetensors(tensors, { 'probe.weight': { dtype: 'F32', shape: [8, 16], data: randomArray(128, rand, 1) }, 'probe.bias': { dtype: 'F32', shape: [8], data: new Float32Array([0, 1, 2, 3, 4, 5, 6, Number.NaN]) } }, { note: 'fixture' });
  const python = join(root, 'model.py');
  writeFileSync(python, 'from transformer_lens import HookedTransformer\n\nmodel = HookedTransformer.from_pretrained("tiny-model")\n_, cache = model.run_with_cache("hello")\nx = cache["blocks.8.hook_resid_pre"]\n');
  // the hook the UI test's wizard run is given: its CodeLens appears once that SAE is trained
  const trainedPython = join(root, 'trained.py');
  writeFileSync(trainedPython, 'from transformer_lens import HookedTransformer\n\nmodel = HookedTransformer.from_pretrained("tiny-model")\n_, cache = model.run_with_cache("hello")\nx = cache["blocks.2.hook_resid_post"]\n');
  mkdirSync(join(root, '.vscode'), { recursive: true });
  return { sae, wider, broken, activations, tensors, python, trainedPython };
}

// `node fixtures.js <root>` (after bundling) builds the e2e workspace.
if (typeof require !== 'undefined' && require.main === module && process.argv[2]) {
  console.log(JSON.stringify(makeE2eWorkspace(process.argv[2])));
}
