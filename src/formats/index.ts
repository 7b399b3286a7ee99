/**
 * The SAE format registry: which loader understands a path, and loading any SAE to the canonical form.
 * Each format module contributes a detector and a loader; the first detector that claims a path wins,
 * so more specific formats come first. Detectors are cheap (file names, a JSON key, a safetensors
 * header or a pickle without its storages) and never throw. Crosscoders are registered too (inspect and
 * convert recognise them) but load to their own type: use `loadModel` or `loadCrosscoder` for them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { InputError } from '../errors';
import { readTorchStructure, stateDict } from '../io/torch';
import type { Crosscoder } from '../sae/crosscoder';
import type { Sae } from '../sae/types';
import { isDir } from './common';
import { isCrosscoderDir, loadCrosscoder } from './crosscoder';
import { dictionaryLearningTrainers, isDictionaryLearning, loadDictionaryLearning, loadDictionaryLearningRun } from './dictionaryLearning';
import { isGemmaScope, loadGemmaScope } from './gemmascope';
import { isOpenAiFile, loadOpenAi } from './openai';
import { isSaeLensDir, loadSaeLens } from './saelens';
import { isSparsifyDir, loadSparsify, loadSparsifyRun, sparsifyHookpoints } from './sparsify';
import { isTranscoderFile, loadTranscoderFile } from './transcoders';

export interface SaeFormat {
  /** Short id, e.g. 'saelens', 'sparsify'. */
  id: string;
  /** Human name for messages. */
  name: string;
  /** What the format loads to; 'sae' unless stated. */
  kind?: 'sae' | 'crosscoder';
  /** Cheap check (file names, a config key): does this path hold an SAE of this format? */
  detect(path: string): boolean;
  /** Loads to the canonical Sae; for kind 'crosscoder' this throws an InputError pointing to loadModel. */
  load(path: string): Sae;
  /** kind 'crosscoder' only. */
  loadCrosscoder?(path: string): Crosscoder;
}

const notAnSae = (path: string): Sae => {
  throw new InputError(path, 'this is a crosscoder, not a single SAE (open it as a crosscoder, or convert it)');
};

export const FORMATS: SaeFormat[] = [
  { id: 'saelens', name: 'SAELens', detect: (p) => isDir(p) && isSaeLensDir(p), load: loadSaeLens },
  { id: 'sparsify', name: 'EleutherAI sparsify', detect: isSparsifyDir, load: loadSparsify },
  { id: 'crosscoder', name: 'crosscoder', kind: 'crosscoder', detect: isCrosscoderDir, load: notAnSae, loadCrosscoder },
  { id: 'dictionary_learning', name: 'dictionary_learning', detect: isDictionaryLearning, load: loadDictionaryLearning },
  { id: 'gemmascope', name: 'GemmaScope params.npz', detect: isGemmaScope, load: loadGemmaScope },
  { id: 'openai', name: 'OpenAI sparse_autoencoder', detect: isOpenAiFile, load: loadOpenAi },
  { id: 'transcoder', name: 'transcoder .safetensors (circuit-tracer, mntss, mwhanna)', detect: isTranscoderFile, load: loadTranscoderFile },
  // folders holding several SAEs: recognised so the error can list what to open
  { id: 'sparsify-run', name: 'sparsify run folder', detect: (p) => sparsifyHookpoints(p).length > 0, load: loadSparsifyRun },
  { id: 'dictionary_learning-run', name: 'dictionary_learning save folder', detect: (p) => dictionaryLearningTrainers(p).length > 0, load: loadDictionaryLearningRun },
];

export function detectFormat(path: string): SaeFormat | undefined {
  return FORMATS.find((f) => {
    try { return f.detect(path); } catch { return false; }
  });
}

/** Why nothing claimed a path: surfaces the real problem of a .pt (a hostile pickle, a truncated zip). */
function unrecognised(path: string): never {
  if (!isDir(path) && extname(path).toLowerCase() === '.pt') {
    const sd = stateDict(readTorchStructure(path), path); // throws the specific InputError if unreadable
    throw new InputError(path, `a torch state_dict, but not a known SAE (keys: ${[...sd.keys()].slice(0, 12).join(', ')})`);
  }
  const sae = FORMATS.filter((f) => !f.id.endsWith('-run')).map((f) => f.name).join(', ');
  if (isDir(path)) {
    let entries = '';
    try { entries = readdirSync(path).slice(0, 20).join(', '); } catch { /* unreadable folder */ }
    throw new InputError(path, `folder is not a recognised SAE (known formats: ${sae}; it holds: ${entries || 'nothing'})`);
  }
  throw new InputError(path, `not a recognised SAE (known formats: ${sae})`);
}

/** Loads an SAE from any known format, or throws an InputError saying what was expected. */
export function loadSae(path: string): Sae {
  if (!existsSync(path)) throw new InputError(path, 'no such file or folder');
  const fmt = detectFormat(path);
  if (!fmt) unrecognised(path);
  return fmt.load(path);
}

export type LoadedModel =
  | { kind: 'sae'; format: SaeFormat; sae: Sae }
  | { kind: 'crosscoder'; format: SaeFormat; crosscoder: Crosscoder };

/** Loads whatever a path holds: an SAE/transcoder, or a crosscoder. */
export function loadModel(path: string): LoadedModel {
  if (!existsSync(path)) throw new InputError(path, 'no such file or folder');
  const fmt = detectFormat(path);
  if (!fmt) unrecognised(path);
  if (fmt.kind === 'crosscoder') return { kind: 'crosscoder', format: fmt, crosscoder: fmt.loadCrosscoder!(path) };
  return { kind: 'sae', format: fmt, sae: fmt.load(path) };
}

export { loadCrosscoder };
