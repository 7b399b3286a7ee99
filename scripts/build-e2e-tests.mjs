// Bundles the end-to-end suite with esbuild: the mocha entry (test/e2e/index.ts) and the fixture builder
// (test/e2e/fixtures.ts) into out/e2e/, each test/e2e/suite/*.test.ts into out/e2e/suite/. Used by
// scripts/e2e.mjs and, with `--workspace <dir>`, by the "Extension Tests" launch configuration (which also
// needs the fixture workspace the suite expects, written afresh into <dir>).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** Bundles the suite into `out` (emptied first). */
export async function buildE2eTests(out) {
  rmSync(join(out, 'suite'), { recursive: true, force: true });
  const suiteDir = join(root, 'test', 'e2e', 'suite');
  const nodeBuild = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'inline', logLevel: 'warning', absWorkingDir: root, external: ['vscode', 'mocha'] };
  await esbuild.build({ ...nodeBuild, entryPoints: { index: 'test/e2e/index.ts', fixtures: 'test/e2e/fixtures.ts' }, outdir: out });
  await esbuild.build({ ...nodeBuild, entryPoints: readdirSync(suiteDir).filter((f) => f.endsWith('.test.ts')).map((f) => `test/e2e/suite/${f}`), outdir: join(out, 'suite') });
}

/** Writes the fixture workspace into `dir` (emptied first); returns what fixtures.js reports. */
export function makeWorkspace(out, dir) {
  rmSync(dir, { recursive: true, force: true });
  const fx = spawnSync(process.execPath, [join(out, 'fixtures.js'), dir], { encoding: 'utf8' });
  if (fx.status !== 0) throw new Error(`the e2e fixture builder failed:\n${fx.stderr}`);
  return JSON.parse(fx.stdout);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = join(root, 'out', 'e2e');
  await buildE2eTests(out);
  const w = process.argv.indexOf('--workspace');
  if (w > 0) makeWorkspace(out, resolve(root, process.argv[w + 1]));
  console.log(`built ${out}${w > 0 ? ` and the workspace ${process.argv[w + 1]}` : ''}`);
}
