// Bundles every part of the product with esbuild. Entry points are discovered by convention so a new
// panel or worker needs no edit here:
//   extension/extension.ts        -> dist/extension/extension.js   (node, cjs, `vscode` external)
//   src/cli/main.ts               -> dist/cli/cli.js               (node, cjs)
//   src/**/*.worker.ts            -> dist/workers/<name>.js        (node, cjs; worker_threads entry)
//   webviews/<panel>/main.ts      -> dist/webviews/<panel>.js      (browser, iife)
//   scripts/prebuild/*.mjs        run first (e.g. the AssemblyScript kernels), in name order
import * as esbuild from 'esbuild';
import { readdirSync, existsSync, statSync } from 'node:fs';
import { join, basename, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const prebuildDir = join(root, 'scripts', 'prebuild');
for (const step of existsSync(prebuildDir) ? readdirSync(prebuildDir).filter((f) => f.endsWith('.mjs')).sort() : []) {
  const r = spawnSync(process.execPath, [join(prebuildDir, step)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const common = { bundle: true, sourcemap: true, minify: production, logLevel: 'warning', absWorkingDir: root };
const nodeCommon = { ...common, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', '@tensorflow/tfjs-node'] };

const workers = walk(join(root, 'src')).filter((f) => f.endsWith('.worker.ts'));
const webviews = existsSync(join(root, 'webviews'))
  ? readdirSync(join(root, 'webviews')).filter((d) => existsSync(join(root, 'webviews', d, 'main.ts')))
  : [];

const builds = [
  { ...nodeCommon, entryPoints: { 'extension/extension': 'extension/extension.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { 'cli/cli': 'src/cli/main.ts' }, outdir: 'dist' },
];
if (workers.length) {
  builds.push({
    ...nodeCommon,
    entryPoints: Object.fromEntries(workers.map((f) => [`workers/${basename(f, '.ts')}`, relative(root, f)])),
    outdir: 'dist',
  });
}
if (webviews.length) {
  builds.push({
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: Object.fromEntries(webviews.map((d) => [`webviews/${d}`, `webviews/${d}/main.ts`])),
    outdir: 'dist',
    loader: { '.css': 'css', '.ttf': 'file' },
    // fonts (codicons) next to the bundles, inside the webviews' localResourceRoots
    assetNames: 'webviews/[name]-[hash]',
  });
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[watch] build finished, watching for changes...');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`built: extension, cli, ${workers.length} worker(s), ${webviews.length} webview(s)`);
}
