/**
 * The final save of a training run, which must not lose the run: if the SAE cannot be written (a full
 * disk, say), the finished state goes to the run's checkpoint (--resume then only writes the SAE), and if
 * even that fails, the SAE goes to a named folder in the system's temporary directory. Either way the
 * error is one line saying where the run is.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, isInputError } from '../errors';

function why(e: unknown): string {
  return isInputError(e) ? e.problem : (e as Error).message;
}

export function saveFinal<T>(outDir: string, runId: string, save: (dir: string) => T, checkpoint: () => string): T {
  let first: unknown;
  try { return save(outDir); } catch (e) {
    if (!isInputError(e)) throw e;
    first = e;
  }
  let kept: string | undefined;
  try { kept = checkpoint(); } catch { /* try the fallback folder */ }
  if (kept) throw new InputError(outDir, `the SAE was not saved (${why(first)}); the finished run is kept in ${kept}: free some space, then run again with --resume to write it`);
  const fallback = join(tmpdir(), `sae-workbench-unsaved-${runId}`);
  try { save(fallback); } catch (e) {
    throw new InputError(outDir, `the SAE was not saved (${why(first)}), nor a checkpoint, nor a copy in ${fallback} (${why(e)})`);
  }
  throw new InputError(outDir, `the SAE was not saved (${why(first)}) and no checkpoint could be written; it was saved to ${fallback} instead`);
}
