/**
 * The PyTorch baselines' interpreter, shared by the speed bench (train.bench.ts) and the quality bench
 * (quality.bench.ts). Debian's python3-torch lives in the system interpreter; a pyenv/venv python3 earlier
 * on PATH would not see it.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** undefined when torch (on OpenBLAS) is ready, else why not; installs it with apt-get when it can. */
export function torchAvailable(): string | undefined {
  const has = (): boolean => spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  // Debian's torch calls whatever libblas.so.3 the alternatives point at: without OpenBLAS that is the
  // reference BLAS, many times slower than the machine's sgemm, which would make the baseline a straw man
  const fastBlas = existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3');
  if (has() && fastBlas) return undefined;
  console.error('bench: installing python3-torch and libopenblas0-pthread with apt-get (Debian) ...');
  const r = spawnSync('apt-get', ['install', '-y', '-q', 'python3-torch', 'libopenblas0-pthread'], { stdio: 'ignore', timeout: 900_000 });
  if (r.status === 0 && has()) return undefined;
  return 'python3-torch (with OpenBLAS) is not installed and apt-get could not install it';
}
