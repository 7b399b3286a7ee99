// `npm run package`: the installable extension, sae-workbench-<version>.vsix in the repository root, made by
// @vscode/vsce (which runs `vscode:prepublish`, the production build). The bundles in dist/ hold every
// dependency, so node_modules stays out (--no-dependencies); .vscodeignore keeps sources, tests and
// benches out. The .vsix carries the native BLAS addon built for linux-x64 (dist/native/linux-x64); other
// platforms run the WebAssembly SIMD engine and say so in the output channel. Then the package is checked:
// under 30 MB, with the manifest, the bundles and, when built here, the addon.
//   --out <file> writes elsewhere.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { unzipSync } from 'fflate';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, `${pkg.name}-${pkg.version}.vsix`);
const LIMIT_MB = 30;
const ADDON = 'extension/dist/native/linux-x64/sae_blas.node';

const vsce = createRequire(join(root, 'package.json')).resolve('@vscode/vsce/vsce');
const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', out], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) { console.error('package: vsce failed'); process.exit(r.status ?? 1); }

// the zip's entry names (nothing decompressed)
const names = new Set();
unzipSync(readFileSync(out), { filter: (f) => { names.add(f.name); return false; } });
const mb = statSync(out).size / 2 ** 20;
const problems = [];
if (mb >= LIMIT_MB) problems.push(`it is ${mb.toFixed(1)} MB, over the ${LIMIT_MB} MB limit`);
if (!names.has('extension/package.json')) problems.push('it has no extension/package.json');
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
if (!names.has(ADDON)) {
  const why = `it carries no native BLAS addon (${ADDON}): users on linux-x64 would get the WebAssembly engine`;
  if (linuxX64 && !process.env.SAE_PACKAGE_WITHOUT_BLAS) problems.push(`${why}; npm run build prints why it was not built (SAE_PACKAGE_WITHOUT_BLAS=1 packages anyway)`);
  else console.log(`package: note: ${why}`);
}
if (problems.length) { console.error(`package: ${out}: ${problems.join('; ')}`); process.exit(1); }
console.log(`package: ${out} (${mb.toFixed(2)} MB, ${names.size} files${names.has(ADDON) ? ', with the linux-x64 BLAS addon' : ''})`);
