/**
 * SAELens v6 on disk — the canonical SAE folder that we read and write (docs/formats.md §1):
 * `cfg.json` + `sae_weights.safetensors` (+ optional `sparsity.safetensors`). Pre-6.0 configs are
 * normalised. Shapes are checked against the config, never assumed.
 */
import { existsSync } from 'node:fs';
import { readRegularText } from '../io/regular';
import { join } from 'node:path';
import { InputError } from '../errors';
import { encodeSafetensors, jsonDepth, readSafetensors } from '../io/safetensors';
import { toFloat32 } from '../io/tensor';
import type { Tensor } from '../io/tensor';
import { configText, saveFolder, savedPath } from '../io/folderSave';
import { relu } from '../sae/arch/relu';
import { topk } from '../sae/arch/topk';
import { archSpec, fromSaeLens, isArchName, saeLensNames } from '../sae/arch/registry';
import type { Activation, Normalization, Sae, SaeConfig } from '../sae/types';

export const CFG_FILE = 'cfg.json';
export const WEIGHTS_FILE = 'sae_weights.safetensors';
export const SPARSITY_FILE = 'sparsity.safetensors';

/** Configs nest a few levels; deeper is hostile (and would overflow the stack of anything recursing over it). */
const MAX_CONFIG_DEPTH = 64;

/** Reads and parses a JSON file, with one-line errors naming the file. */
export function readJsonFile(path: string): unknown {
  const text = readRegularText(path);
  if (jsonDepth(Buffer.from(text), MAX_CONFIG_DEPTH) > MAX_CONFIG_DEPTH) throw new InputError(path, `nests deeper than ${MAX_CONFIG_DEPTH} levels; not a config`);
  try { return JSON.parse(text); } catch (e) { throw new InputError(path, `invalid JSON (${(e as Error).message.split('\n')[0]})`); }
}

/** Whether a folder looks like a SAELens SAE. */
export function isSaeLensDir(dir: string): boolean {
  return existsSync(savedPath(dir, CFG_FILE)) && existsSync(savedPath(dir, WEIGHTS_FILE));
}

type Json = Record<string, unknown>;

