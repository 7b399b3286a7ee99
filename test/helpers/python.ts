// The Python interpreter the capture tests run: SAE_WORKBENCH_PYTHON, else /usr/bin/python3 (Debian's
// python3-torch, installed by scripts/ensure-python.sh), when it can import torch.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const PYTHON_ROOT = join(__dirname, '..', '..', 'python');

let found: string | null | undefined;

/** An interpreter with torch, or null (the test then skips, naming why). */
export function torchPython(): string | null {
  if (found !== undefined) return found;
  found = null;
  for (const p of [process.env.SAE_WORKBENCH_PYTHON, '/usr/bin/python3']) {
    if (p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) { found = p; break; }
  }
  return found;
}

export const NO_TORCH = 'no Python with torch (install python3-torch or set SAE_WORKBENCH_PYTHON)';

/** Runs `python -m sae_workbench_capture` with the test transformer importable (python/tests). */
export function runCapture(python: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(python, ['-m', 'sae_workbench_capture', ...args], {
    cwd: join(PYTHON_ROOT, 'tests'), encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_ROOT }, timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
