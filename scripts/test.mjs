// The default test suite: every test/unit/**/*.test.ts and test/webview/**/*.test.ts under Node's own
// test runner, with tsx compiling TypeScript on the fly. Node 20's --test takes no globs, so we list files.
// `npm test -- <substring>` runs only the files whose path contains the substring.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
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
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-old-space-size=8192'].filter(Boolean).join(' ') },
});
process.exit(r.status ?? 1);
