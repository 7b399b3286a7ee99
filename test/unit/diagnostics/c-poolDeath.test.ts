// A diagnostics pool worker that dies mid-task ends the blocked caller's wait with a clear error, and the next
// call builds a new pool. The scenario runs in a child process with a timeout: before the supervisor, the
// caller waited forever (its thread is blocked, so the worker's 'exit' event never reached it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

function scenario(kind: string): { error: string; rebuilt: boolean; after: string } {
  const script = join(__dirname, 'poolDeathScenario.ts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, kind], { encoding: 'utf8', timeout: 180_000, env: { ...process.env, SAE_WORKBENCH_DIAG_THREADS: '2' } });
  assert.ok(!r.error && r.status === 0, `scenario ${kind} did not finish (hung or crashed): ${r.error?.message ?? ''} status ${r.status} ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { error: string; rebuilt: boolean; after: string };
}

test('a pool worker calling process.exit mid-task: the caller throws instead of hanging, and the pool is rebuilt', () => {
  const r = scenario('test:exit');
  assert.match(r.error, /a diagnostics worker exited during 'test:exit' \(exit code 7\)/);
  assert.ok(r.rebuilt);
  assert.match(r.after, /unknown diagnostics pool task 'no-such-kind'/);
});

test('a pool worker dying of an uncaught exception outside its handler: the caller throws', () => {
  const r = scenario('test:uncaught');
  assert.match(r.error, /a diagnostics worker exited during 'test:uncaught'/);
  assert.match(r.after, /unknown diagnostics pool task/);
});

test('a pool worker running out of memory: the caller throws', () => {
  const r = scenario('test:oom');
  assert.match(r.error, /a diagnostics worker exited during 'test:oom'/);
  assert.match(r.after, /unknown diagnostics pool task/);
});
