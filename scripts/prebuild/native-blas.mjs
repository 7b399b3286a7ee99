// Builds the native BLAS GEMM addon (native/blas: a Node-API binding of OpenBLAS's cblas_sgemm) with npm's
// bundled node-gyp, against the Node headers installed with Node (no download), into
// dist/native/sae_blas.node. Optional: when the compiler, the headers or libopenblas-dev are missing it
// prints one line saying so and the engine falls back to WebAssembly SIMD; this step never fails the build.
//   --force rebuilds even when the addon is newer than its sources.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, realpathSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dir = join(root, 'native/blas');
const out = join(root, 'dist/native/sae_blas.node');
const sources = ['sae_blas.c', 'binding.gyp'].map((f) => join(dir, f));
const skip = (why) => { console.log(`native BLAS GEMM not built (${why}); training uses the WebAssembly SIMD GEMM`); process.exit(0); };

if (process.env.SAE_WORKBENCH_BLAS && /^(off|0|false|no)$/i.test(process.env.SAE_WORKBENCH_BLAS)) skip('SAE_WORKBENCH_BLAS=off');
if (existsSync(out) && !process.argv.includes('--force') && sources.every((s) => statSync(out).mtimeMs >= statSync(s).mtimeMs)) process.exit(0);

// the C compiler, and OpenBLAS's cblas.h and library, asked of the compiler itself
const [cc, ...ccFlags] = (process.env.CC || 'cc').trim().split(/\s+/);
const probe = spawnSync(cc, [...ccFlags, '-x', 'c', '-', '-o', '/dev/null', '-lopenblas'], {
  input: '#include <cblas.h>\nint main(void) { float a = 1, c = 0; cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1, &a, 1, &a, 1, 0, &c, 1); return 0; }\n',
  encoding: 'utf8',
});
if (probe.error) skip(`no C compiler: ${cc} ${probe.error.code === 'ENOENT' ? 'not found' : probe.error.message}`);
if (probe.status !== 0) skip('cblas.h or libopenblas is missing: install libopenblas-dev (Debian/Ubuntu) and rebuild');

// Node's headers as installed with Node itself (Debian's nodejs: /usr/include/node); npm's nodedir wins
const nodedir = process.env.npm_config_nodedir || resolve(dirname(process.execPath), '..');
if (!existsSync(join(nodedir, 'include/node/node_api.h'))) skip(`Node's headers are not in ${nodedir}/include/node (set npm's nodedir)`);

// npm's bundled node-gyp: from the project, from the npm running us, or from the npm on PATH
function findNodeGyp() {
  const tries = [];
  try { tries.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js')); } catch { /* not a dependency */ }
  if (process.env.npm_execpath) tries.push(join(dirname(process.env.npm_execpath), '..', 'node_modules/node-gyp/bin/node-gyp.js'));
  for (const p of (process.env.PATH ?? '').split(':')) {
    const npm = join(p, 'npm');
    if (existsSync(npm)) { tries.push(join(dirname(realpathSync(npm)), '..', 'node_modules/node-gyp/bin/node-gyp.js')); break; }
  }
  return tries.find((t) => existsSync(t));
}
const gyp = findNodeGyp();
if (!gyp) skip("npm's node-gyp was not found");

const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
const built = join(dir, 'build/Release/sae_blas.node');
if (r.status !== 0 || !existsSync(built)) {
  const last = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').filter((l) => /error/i.test(l)).slice(-1)[0] ?? `node-gyp exited with ${r.status}`;
  skip(`node-gyp failed: ${last.trim()}`);
}
mkdirSync(dirname(out), { recursive: true });
// a new file renamed over the old: a process that has the old addon loaded keeps its mapping intact
copyFileSync(built, `${out}.tmp`);
renameSync(`${out}.tmp`, out);
console.log(`built ${out}`);
