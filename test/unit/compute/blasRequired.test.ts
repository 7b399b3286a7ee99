// `npm test` in CI fails when BLAS tests were skipped (scripts/test.mjs): the native engine is what users
// get, so CI must not pass on the WebAssembly fallback by accident. Runs the BLAS test file under the test
// runner with OpenBLAS made unopenable, once as CI and once not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '../../..');

function runBlasTests(env: Record<string, string>): { status: number | null; err: string } {
  // without NODE_TEST_CONTEXT, or the inner runner would report to this one instead of to its reporters
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  const r = spawnSync(process.execPath, [join(root, 'scripts/test.mjs'), 'compute/blas.test'], {
    cwd: root, encoding: 'utf8',
    env: { ...outer, SAE_WORKBENCH_BLAS: '', SAE_REQUIRE_BLAS: '', SAE_WORKBENCH_BLAS_LIB: '/nonexistent/libopenblas.so.0', ...env },
  });
  return { status: r.status, err: r.stderr };
}

test('in CI a run that skipped BLAS tests fails and says why; outside CI the same run passes', () => {
  const ci = runBlasTests({ CI: 'true' });
  assert.notEqual(ci.status, 0, 'CI=true with BLAS tests skipped must fail');
  assert.match(ci.err, /\d+ BLAS test\(s\) were skipped, and this run requires the native BLAS engine/);
  const local = runBlasTests({ CI: '' });
  assert.equal(local.status, 0, local.err);
  assert.doesNotMatch(local.err, /BLAS test\(s\) were skipped/);
});
