// `npm run bench`: runs every bench/**/*.bench.ts (or those whose path contains an argument) in its own
// process. Each case prints one JSON line on stdout: {"case": ..., ...figures, "baseline"?: ..., "ratio"?: ...}.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.bench.ts')) out.push(p);
  }
  return out;
}
const files = walk(join(root, 'bench')).map((f) => relative(root, f)).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
let failed = 0;
for (const f of files) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', f], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    failed++;
    console.log(JSON.stringify({ case: f, error: `exited with ${r.status}` }));
  }
}
process.exit(failed ? 1 : 0);
