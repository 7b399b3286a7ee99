/**
 * `sae-workbench convert SRC --to DIR`: any loadable SAE or transcoder → a SAELens v6 folder (cfg.json +
 * sae_weights.safetensors [+ sparsity.safetensors]); a crosscoder → cfg.json + cc_weights.safetensors.
 * The result is loaded back before reporting success. An existing SAE in DIR is not overwritten without
 * --force (and files are replaced atomically even then).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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

export function convertPath(src: string, to: string, force = false): ConvertReport {
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
    .action(action((src: string, opts: { to: string; force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const r = convertPath(src, opts.to, !!opts.force);
      emit(g, r, () => `${r.from} (${r.format}) -> ${r.to}: ${r.description} [${r.files.join(', ')}]`);
    }));
}
