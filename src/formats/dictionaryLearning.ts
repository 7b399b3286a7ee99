/**
 * saprmarks/dictionary_learning (docs/formats.md §2): `trainer_i/ae.pt` (a torch.save'd state_dict)
 * beside `config.json` (`trainer.dict_class`, `activation_dim`, `dict_size`, ...); checkpoints are
 * `trainer_i/checkpoints/ae_<step>.pt` with the same config one folder up. Dispatch is on dict_class;
 * shapes are checked against activation_dim / dict_size. `norm_factor` needs no handling: the trainer
 * folds it into the biases before saving, so ae.pt works on raw activations.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors';
import { readTorchFile, stateDict, stateDictTensors } from '../io/torch';
import type { Tensor } from '../io/tensor';
import { toFloat32 } from '../io/tensor';
import { batchtopk } from '../sae/arch/batchtopk';
import { jumprelu } from '../sae/arch/jumprelu';
import { archWithMagnitudePath } from '../sae/arch/registry';
import { relu } from '../sae/arch/relu';
import { topk } from '../sae/arch/topk';
import type { Activation, Sae } from '../sae/types';
import { asObject, dtypeName, hasFiles, isDir, isFile, orient, positiveInt, scalar, vector } from './common';
import { readJsonFile } from './saelens';

const CONFIG = 'config.json';
const AE = 'ae.pt';

export const DICT_CLASSES = ['AutoEncoder', 'GatedAutoEncoder', 'AutoEncoderTopK', 'BatchTopKSAE', 'MatryoshkaBatchTopKSAE', 'JumpReluAutoEncoder'] as const;

/** The config.json that belongs to a .pt path: beside it, or one folder up for checkpoints/ae_N.pt. */
function configFor(ptPath: string): string | undefined {
  const here = join(dirname(ptPath), CONFIG);
  if (existsSync(here)) return here;
  if (basename(dirname(ptPath)) === 'checkpoints') {
    const up = join(dirname(dirname(ptPath)), CONFIG);
    if (existsSync(up)) return up;
  }
  return undefined;
}

export function isDictionaryLearning(path: string): boolean {
  if (isDir(path)) return hasFiles(path, AE, CONFIG);
  return isFile(path) && path.endsWith('.pt') && configFor(path) !== undefined && hasTrainerConfig(configFor(path)!);
}

function hasTrainerConfig(cfgPath: string): boolean {
  try {
    const c = readJsonFile(cfgPath) as { trainer?: { dict_class?: unknown } };
    return typeof c?.trainer?.dict_class === 'string';
  } catch {
    return false;
  }
}

/** A dictionary_learning save_dir with trainer_* sub-folders (for a helpful message). */
export function dictionaryLearningTrainers(dir: string): string[] {
  if (!isDir(dir)) return [];
  try { return readdirSync(dir).filter((n) => hasFiles(join(dir, n), AE, CONFIG)).sort(); } catch { return []; }
}

export function loadDictionaryLearningRun(dir: string): Sae {
  const t = dictionaryLearningTrainers(dir);
  throw new InputError(dir, `a dictionary_learning save folder with ${t.length} trainers; open one of them: ${t.slice(0, 12).join(', ')}${t.length > 12 ? ', …' : ''}`);
}

