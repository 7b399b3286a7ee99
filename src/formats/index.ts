/**
 * The SAE format registry: which loader understands a path, and loading any SAE to the canonical form.
 * Each format module contributes a detector and a loader; the first detector that claims a path wins.
 */
import { existsSync, statSync } from 'node:fs';
import { InputError } from '../errors';
import type { Sae } from '../sae/types';
import { isSaeLensDir, loadSaeLens } from './saelens';

export interface SaeFormat {
  /** Short id, e.g. 'saelens', 'sparsify'. */
  id: string;
  /** Human name for messages. */
  name: string;
  /** Cheap check (file names, a config key): does this path hold an SAE of this format? */
  detect(path: string): boolean;
  load(path: string): Sae;
}

export const FORMATS: SaeFormat[] = [
  { id: 'saelens', name: 'SAELens', detect: (p) => isDir(p) && isSaeLensDir(p), load: loadSaeLens },
];

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

export function detectFormat(path: string): SaeFormat | undefined {
  return FORMATS.find((f) => f.detect(path));
}

/** Loads an SAE from any known format, or throws an InputError saying what was expected. */
export function loadSae(path: string): Sae {
  if (!existsSync(path)) throw new InputError(path, 'no such file or folder');
  const fmt = detectFormat(path);
  if (!fmt) throw new InputError(path, `not a recognised SAE (known formats: ${FORMATS.map((f) => f.name).join(', ')})`);
  return fmt.load(path);
}
