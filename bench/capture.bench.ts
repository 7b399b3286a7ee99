/**
 * Capture throughput (rows/s) of python -m sae_workbench_capture for the test transformer on CPU, against
 * a plain forward pass of the same model over the same batches (bench/capture_throughput.py measures both;
 * target: capture ≥ 0.8× the forward pass). Needs a Python with torch (SAE_WORKBENCH_PYTHON or
 * /usr/bin/python3); says so and skips otherwise.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const python = [process.env.SAE_WORKBENCH_PYTHON, '/usr/bin/python3'].find((p) => p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
if (!python) {
  console.log(JSON.stringify({ case: 'capture throughput', skipped: 'no Python with torch (install python3-torch or set SAE_WORKBENCH_PYTHON)' }));
} else {
  const r = spawnSync(python, [join(__dirname, 'capture_throughput.py')], { stdio: ['ignore', 'inherit', 'inherit'] });
  process.exitCode = r.status ?? 1;
}