/** The pre-6.0 → v6 config normalisation (SAELens handle_pre_6_0_config), then field checks. */
export function normalizeSaeLensConfig(raw: unknown, source: string): Json {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(source, 'cfg.json is not a JSON object');
  const cfg: Json = { ...(raw as Json) };
  const meta: Json = typeof cfg.metadata === 'object' && cfg.metadata !== null ? { ...(cfg.metadata as Json) } : {};
  const isV6 = typeof meta.sae_lens_version === 'string' && /^([6-9]|\d\d)\./.test(meta.sae_lens_version);
  if (!isV6) {
    const rename: [string, string][] = [['hook_point', 'hook_name'], ['hook_point_head_index', 'hook_head_index'], ['activation_fn_str', 'activation_fn']];
    for (const [from, to] of rename) if (from in cfg && !(to in cfg)) { cfg[to] = cfg[from]; delete cfg[from]; }
    const kwargs = cfg.activation_fn_kwargs as Json | undefined;
    if (!cfg.architecture) {
      // pre-6.0 TopK SAEs say so through activation_fn (its name for TopK is SAELens's architecture name)
      const topkName = topk.saeLens.reads[0]!;
      if (kwargs && typeof kwargs.k === 'number') { cfg.architecture = topkName; cfg.k = kwargs.k; }
      else if (cfg.activation_fn === topkName && typeof cfg.k === 'number') cfg.architecture = topkName;
      else cfg.architecture = 'standard';
    }
    if (typeof cfg.normalize_activations === 'boolean') cfg.normalize_activations = cfg.normalize_activations ? 'expected_average_only_in' : 'none';
    for (const key of ['model_name', 'hook_name', 'hook_head_index', 'context_size', 'prepend_bos', 'dataset_path', 'model_class_name', 'seqpos_slice', 'neuronpedia_id', 'hook_name_out']) {
      if (key in cfg && !(key in meta)) { meta[key] = cfg[key]; delete cfg[key]; }
    }
  }
  cfg.metadata = meta;
  for (const key of ['d_in', 'd_sae'] as const) {
    const v = cfg[key];
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new InputError(source, `cfg.json: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return cfg;
}

const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/**
 * The config's fields as strictly as the tensors: integers where SAELens has integers, within range and
 * in agreement with the widths (the tensors' shapes are checked against d_in/d_sae/d_out by takeF32).
 */
export function checkSaeLensFields(cfg: Json, k: unknown, source: string): void {
  const dSae = cfg.d_sae as number;
  const say = (problem: string): never => { throw new InputError(source, `cfg.json: ${problem}`); };
  if (k !== undefined && (!isPositiveInt(k) || k > dSae)) say(`k must be an integer from 1 to d_sae (${dSae}), got ${JSON.stringify(k)}`);
  if (cfg.d_out !== undefined && cfg.d_out !== null && !isPositiveInt(cfg.d_out)) say(`d_out must be a positive integer, got ${JSON.stringify(cfg.d_out)}`);
  for (const key of ['apply_b_dec_to_input', 'rescale_acts_by_decoder_norm'] as const) {
    if (cfg[key] !== undefined && cfg[key] !== null && typeof cfg[key] !== 'boolean') say(`${key} must be true or false, got ${JSON.stringify(cfg[key])}`);
  }
  const widths = cfg.matryoshka_widths;
  if (widths !== undefined && widths !== null) {
    const ok = Array.isArray(widths) && widths.length > 0 && widths.every((w, i) => isPositiveInt(w) && w <= dSae && (i === 0 || w > (widths[i - 1] as number)));
    if (!ok) say(`matryoshka_widths must be increasing positive integers up to d_sae (${dSae}), got ${JSON.stringify(widths).slice(0, 80)}`);
  }
}

/** Checks a tensor's shape and returns it as Float32 (NaN/Inf are left for the caller to warn about). */
export function takeF32(tensors: Map<string, Tensor>, name: string, shape: number[], source: string, optional = false): Float32Array | undefined {
  const t = tensors.get(name);
  if (!t) {
    if (optional) return undefined;
    throw new InputError(source, `missing tensor '${name}' (expected shape [${shape.join(', ')}])`);
  }
  const ok = t.shape.length === shape.length && t.shape.every((s, i) => s === shape[i]);
  if (!ok) throw new InputError(source, `tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] from cfg.json`);
  return toFloat32(t).slice();
}

/** Loads a SAELens (v6 or pre-6.0) SAE folder. */
export function loadSaeLens(dir: string): Sae {
  // Through the save journal: an interrupted save reads as its new version, never half old, half new.
  const cfgPath = savedPath(dir, CFG_FILE);
  const weightsPath = savedPath(dir, WEIGHTS_FILE);
  if (!existsSync(cfgPath)) throw new InputError(dir, `not an SAE folder: ${CFG_FILE} is missing`);
  if (!existsSync(weightsPath)) throw new InputError(dir, `not an SAE folder: ${WEIGHTS_FILE} is missing`);
  const cfg = normalizeSaeLensConfig(readJsonFile(cfgPath), cfgPath);
  const arch = String(cfg.architecture ?? 'standard');
  const kind = fromSaeLens(arch);
  if (!kind) throw new InputError(cfgPath, `unknown architecture '${arch}' (known: ${saeLensNames().join(', ')})`);
  const meta = cfg.metadata as Json;
  const ours = (cfg.sae_workbench ?? {}) as Json;
  const dIn = cfg.d_in as number, dSae = cfg.d_sae as number;
  const dOut = kind.transcoder && Number.isSafeInteger(cfg.d_out) ? (cfg.d_out as number) : dIn;
  const { tensors } = readSafetensors(weightsPath);
  if (ours.activation !== undefined && !isArchName(ours.activation)) throw new InputError(cfgPath, `sae_workbench.activation '${String(ours.activation)}' is not a known architecture`);
  const activation: Activation = (ours.activation as Activation | undefined) ?? kind.spec.name;
  const spec = archSpec(activation);
  const k = typeof cfg.k === 'number' ? cfg.k : typeof ours.k === 'number' ? (ours.k as number) : undefined;
  if (spec.usesK && k === undefined && !tensors.has('threshold')) throw new InputError(cfgPath, `architecture ${arch} needs k`);
  checkSaeLensFields(cfg, k, cfgPath);
  const norm = String(cfg.normalize_activations ?? 'none');
  if (!['none', 'expected_average_only_in', 'constant_norm_rescale', 'layer_norm'].includes(norm)) throw new InputError(cfgPath, `unknown normalize_activations '${norm}'`);
  const known = new Set(['d_in', 'd_sae', 'd_out', 'dtype', 'device', 'apply_b_dec_to_input', 'normalize_activations', 'architecture', 'k', 'rescale_acts_by_decoder_norm', 'metadata', 'sae_workbench', 'matryoshka_widths']);
  const extra: Json = {};
  for (const [key, v] of Object.entries(cfg)) if (!known.has(key)) extra[key] = v;
  let training = typeof ours.training === 'object' && ours.training !== null ? (ours.training as Json) : undefined;
  // SAELens checkpoints keep the estimated input scale beside the weights; forward.ts reads it from training
  const scalerPath = join(dir, 'activation_scaler.json');
  if (norm === 'expected_average_only_in' && training?.activationScale === undefined && existsSync(scalerPath)) {
    const factor = (readJsonFile(scalerPath) as { scaling_factor?: unknown } | null)?.scaling_factor;
    if (factor !== null && factor !== undefined) {
      if (typeof factor !== 'number' || !(factor > 0) || !Number.isFinite(factor)) throw new InputError(scalerPath, `scaling_factor must be a positive number, got ${JSON.stringify(factor)}`);
      training = { ...training, activationScale: factor };
    }
  }
  const sCfg: SaeConfig = {
    activation,
    dIn, dSae, dOut,
    transcoder: kind.transcoder,
    k,
    applyBDecToInput: kind.transcoder ? false : cfg.apply_b_dec_to_input !== false,
    normalizeActivations: norm as Normalization,
    rescaleActsByDecoderNorm: cfg.rescale_acts_by_decoder_norm === true,
    hookName: typeof meta.hook_name === 'string' ? meta.hook_name : undefined,
    hookNameOut: typeof meta.hook_name_out === 'string' ? meta.hook_name_out : undefined,
    modelName: typeof meta.model_name === 'string' ? meta.model_name : undefined,
    matryoshkaWidths: Array.isArray(cfg.matryoshka_widths) ? (cfg.matryoshka_widths as number[]) : undefined,
    dtype: String(cfg.dtype ?? 'float32'),
    training,
    metadata: { ...extra, metadata: meta, ...(ours.source !== undefined ? { sae_workbench_source: ours.source } : {}), ...(ours.data !== undefined ? { sae_workbench_data: ours.data } : {}) },
    source: { format: 'saelens', path: dir },
  };
  const src = weightsPath;
  const sae: Sae = {
    cfg: sCfg,
    wEnc: takeF32(tensors, 'W_enc', [dIn, dSae], src)!,
    bEnc: takeF32(tensors, spec.saeLens.encoderBias, [dSae], src)!,
    wDec: takeF32(tensors, 'W_dec', [dSae, dOut], src)!,
    bDec: takeF32(tensors, 'b_dec', [dOut], src)!,
  };
  for (const lt of spec.saeLens.latentTensors) {
    const v = takeF32(tensors, lt.tensor, [dSae], src, !lt.required);
    if (v) sae[lt.field] = v;
  }
  if (arch === 'skip_transcoder' || tensors.has('W_skip')) sae.wSkip = takeF32(tensors, 'W_skip', [dOut, dIn], src);
  const scaling = tensors.get('scaling_factor');
  if (scaling) {
    const s = takeF32(tensors, 'scaling_factor', [dSae], src)!;
    if (s.some((v) => v !== 1)) {
      // pre-6.0 legacy: fold the per-latent scaling into the encoder (as SAELens does when loading).
      for (let j = 0; j < dIn; j++) for (let i = 0; i < dSae; i++) sae.wEnc[j * dSae + i]! *= s[i]!;
      for (let i = 0; i < dSae; i++) sae.bEnc[i]! *= s[i]!;
    }
  }
  const sparsityPath = savedPath(dir, SPARSITY_FILE);
  if (existsSync(sparsityPath)) {
    const sp = readSafetensors(sparsityPath).tensors;
    sae.logDensity = takeF32(sp, 'sparsity', [dSae], sparsityPath, true);
  }
  return sae;
}

function architectureName(sae: Sae): string {
  const m = archSpec(sae.cfg.activation).saeLens;
  if (!sae.cfg.transcoder) return m.architecture(sae);
  // without a SAELens form of its own (a TopK transcoder from sparsify) it is saved under the plain transcoder
  // names; sae_workbench.activation keeps what it really is, so it loads back as it was
  return (m.transcoder ?? relu.saeLens.transcoder!).architecture(sae);
}

/** The v6 cfg.json object for an SAE. */
export function saeLensConfig(sae: Sae): Json {
  const c = sae.cfg;
  const prevMeta = (c.metadata.metadata ?? {}) as Json;
  // where a converted SAE came from is kept under sae_workbench.source, out of SAELens's own keys
  // and which data it belongs to under sae_workbench.data (src/data/saeData.ts)
  const { metadata: _m, sae_workbench_source: origin, sae_workbench_data: data, ...extra } = c.metadata;
  const cfg: Json = {
    ...extra,
    d_in: c.dIn,
    d_sae: c.dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: c.transcoder ? false : c.applyBDecToInput,
    normalize_activations: c.normalizeActivations,
    reshape_activations: extra.reshape_activations ?? 'none',
    architecture: architectureName(sae),
  };
  if (c.transcoder) cfg.d_out = c.dOut;
  Object.assign(cfg, archSpec(c.activation).saeLens.configFields(sae));
  if (c.matryoshkaWidths) cfg.matryoshka_widths = c.matryoshkaWidths;
  cfg.metadata = {
    ...prevMeta,
    sae_lens_version: typeof prevMeta.sae_lens_version === 'string' && prevMeta.sae_lens_version.startsWith('6') ? prevMeta.sae_lens_version : '6.18.0',
    hook_name: c.hookName ?? prevMeta.hook_name ?? null,
    model_name: c.modelName ?? prevMeta.model_name ?? null,
    ...(c.hookNameOut ? { hook_name_out: c.hookNameOut } : {}),
  };
  const ours: Json = { activation: c.activation };
  if (c.k !== undefined) ours.k = c.k;
  if (c.training) ours.training = c.training;
  if (origin !== undefined) ours.source = origin;
  if (data !== undefined) ours.data = data;
  cfg.sae_workbench = ours;
  return cfg;
}

/**
 * Writes an SAE as a SAELens v6 folder, all files as one change (io/folderSave): the folder holds the old
 * SAE or the new one, never a mix. Everything is encoded before the first byte is written, so a config
 * that fails to serialise leaves the folder untouched.
 */
export function saveSaeLens(sae: Sae, dir: string): void {
  const c = sae.cfg;
  const spec = archSpec(c.activation).saeLens;
  const t = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'F32', shape, data });
  const tensors: [string, Tensor][] = [
    ['W_enc', t([c.dIn, c.dSae], sae.wEnc)],
    [spec.encoderBias, t([c.dSae], sae.bEnc)],
    ['W_dec', t([c.dSae, c.dOut], sae.wDec)],
    ['b_dec', t([c.dOut], sae.bDec)],
  ];
  for (const lt of spec.latentTensors) { const data = sae[lt.field]; if (data) tensors.push([lt.tensor, t([c.dSae], data)]); }
  if (sae.wSkip) tensors.push(['W_skip', t([c.dOut, c.dIn], sae.wSkip)]);
  const files = [
    { name: CFG_FILE, data: configText(saeLensConfig(sae), join(dir, CFG_FILE)) },
    { name: WEIGHTS_FILE, data: encodeSafetensors(tensors) },
    ...(sae.logDensity ? [{ name: SPARSITY_FILE, data: encodeSafetensors([['sparsity', t([c.dSae], sae.logDensity)]]) }] : []),
  ];
  saveFolder(dir, files, [CFG_FILE, WEIGHTS_FILE, SPARSITY_FILE]);
}