export function loadDictionaryLearning(path: string): Sae {
  const ptPath = isDir(path) ? join(path, AE) : path;
  const cfgPath = configFor(ptPath);
  if (!cfgPath) throw new InputError(path, `no ${CONFIG} beside ${basename(ptPath)}`);
  const config = asObject(readJsonFile(cfgPath), 'config.json', cfgPath);
  const trainer = asObject(config.trainer, "config.json 'trainer'", cfgPath);
  const dictClass = String(trainer.dict_class);
  if (!(DICT_CLASSES as readonly string[]).includes(dictClass)) throw new InputError(cfgPath, `unknown dict_class '${dictClass}' (known: ${DICT_CLASSES.join(', ')})`);
  const D = positiveInt(trainer, 'activation_dim', cfgPath);
  const F = positiveInt(trainer, 'dict_size', cfgPath);
  const sd = stateDict(readTorchFile(ptPath), ptPath);
  const tensors = stateDictTensors(sd);
  const src = ptPath;
  const linearEnc = (): Float32Array => orient(tensors, 'encoder.weight', D, F, ['activation_dim', 'dict_size'], 'transposed', src);
  const linearDec = (): Float32Array => orient(tensors, 'decoder.weight', F, D, ['dict_size', 'activation_dim'], 'transposed', src);
  const paramEnc = (): Float32Array => orient(tensors, 'W_enc', D, F, ['activation_dim', 'dict_size'], 'as-wanted', src);
  const paramDec = (): Float32Array => orient(tensors, 'W_dec', F, D, ['dict_size', 'activation_dim'], 'as-wanted', src);
  const vec = (name: string, n: number, dim: string): Float32Array => vector(tensors, name, n, dim, src)!;

  let activation: Activation;
  let wEnc: Float32Array, bEnc: Float32Array, wDec: Float32Array, bDec: Float32Array;
  let threshold: Float32Array | undefined, bMag: Float32Array | undefined, rMag: Float32Array | undefined;
  let k: number | undefined, matryoshkaWidths: number[] | undefined;
  let applyBDecToInput = true;
  const kFrom = (): number => {
    const kTensor = scalar(tensors, 'k', src);
    const kCfg = trainer.k;
    if (kTensor !== undefined && kCfg !== undefined && kCfg !== kTensor) throw new InputError(src, `tensor k = ${kTensor} contradicts config.json trainer.k = ${JSON.stringify(kCfg)}`);
    const kv = kTensor ?? kCfg;
    if (!Number.isSafeInteger(kv) || (kv as number) <= 0 || (kv as number) > F) throw new InputError(src, `k must be an integer in [1, ${F}], got ${JSON.stringify(kv)}`);
    return kv as number;
  };
  // BatchTopK inference uses the learned global threshold (encode(use_threshold=True)); -1 means unset.
  const batchThreshold = (): Float32Array | undefined => {
    const th = scalar(tensors, 'threshold', src);
    return th !== undefined && th >= 0 ? new Float32Array(F).fill(th) : undefined;
  };
  switch (dictClass) {
    case 'AutoEncoder':
      activation = relu.name;
      wEnc = linearEnc(); bEnc = vec('encoder.bias', F, 'dict_size'); wDec = linearDec(); bDec = vec('bias', D, 'activation_dim');
      break;
    case 'GatedAutoEncoder': {
      const gated = archWithMagnitudePath();
      if (!gated) throw new InputError(src, 'GatedAutoEncoder: no registered architecture has a gate and a magnitude path');
      activation = gated.name;
      if (tensors.has('encoder.bias')) throw new InputError(src, 'GatedAutoEncoder should have no encoder.bias');
      wEnc = linearEnc(); bEnc = vec('gate_bias', F, 'dict_size'); wDec = linearDec(); bDec = vec('decoder_bias', D, 'activation_dim');
      bMag = vec('mag_bias', F, 'dict_size'); rMag = vec('r_mag', F, 'dict_size');
      break;
    }
    case 'AutoEncoderTopK':
    case 'BatchTopKSAE':
      wEnc = linearEnc(); bEnc = vec('encoder.bias', F, 'dict_size'); wDec = linearDec(); bDec = vec('b_dec', D, 'activation_dim');
      k = kFrom();
      // AutoEncoderTopK encodes with per-row top-k by default; BatchTopKSAE with its threshold.
      threshold = dictClass === 'BatchTopKSAE' ? batchThreshold() : undefined;
      activation = dictClass === 'BatchTopKSAE' ? batchtopk.name : topk.name;
      break;
    case 'MatryoshkaBatchTopKSAE': {
      wEnc = paramEnc(); bEnc = vec('b_enc', F, 'dict_size'); wDec = paramDec(); bDec = vec('b_dec', D, 'activation_dim');
      k = kFrom();
      threshold = batchThreshold();
      activation = batchtopk.name;
      const groups = tensors.get('group_sizes');
      if (groups) {
        const sizes = Array.from(toFloat32(groups as Tensor));
        if (!sizes.every((s) => Number.isSafeInteger(s) && s > 0) || sizes.reduce((a, b) => a + b, 0) !== F) throw new InputError(src, `group_sizes [${sizes.join(', ')}] do not add up to dict_size ${F}`);
        let acc = 0;
        matryoshkaWidths = sizes.map((s) => (acc += s));
      }
      break;
    }
    default: // JumpReluAutoEncoder: b_dec is not subtracted from the input
      activation = jumprelu.name;
      applyBDecToInput = false;
      wEnc = paramEnc(); bEnc = vec('b_enc', F, 'dict_size'); wDec = paramDec(); bDec = vec('b_dec', D, 'activation_dim');
      threshold = vec('threshold', F, 'dict_size');
  }
  const sae: Sae = {
    cfg: {
      activation, k, dIn: D, dSae: F, dOut: D, transcoder: false, applyBDecToInput,
      normalizeActivations: 'none', rescaleActsByDecoderNorm: false,
      hookName: typeof trainer.submodule_name === 'string' ? trainer.submodule_name : undefined,
      modelName: typeof trainer.lm_name === 'string' ? trainer.lm_name : undefined,
      matryoshkaWidths,
      dtype: dtypeName(tensors),
      metadata: {
        metadata: { hook_name: trainer.submodule_name ?? null, model_name: trainer.lm_name ?? null, ...(typeof trainer.layer === 'number' ? { layer: trainer.layer } : {}) },
        sae_workbench_source: { format: 'dictionary_learning', config },
      },
      source: { format: 'dictionary_learning', path },
    },
    wEnc, bEnc, wDec, bDec,
  };
  if (threshold) sae.threshold = threshold;
  if (bMag) sae.bMag = bMag;
  if (rMag) sae.rMag = rMag;
  return sae;
}
