// Worker entry points follow one rule, which the build (scripts/build.mjs bundles src/**/*.worker.ts) and
// src/runtime/workerPath.ts rely on: a file that runs as a worker thread (it reads parentPort or workerData)
// is named <name>.worker.ts, and every <name>.worker.ts is such an entry. A worker entry named otherwise
// would run from source in tests and be missing from the packaged extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { workerFile } from '../../../src/runtime/workerPath';

const root = join(__dirname, '..', '..', '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'assembly') sources(p, out); } else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Reads parentPort or workerData from worker_threads' import: the file runs as a worker thread. */
const isEntry = (text: string): boolean => /import\s*\{[^}]*\b(parentPort|workerData)\b[^}]*\}\s*from\s*'node:worker_threads'/.test(text);

test('a file runs as a worker thread exactly when it is named *.worker.ts', () => {
  const files = sources(join(root, 'src'));
  assert.ok(files.length > 50, 'walked src/');
  const wrong: string[] = [];
  for (const f of files) {
    const entry = isEntry(readFileSync(f, 'utf8'));
    if (entry !== f.endsWith('.worker.ts')) wrong.push(`${relative(root, f)} (${entry ? 'reads parentPort/workerData but is not named *.worker.ts' : 'is named *.worker.ts but reads neither parentPort nor workerData'})`);
  }
  assert.deepEqual(wrong, []);
});

test('the workers workerPath starts from source exist', () => {
  for (const name of ['trainer', 'kernel', 'diagnosticsPool'] as const) {
    const { file, fromSource } = workerFile(name);
    assert.ok(fromSource && file.endsWith(`${name}.worker.ts`) && existsSync(file), `${name}: ${file}`);
  }
});
