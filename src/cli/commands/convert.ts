/**
 * `sae-workbench convert SRC --to DIR`: any loadable SAE or transcoder → a SAELens v6 folder (cfg.json +
 * sae_weights.safetensors [+ sparsity.safetensors]); a crosscoder → cfg.json + cc_weights.safetensors.
 * The result is loaded back before reporting success. An existing SAE in DIR is not overwritten without
 * --force (and files are replaced atomically even then).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readSaeData, recordSaeData } from '../../data/saeData';
import { tokenFilesBeside } from '../../tokens/rows';
import type { Command } from 'commander';
import { loadModel } from '../../formats';
import { CC_CFG, loadCrosscoder, saveCrosscoder } from '../../formats/crosscoder';
import { CFG_FILE, loadSaeLens, saveSaeLens } from '../../formats/saelens';
import { describeSae } from '../../sae/types';
import { describeCrosscoder } from '../../sae/crosscoder';
import { action, emit, globals, InputError } from '../common';

export interface ConvertReport {
  from: string;
  format: string;
  to: string;
  kind: 'sae' | 'crosscoder';
  description: string;
  files: string[];
}

/** What the converted SAE records about its data (src/data/saeData.ts); unset fields keep the source's record. */
export interface ConvertData { activations?: string[]; hookName?: string; modelName?: string }

export function convertPath(src: string, to: string, force = false, data: ConvertData = {}): ConvertReport {
  if (!force && (existsSync(join(to, CFG_FILE)) || existsSync(join(to, CC_CFG)))) {
    throw new InputError(to, 'already holds a cfg.json; pass --force to replace it');
  }
  const loaded = loadModel(src);
  if (loaded.kind === 'crosscoder') {
    saveCrosscoder(loaded.crosscoder, to);
    const back = loadCrosscoder(to);
    return { from: src, format: loaded.format.id, to, kind: 'crosscoder', description: describeCrosscoder(back), files: ['cfg.json', 'cc_weights.safetensors'] };
  }
  saveSaeLens(loaded.sae, to);
  // the source's record holds paths relative to the source folder: written again from the new folder
  const known = existsSync(join(src, CFG_FILE)) ? readSaeData(src) : { activations: [] };
  const activations = data.activations ?? known.activations;
  const tokens = data.activations?.[0] ? tokenFilesBeside(data.activations[0]) : { tokenIds: known.tokenIds, vocabulary: known.vocabulary };
  recordSaeData(to, { activations: activations.map((p) => resolve(p)), tensor: data.activations ? undefined : known.tensor, ...tokens, hookName: data.hookName ?? known.hookName, modelName: data.modelName ?? known.modelName });
  const back = loadSaeLens(to);
  const files = ['cfg.json', 'sae_weights.safetensors', ...(back.logDensity ? ['sparsity.safetensors'] : [])];
  return { from: src, format: loaded.format.id, to, kind: 'sae', description: describeSae(back), files };
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('write any loadable SAE/transcoder as SAELens v6 (crosscoders: cfg.json + cc_weights.safetensors)')
    .argument('<src>', 'an SAE in any supported format (folder or file)')
    .requiredOption('--to <dir>', 'output folder')
    .option('--force', 'replace an SAE already in the output folder')
    .option('--activations <files...>', 'the activation file(s) the SAE belongs to (recorded in cfg.json)')
    .option('--hook-name <name>', 'the model hook its activations come from (SAELens metadata.hook_name)')
    .option('--model-name <name>', 'the model its activations come from (SAELens metadata.model_name)')
    .action(action((src: string, opts: { to: string; force?: boolean; activations?: string[]; hookName?: string; modelName?: string }, cmd: Command) => {
      const g = globals(cmd);
      for (const a of opts.activations ?? []) if (!existsSync(a)) throw new InputError(a, 'no such activation file');
      const r = convertPath(src, opts.to, !!opts.force, { activations: opts.activations, hookName: opts.hookName, modelName: opts.modelName });
      emit(g, r, () => `${r.from} (${r.format}) -> ${r.to}: ${r.description} [${r.files.join(', ')}]`);
    }));
}
