// Builds the native BLAS GEMM addon (native/blas: a Node-API binding of cblas_sgemm) with npm's bundled
// node-gyp, against the Node headers installed with Node (no download), into
// dist/native/<platform>-<arch>/sae_blas.node (the folder the packaged extension carries for linux-x64),
// then makes sure the OpenBLAS runtime library it opens is there.
//
// Building needs only a C compiler and Node's headers: the addon declares the one CBLAS function it calls
// and opens libopenblas.so.0 when it loads, so no BLAS headers (libopenblas-dev) are needed. Running needs
// the runtime library (Debian/Ubuntu: libopenblas0). When it is missing and we are root or have
// password-less sudo, apt-get installs it with a one-line note, as `npm test` does for Chromium; otherwise
// one line says exactly what to run. This step never fails the build: without the addon or the library the
// engine falls back to WebAssembly SIMD and says so.
//   --force rebuilds even when the addon is newer than its sources.
//   SAE_WORKBENCH_BLAS=off skips all of it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, realpathSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dir = join(root, 'native/blas');
const out = join(root, 'dist/native', `${process.platform}-${process.arch}`, 'sae_blas.node');
const sources = ['sae_blas.c', 'binding.gyp'].map((f) => join(dir, f));
const wasmNote = 'training uses the WebAssembly SIMD GEMM';
const skip = (why) => { console.log(`native BLAS GEMM not built (${why}); ${wasmNote}`); process.exit(0); };

if (process.env.SAE_WORKBENCH_BLAS && /^(off|0|false|no)$/i.test(process.env.SAE_WORKBENCH_BLAS)) skip('SAE_WORKBENCH_BLAS=off');

const upToDate = existsSync(out) && !process.argv.includes('--force') && sources.every((s) => statSync(out).mtimeMs >= statSync(s).mtimeMs);
if (!upToDate) build();
ensureRuntime();

function build() {
  // the C compiler, asked to build a program that opens a library (all the addon needs besides Node's headers)
  const [cc, ...ccFlags] = (process.env.CC || 'cc').trim().split(/\s+/);
  const probe = spawnSync(cc, [...ccFlags, '-x', 'c', '-', '-o', '/dev/null', '-ldl'], {
    input: '#include <dlfcn.h>\nint main(void) { return dlopen("x", RTLD_NOW) != 0; }\n',
    encoding: 'utf8',
  });
  const install = 'install one (Debian/Ubuntu: apt-get install gcc libc6-dev) and rebuild';
  if (probe.error) skip(`no C compiler: ${cc} ${probe.error.code === 'ENOENT' ? 'not found' : probe.error.message}; ${install}`);
  if (probe.status !== 0) skip(`the C compiler ${cc} cannot build a program: ${install}`);

  // Node's headers as installed with Node itself (Debian's nodejs: /usr/include/node); npm's nodedir wins
  const nodedir = process.env.npm_config_nodedir || resolve(dirname(process.execPath), '..');
  if (!existsSync(join(nodedir, 'include/node/node_api.h'))) skip(`Node's headers are not in ${nodedir}/include/node (set npm's nodedir)`);

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
}

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

/** Loads the addon in a fresh process: '' when it opens OpenBLAS, else the first line of why not. */
function loadError() {
  const r = spawnSync(process.execPath, ['-e', `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(out)}); console.log(m.exports.library());`], { encoding: 'utf8' });
  return r.status === 0 ? '' : (r.stderr.split('\n').find((l) => /^\w*Error: /.test(l)) ?? `exit ${r.status}`).replace(/^\w*Error: /, '').trim();
}

function ensureRuntime() {
  const err = loadError();
  if (!err) return;
  if (!/OpenBLAS runtime library did not open/.test(err)) skip(`the built addon does not load: ${err}`);
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  const isRoot = process.getuid?.() === 0;
  const sudo = !isRoot && apt && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!apt || !(isRoot || sudo)) {
    const what = apt ? "run 'sudo apt-get install -y libopenblas0'" : 'install OpenBLAS (the library libopenblas.so.0; Fedora: dnf install openblas)';
    console.log(`native BLAS GEMM built, but the OpenBLAS runtime library is missing: ${what} — until then ${wasmNote}`);
    return;
  }
  console.log("installing Debian's libopenblas0 (the OpenBLAS runtime the native BLAS GEMM opens; SAE_WORKBENCH_BLAS=off skips this)...");
  const aptGet = (...args) => spawnSync(sudo ? 'sudo' : 'apt-get', [...(sudo ? ['-n', 'apt-get'] : []), '-o', 'DPkg::Lock::Timeout=300', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  let r = aptGet('install', '-y', '-qq', 'libopenblas0');
  // a fresh machine may have no package lists yet
  if (r.status !== 0) r = aptGet('update', '-qq').status === 0 ? aptGet('install', '-y', '-qq', 'libopenblas0') : r;
  const after = r.status === 0 ? loadError() : `apt-get failed: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}`;
  if (after) console.log(`native BLAS GEMM built, but OpenBLAS could not be installed (${after}); ${wasmNote}`);
}
