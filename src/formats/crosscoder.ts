/**
 * Crosscoders on disk (ckkissane/crosscoder-model-diff): a folder with `cfg.json` (d_in, dict_size,
 * hook_point, enc_dtype, ...) and `cc_weights.pt` holding W_enc [n_sources, d_in, H], W_dec
 * [H, n_sources, d_in], b_enc [H], b_dec [n_sources, d_in]. We write the same cfg.json with the weights
 * as `cc_weights.safetensors` (same names and shapes), and read either. Shapes are checked against
 * cfg.json; the source count comes from W_enc and must agree across all four tensors.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { encodeSafetensors, readSafetensors } from '../io/safetensors';
import { readTorchFile, stateDict, stateDictTensors } from '../io/torch';
import { toFloat32 } from '../io/tensor';
import type { Tensor } from '../io/tensor';
import { configText, saveFolder, savedPath } from '../io/folderSave';
import type { Crosscoder } from '../sae/crosscoder';
import { asObject, dtypeName, isDir, positiveInt } from './common';
import { readJsonFile } from './saelens';

export const CC_CFG = 'cfg.json';
export const CC_PT = 'cc_weights.pt';
export const CC_SAFETENSORS = 'cc_weights.safetensors';

export function isCrosscoderDir(dir: string): boolean {
  return isDir(dir) && existsSync(join(dir, CC_CFG)) && (existsSync(join(dir, CC_PT)) || existsSync(join(dir, CC_SAFETENSORS)));
}

function exact(tensors: Map<string, Tensor>, name: string, shape: number[], dims: string, source: string): Float32Array {
  const t = tensors.get(name);
  if (!t) throw new InputError(source, `missing tensor '${name}' (expected [${dims}] = [${shape.join(', ')}])`);
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) throw new InputError(source, `tensor '${name}' has shape [${t.shape.join(', ')}], expected [${dims}] = [${shape.join(', ')}]`);
  const d = toFloat32(t);
  return d === t.data ? d.slice() : d;
}

export function loadCrosscoder(dir: string): Crosscoder {
  const cfgPath = savedPath(dir, CC_CFG);
  const cfg = asObject(readJsonFile(cfgPath), 'cfg.json', cfgPath);
  const dIn = positiveInt(cfg, 'd_in', cfgPath);
  const dSae = positiveInt(cfg, 'dict_size', cfgPath);
  const st = savedPath(dir, CC_SAFETENSORS);
  const src = existsSync(st) ? st : savedPath(dir, CC_PT);
  const tensors = src === st ? readSafetensors(st).tensors : stateDictTensors(stateDict(readTorchFile(src), src));
  const enc = tensors.get('W_enc');
  if (!enc) throw new InputError(src, 'missing tensor \'W_enc\' (expected [n_sources, d_in, dict_size])');
  if (enc.shape.length !== 3 || enc.shape[0]! < 1) throw new InputError(src, `tensor 'W_enc' has shape [${enc.shape.join(', ')}], expected [n_sources, d_in, dict_size] = [n, ${dIn}, ${dSae}]`);
  const n = enc.shape[0]!;
  if (Number.isSafeInteger(cfg.n_sources) && cfg.n_sources !== n) throw new InputError(src, `W_enc has ${n} sources but cfg.json says n_sources = ${String(cfg.n_sources)}`);
  return {
    cfg: {
      nSources: n, dIn, dSae,
      hookName: typeof cfg.hook_point === 'string' ? cfg.hook_point : undefined,
      modelName: typeof cfg.model_name === 'string' ? cfg.model_name : undefined,
      dtype: dtypeName(tensors),
      metadata: cfg,
      source: { format: 'crosscoder', path: dir },
    },
    wEnc: exact(tensors, 'W_enc', [n, dIn, dSae], 'n_sources, d_in, dict_size', src),
    bEnc: exact(tensors, 'b_enc', [dSae], 'dict_size', src),
    wDec: exact(tensors, 'W_dec', [dSae, n, dIn], 'dict_size, n_sources, d_in', src),
    bDec: exact(tensors, 'b_dec', [n, dIn], 'n_sources, d_in', src),
  };
}

/** Writes cfg.json + cc_weights.safetensors (float32) as one change (io/folderSave: never a mix of old and new). */
export function saveCrosscoder(cc: Crosscoder, dir: string): void {
  const { nSources: n, dIn, dSae } = cc.cfg;
  const t = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'F32', shape, data });
  const weights = encodeSafetensors([
    ['W_enc', t([n, dIn, dSae], cc.wEnc)], ['W_dec', t([dSae, n, dIn], cc.wDec)], ['b_enc', t([dSae], cc.bEnc)], ['b_dec', t([n, dIn], cc.bDec)],
  ]);
  const cfg = { ...cc.cfg.metadata, d_in: dIn, dict_size: dSae, n_sources: n, enc_dtype: 'fp32' };
  if (cc.cfg.hookName !== undefined) (cfg as Record<string, unknown>).hook_point = cc.cfg.hookName;
  if (cc.cfg.modelName !== undefined) (cfg as Record<string, unknown>).model_name = cc.cfg.modelName;
  saveFolder(dir, [{ name: CC_CFG, data: configText(cfg, join(dir, CC_CFG)) }, { name: CC_SAFETENSORS, data: weights }], [CC_CFG, CC_SAFETENSORS, CC_PT]);
}
