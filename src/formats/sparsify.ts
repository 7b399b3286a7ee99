/**
 * EleutherAI sparsify (docs/formats.md §3): one folder per hookpoint with `cfg.json` and
 * `sae.safetensors` (`encoder.weight` [n_latents, d_in], `encoder.bias`, `W_dec` [n_latents, d_in],
 * `b_dec`, optional `W_skip` [d_out, d_in] used as x·W_skipᵀ). TopK on ReLU pre-activations; b_dec is
 * subtracted from the input unless the coder is a transcoder. A run folder (several hookpoints) is
 * refused with the list to choose from.
 */
import { topk } from '../sae/arch/topk';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../errors';
import { readSafetensors } from '../io/safetensors';
import type { Sae } from '../sae/types';
import { asObject, dtypeName, hasFiles, isDir, lengthOf, orient, positiveInt, vector } from './common';
import { readJsonFile } from './saelens';

export const SPARSIFY_CFG = 'cfg.json';
export const SPARSIFY_WEIGHTS = 'sae.safetensors';

export function isSparsifyDir(dir: string): boolean {
  return hasFiles(dir, SPARSIFY_CFG, SPARSIFY_WEIGHTS);
}

/** Hookpoint sub-folders of a sparsify run folder. */
export function sparsifyHookpoints(dir: string): string[] {
  if (!isDir(dir)) return [];
  try {
    return readdirSync(dir).filter((n) => isSparsifyDir(join(dir, n))).sort();
  } catch {
    return [];
  }
}

export function loadSparsifyRun(dir: string): Sae {
  const hooks = sparsifyHookpoints(dir);
  throw new InputError(dir, `a sparsify run with ${hooks.length} hookpoints; open one of them: ${hooks.slice(0, 12).join(', ')}${hooks.length > 12 ? ', …' : ''}`);
}

export function loadSparsify(dir: string): Sae {
  const cfgPath = join(dir, SPARSIFY_CFG);
  const weightsPath = join(dir, SPARSIFY_WEIGHTS);
  const cfg = asObject(readJsonFile(cfgPath), 'cfg.json', cfgPath);
  const activation = cfg.activation ?? topk.name;
  if (activation !== topk.name) throw new InputError(cfgPath, `activation '${String(activation)}' is not supported (only topk; groupmax has no SAELens equivalent)`);
  const k = positiveInt(cfg, 'k', cfgPath);
  const transcode = cfg.transcode === true;
  const { tensors } = readSafetensors(weightsPath);
  // d_in is written by sparsify ≥ 1.0; older cfgs omit it, and then the bias/weight shapes fix it.
  const dSae = lengthOf(tensors, 'encoder.bias', weightsPath);
  const dOut = lengthOf(tensors, 'b_dec', weightsPath);
  const enc = tensors.get('encoder.weight');
  const dIn = Number.isSafeInteger(cfg.d_in) ? (cfg.d_in as number) : enc && enc.shape.length === 2 ? (enc.shape[0] === dSae ? enc.shape[1]! : enc.shape[0]!) : dOut;
  const numLatents = Number.isSafeInteger(cfg.num_latents) && (cfg.num_latents as number) > 0 ? (cfg.num_latents as number)
    : Number.isFinite(cfg.expansion_factor) && (cfg.expansion_factor as number) > 0 ? Math.round(dIn * (cfg.expansion_factor as number)) : dSae;
  if (numLatents !== dSae) throw new InputError(weightsPath, `encoder.bias has ${dSae} latents but cfg.json says ${numLatents} (num_latents ${String(cfg.num_latents)}, expansion_factor ${String(cfg.expansion_factor)}, d_in ${dIn})`);
  if (!transcode && dOut !== dIn) throw new InputError(weightsPath, `b_dec has ${dOut} elements but d_in is ${dIn} (and cfg.json says this is not a transcoder)`);
  if (k > dSae) throw new InputError(cfgPath, `k = ${k} is larger than the ${dSae} latents`);
  const hook = basename(dir);
  const sae: Sae = {
    cfg: {
      activation: topk.name, k,
      dIn, dSae, dOut,
      transcoder: transcode,
      applyBDecToInput: !transcode,
      normalizeActivations: 'none',
      rescaleActsByDecoderNorm: false,
      hookName: hook,
      dtype: dtypeName(tensors),
      metadata: { metadata: { hook_name: hook }, sae_workbench_source: { format: 'sparsify', config: cfg } },
      source: { format: 'sparsify', path: dir },
    },
    // encoder.weight is an nn.Linear weight: [out, in] by definition, so a square one is still decided.
    wEnc: orient(tensors, 'encoder.weight', dIn, dSae, ['d_in', 'n_latents'], 'transposed', weightsPath),
    bEnc: vector(tensors, 'encoder.bias', dSae, 'n_latents', weightsPath)!,
    // W_dec is a bare parameter [n_latents, d] in sparsify; a square one has no other evidence.
    wDec: orient(tensors, 'W_dec', dSae, dOut, ['n_latents', 'd_out'], 'as-wanted', weightsPath),
    bDec: vector(tensors, 'b_dec', dOut, 'd_out', weightsPath)!,
  };
  if (cfg.skip_connection === true || tensors.has('W_skip')) {
    if (!tensors.has('W_skip')) throw new InputError(weightsPath, 'cfg.json says skip_connection but there is no W_skip tensor');
    // used as x·W_skipᵀ by every tool that writes one (sparsify, SAELens, circuit-tracer): [d_out, d_in]
    sae.wSkip = orient(tensors, 'W_skip', dOut, dIn, ['d_out', 'd_in'], 'as-wanted', weightsPath);
  }
  return sae;
}
