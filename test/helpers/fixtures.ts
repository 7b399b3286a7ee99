/** Runs a Python fixture script (numpy only) into a fresh temp folder, once per process and script. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Map<string, string>();

/** Returns the folder the script wrote to. Throws (failing the test) if python3 or numpy is missing. */
export function pythonFixtures(script: string): string {
  const cached = made.get(script);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'saewb-fx-'));
  const path = join(__dirname, '..', 'fixtures', script);
  const r = spawnSync('python3', [path, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fixture script ${script} failed (python3 with numpy is required): ${r.stderr || r.error}`);
  made.set(script, dir);
  return dir;
}

export function readManifest<T>(dir: string): T {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as T;
}

export function tempDir(prefix = 'saewb-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
