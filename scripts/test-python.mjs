// `npm run test:python`: pytest over python/tests with an interpreter that has torch — SAE_WORKBENCH_PYTHON
// when set, else /usr/bin/python3 (installed by scripts/ensure-python.sh when we are root). When no such
// interpreter can be had it prints one skip line and exits 0; a failing test exits non-zero.
// Extra arguments go to pytest (`npm run test:python -- -k resume`).
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);

function hasTorch(python) {
  return spawnSync(python, ['-c', 'import torch, pytest'], { stdio: 'ignore' }).status === 0;
}

let python = process.env.SAE_WORKBENCH_PYTHON;
if (python) {
  if (!hasTorch(python)) {
    console.error(`SAE_WORKBENCH_PYTHON=${python} cannot import torch and pytest`);
    process.exit(2);
  }
} else {
  const ensured = spawnSync('bash', [`${root}scripts/ensure-python.sh`], { stdio: 'inherit' });
  python = '/usr/bin/python3';
  if (ensured.status !== 0 || !hasTorch(python)) {
    console.log('python tests skipped: no interpreter with torch and pytest (see the line above)');
    process.exit(0);
  }
}
const r = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'python/tests', ...args], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
