// The default test suite: every test/unit/**/*.test.ts and test/webview/**/*.test.ts under Node's own
// test runner, with tsx compiling TypeScript on the fly. Node 20's --test takes no globs, so we list files.
// `npm test -- <substring>` runs only the files whose path contains the substring.
// In CI (CI set and not "false"/"0") a run that skipped any BLAS test fails, because the native engine is
// what users get and CI must not pass on the WebAssembly fallback by accident; SAE_REQUIRE_BLAS=1 asks the
// same outside CI, and SAE_WORKBENCH_BLAS=off (a deliberate choice) lifts it.
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// `--robust`: the robust suite (test/robust: mutants, hostile inputs, bombs, a full disk), run by CI after the default one.
const suites = (process.env.SAE_TEST_SUITES ?? (process.argv.includes('--robust') ? 'test/robust' : 'test/unit,test/webview')).split(',');

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = suites.flatMap((s) => walk(join(root, s))).map((f) => relative(root, f)).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const on = (v) => v !== undefined && v !== '' && !/^(false|0|no|off)$/i.test(v);
const requireBlas = (on(process.env.CI) || on(process.env.SAE_REQUIRE_BLAS)) && !/^(off|0|false|no)$/i.test(process.env.SAE_WORKBENCH_BLAS ?? '');
const tapDir = requireBlas ? mkdtempSync(join(tmpdir(), 'sae-test-')) : undefined;
const tap = tapDir && join(tapDir, 'run.tap');
const reporters = tap
  ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`]
  : ['--test-reporter=spec'];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-old-space-size=8192'].filter(Boolean).join(' ') },
});
let status = r.status ?? 1;
if (tap) {
  // TAP marks a skipped test "ok N - name # SKIP reason"; every BLAS test's reason names BLAS
  const skipped = existsSync(tap) ? readFileSync(tap, 'utf8').split('\n').filter((l) => /^\s*ok \d+ .*# SKIP.*BLAS/i.test(l)) : [];
  rmSync(tapDir, { recursive: true, force: true });
  if (skipped.length > 0) {
    console.error(`\n${skipped.length} BLAS test(s) were skipped, and this run requires the native BLAS engine (CI or SAE_REQUIRE_BLAS): ${skipped[0].replace(/^.*# SKIP\s*/i, '')}`);
    status = status || 1;
  }
}
process.exit(status);
