/**
 * SAELens v6 on disk — the canonical SAE folder that we read and write (shared/FORMATS.md §1):
 * `cfg.json` + `sae_weights.safetensors` (+ optional `sparsity.safetensors`). Pre-6.0 configs are
 * normalised. Shapes are checked against the config, never assumed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { toFloat32 } from '../io/tensor';
import type { Tensor } from '../io/tensor';
import { writeFileAtomic } from '../io/atomic';
import type { Activation, Normalization, Sae, SaeConfig } from '../sae/types';

export const CFG_FILE = 'cfg.json';
export const WEIGHTS_FILE = 'sae_weights.safetensors';
export const SPARSITY_FILE = 'sparsity.safetensors';

/** Reads and parses a JSON file, with one-line errors naming the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  try { return JSON.parse(text); } catch (e) { throw new InputError(path, `invalid JSON (${(e as Error).message.split('\n')[0]})`); }
}

/** Whether a folder looks like a SAELens SAE. */
export function isSaeLensDir(dir: string): boolean {
  return existsSync(join(dir, CFG_FILE)) && existsSync(join(dir, WEIGHTS_FILE));
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
      if (kwargs && typeof kwargs.k === 'number') { cfg.architecture = 'topk'; cfg.k = kwargs.k; }
      else if (cfg.activation_fn === 'topk' && typeof cfg.k === 'number') cfg.architecture = 'topk';
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

const ARCH_TO_ACTIVATION: Record<string, { activation: Activation; transcoder: boolean }> = {
  standard: { activation: 'relu', transcoder: false },
  relu: { activation: 'relu', transcoder: false },
  topk: { activation: 'topk', transcoder: false },
  batchtopk: { activation: 'batchtopk', transcoder: false },
  matryoshka_batchtopk: { activation: 'batchtopk', transcoder: false },
  jumprelu: { activation: 'jumprelu', transcoder: false },
  gated: { activation: 'gated', transcoder: false },
  transcoder: { activation: 'relu', transcoder: true },
  skip_transcoder: { activation: 'relu', transcoder: true },
  jumprelu_transcoder: { activation: 'jumprelu', transcoder: true },
};

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
  const cfgPath = join(dir, CFG_FILE);
  const weightsPath = join(dir, WEIGHTS_FILE);
  if (!existsSync(cfgPath)) throw new InputError(dir, `not an SAE folder: ${CFG_FILE} is missing`);
  if (!existsSync(weightsPath)) throw new InputError(dir, `not an SAE folder: ${WEIGHTS_FILE} is missing`);
  const cfg = normalizeSaeLensConfig(readJsonFile(cfgPath), cfgPath);
  const arch = String(cfg.architecture ?? 'standard');
  const kind = ARCH_TO_ACTIVATION[arch];
  if (!kind) throw new InputError(cfgPath, `unknown architecture '${arch}' (known: ${Object.keys(ARCH_TO_ACTIVATION).join(', ')})`);
  const meta = cfg.metadata as Json;
  const ours = (cfg.sae_workbench ?? {}) as Json;
  const dIn = cfg.d_in as number, dSae = cfg.d_sae as number;
  const dOut = kind.transcoder && Number.isSafeInteger(cfg.d_out) ? (cfg.d_out as number) : dIn;
  const { tensors } = readSafetensors(weightsPath);
  const activation: Activation = (ours.activation as Activation | undefined) ?? kind.activation;
  const k = typeof cfg.k === 'number' ? cfg.k : typeof ours.k === 'number' ? (ours.k as number) : undefined;
  if ((activation === 'topk' || activation === 'batchtopk') && k === undefined && !tensors.has('threshold')) throw new InputError(cfgPath, `architecture ${arch} needs k`);
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
  const isGated = activation === 'gated';
  const sae: Sae = {
    cfg: sCfg,
    wEnc: takeF32(tensors, 'W_enc', [dIn, dSae], src)!,
    bEnc: takeF32(tensors, isGated ? 'b_gate' : 'b_enc', [dSae], src)!,
    wDec: takeF32(tensors, 'W_dec', [dSae, dOut], src)!,
    bDec: takeF32(tensors, 'b_dec', [dOut], src)!,
    threshold: takeF32(tensors, 'threshold', [dSae], src, activation !== 'jumprelu'),
  };
  if (isGated) {
    sae.bMag = takeF32(tensors, 'b_mag', [dSae], src);
    sae.rMag = takeF32(tensors, 'r_mag', [dSae], src);
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
  const sparsityPath = join(dir, SPARSITY_FILE);
  if (existsSync(sparsityPath)) {
    const sp = readSafetensors(sparsityPath).tensors;
    sae.logDensity = takeF32(sp, 'sparsity', [dSae], sparsityPath, true);
  }
  return sae;
}

function architectureName(sae: Sae): string {
  const c = sae.cfg;
  if (c.transcoder) return sae.wSkip ? 'skip_transcoder' : c.activation === 'jumprelu' ? 'jumprelu_transcoder' : 'transcoder';
  if (c.activation === 'relu') return 'standard';
  // BatchTopK exports as JumpReLU with its global threshold (SAELens save_inference_model).
  if (c.activation === 'batchtopk') return sae.threshold ? 'jumprelu' : 'topk';
  return c.activation;
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
  if (c.k !== undefined && (c.activation === 'topk' || c.activation === 'batchtopk')) cfg.k = c.k;
  if (c.activation === 'topk' || c.activation === 'batchtopk') cfg.rescale_acts_by_decoder_norm = c.rescaleActsByDecoderNorm;
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

/** Writes an SAE as a SAELens v6 folder (atomic per file; weights first, cfg.json last). */
export function saveSaeLens(sae: Sae, dir: string): void {
  const c = sae.cfg;
  const t = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'F32', shape, data });
  const tensors: [string, Tensor][] = [
    ['W_enc', t([c.dIn, c.dSae], sae.wEnc)],
    [c.activation === 'gated' ? 'b_gate' : 'b_enc', t([c.dSae], sae.bEnc)],
    ['W_dec', t([c.dSae, c.dOut], sae.wDec)],
    ['b_dec', t([c.dOut], sae.bDec)],
  ];
  if (sae.threshold) tensors.push(['threshold', t([c.dSae], sae.threshold)]);
  if (sae.bMag) tensors.push(['b_mag', t([c.dSae], sae.bMag)]);
  if (sae.rMag) tensors.push(['r_mag', t([c.dSae], sae.rMag)]);
  if (sae.wSkip) tensors.push(['W_skip', t([c.dOut, c.dIn], sae.wSkip)]);
  writeSafetensors(join(dir, WEIGHTS_FILE), tensors);
  if (sae.logDensity) writeSafetensors(join(dir, SPARSITY_FILE), [['sparsity', t([c.dSae], sae.logDensity)]]);
  writeFileAtomic(join(dir, CFG_FILE), JSON.stringify(saeLensConfig(sae), null, 2) + '\n');
}
