/**
 * Key facts about an SAE folder for lists, CodeLens and pickers, read cheaply: cfg.json and the weights'
 * header, never the weights themselves (a workspace may hold dozens of SAEs). Plain Node, no vscode, so it
 * is unit-tested directly. A folder that looks like an SAE but is broken yields the reason, not an
 * exception: the explorer shows it as an error item.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { oneLine } from '../src/errors';
import { detectFormat } from '../src/formats';
import { normalizeSaeLensConfig, CFG_FILE, WEIGHTS_FILE } from '../src/formats/saelens';
import { readSafetensorsHeader } from '../src/io/safetensors';
import { readEvalRecord } from '../src/views/evalCache';

export interface SaeFacts {
  ok: true;
  dir: string;
  name: string;
  format: string;
  architecture: string;
  dIn: number;
  dSae: number;
  k?: number;
  hookName?: string;
  modelName?: string;
  /** Explained variance if the SAE was evaluated (eval.json written by the panels' worker, or a training summary). */
  explainedVariance?: number;
  l0?: number;
  /** What the evaluated figures were measured on, when they come from eval.json. */
  measuredOn?: string;
}

export interface BrokenSae {
  ok: false;
  dir: string;
  name: string;
  reason: string;
}

export type SaeEntry = SaeFacts | BrokenSae;

type Json = Record<string, unknown>;

/** Files whose presence makes a folder a candidate SAE (so a missing weights file is reported). */
export const SAE_MARKER_FILES = [CFG_FILE];

const EV_KEYS = ['explained_variance', 'explainedVariance', 'ev'];
const L0_KEYS = ['l0', 'L0'];

function findNumber(obj: unknown, keys: string[], depth = 0): number | undefined {
  if (typeof obj !== 'object' || obj === null || depth > 3) return undefined;
  for (const k of keys) {
    const v = (obj as Json)[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  for (const v of Object.values(obj as Json)) {
    const found = findNumber(v, keys, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Whether a parsed cfg.json looks like an SAE config at all (so other projects' cfg.json are ignored). */
function looksLikeSaeConfig(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && ('d_sae' in raw || 'd_in' in raw || 'architecture' in raw);
}

/**
 * Facts of the SAE in `dir`, a BrokenSae with the reason, or undefined when the folder is not an SAE
 * candidate at all (e.g. a cfg.json of some other tool).
 */
export function readSaeFacts(dir: string): SaeEntry | undefined {
  const name = basename(dir);
  const cfgPath = join(dir, CFG_FILE);
  const fmt = detectFormat(dir);
  if (!existsSync(cfgPath)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    return { ok: false, dir, name, reason: `${CFG_FILE}: invalid JSON (${oneLine(e)})` };
  }
  if (!looksLikeSaeConfig(raw)) return undefined;
  if (fmt && fmt.id !== 'saelens') {
    // Other formats: load through the registry (they are rarer and may lack a cheap header path).
    try {
      const sae = fmt.load(dir);
      const c = sae.cfg;
      return { ok: true, dir, name, format: fmt.id, architecture: c.activation, dIn: c.dIn, dSae: c.dSae, k: c.k, hookName: c.hookName, modelName: c.modelName, explainedVariance: findNumber(c.training, EV_KEYS) };
    } catch (e) {
      return { ok: false, dir, name, reason: oneLine(e) };
    }
  }
  try {
    const cfg = normalizeSaeLensConfig(raw, cfgPath);
    const weights = join(dir, WEIGHTS_FILE);
    if (!existsSync(weights)) return { ok: false, dir, name, reason: `${WEIGHTS_FILE} is missing` };
    const header = readSafetensorsHeader(weights);
    const dIn = cfg.d_in as number, dSae = cfg.d_sae as number;
    const wDec = header.entries.get('W_dec');
    if (!wDec) return { ok: false, dir, name, reason: `${WEIGHTS_FILE} has no W_dec tensor` };
    if (wDec.shape[0] !== dSae) return { ok: false, dir, name, reason: `W_dec has shape [${wDec.shape.join(', ')}] but cfg.json says d_sae ${dSae}` };
    const meta = (cfg.metadata ?? {}) as Json;
    const ours = (cfg.sae_workbench ?? {}) as Json;
    const evaluated = readEvalRecord(dir);
    return {
      ok: true, dir, name, format: 'saelens',
      architecture: String(cfg.architecture ?? 'standard'),
      dIn, dSae,
      k: typeof cfg.k === 'number' ? cfg.k : undefined,
      hookName: typeof meta.hook_name === 'string' ? meta.hook_name : undefined,
      modelName: typeof meta.model_name === 'string' ? meta.model_name : undefined,
      explainedVariance: evaluated?.explained_variance ?? findNumber(ours, EV_KEYS),
      l0: evaluated?.l0 ?? findNumber(ours, L0_KEYS),
      measuredOn: evaluated ? `${evaluated.sample} of ${basename(evaluated.activations)}` : undefined,
    };
  } catch (e) {
    return { ok: false, dir, name, reason: oneLine(e).replace(`${dir}/`, '') };
  }
}

/** "16,384 latents · topk k=32 · EV 0.87" */
export function describeFacts(f: SaeFacts): string {
  const parts = [`${f.dSae.toLocaleString('en-US')} latents`, f.architecture + (f.k !== undefined ? ` k=${f.k}` : '')];
  if (f.explainedVariance !== undefined) parts.push(`EV ${f.explainedVariance.toFixed(2)}`);
  return parts.join(' · ');
}

/** The CodeLens title: "SAE: 16,384 latents · EV 0.87". */
export function lensTitle(f: SaeFacts): string {
  return `SAE: ${f.dSae.toLocaleString('en-US')} latents` + (f.explainedVariance !== undefined ? ` · EV ${f.explainedVariance.toFixed(2)}` : '');
}
