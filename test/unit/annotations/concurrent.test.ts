// Two writer processes and an external editor against one annotations.json, all at once: every update
// any of them made must be in the file at the end (the lock serialises our writers; the move-aside/link
// write never replaces a version unread; a stale external save loses nothing because absence is not
// deletion and its unchanged entries are recognised as old copies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAnnotations } from '../../../src/annotations/validate';

const script = join(__dirname, '..', '..', 'helpers', 'annotationWriter.ts');
const UPDATES = 200;

function child(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += String(d); });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${args[0]} hung: ${err}`)); }, 120_000);
    p.on('exit', (code) => { clearTimeout(timer); if (code === 0) resolve(); else reject(new Error(`${args[0]} exited ${code}: ${err}`)); });
  });
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

const scenarios: { name: string; a: [string, number[]]; b: [string, number[]]; editor: number[] }[] = [
  { name: 'different latents', a: ['label', range(0, UPDATES)], b: ['label', range(UPDATES, UPDATES)], editor: range(0, 2 * UPDATES).filter((i) => i % 4 === 1) },
  { name: 'different fields of the same latents', a: ['label', range(0, UPDATES)], b: ['description', range(0, UPDATES)], editor: range(0, UPDATES).filter((i) => i % 2 === 0) },
  { name: 'overlapping latents', a: ['label', range(0, UPDATES)], b: ['description', range(UPDATES / 2, UPDATES)], editor: range(UPDATES / 4, UPDATES) },
];

for (const [n, s] of scenarios.entries()) {
  const seed = 1000 + n;
  test(`concurrent annotation writers + external editor, seed ${seed} (${s.name}): 0 lost updates`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sae-ann-race-'));
    try {
      await Promise.all([
        child(['writer', dir, String(seed), s.a[0], s.a[1].join(',')]),
        child(['writer', dir, String(seed * 7), s.b[0], s.b[1].join(',')]),
        child(['editor', dir, String(seed * 13), '', s.editor.join(',')]),
      ]);
      const path = join(dir, 'annotations.json');
      const doc = parseAnnotations(readFileSync(path, 'utf8'), path);
      const byIndex = new Map(doc.annotations.map((a) => [a.index, a]));
      const lost: string[] = [];
      for (const [field, latents] of [s.a, s.b]) {
        latents.forEach((latent, i) => {
          const got = byIndex.get(latent)?.[field as 'label' | 'description'];
          // A writer may set the same field of a latent twice only in distinct scenarios; the last i wins.
          if (got !== `${field}-${i}` && latents.lastIndexOf(latent) === i) lost.push(`${field} of ${latent}: ${got}`);
        });
      }
      s.editor.forEach((latent, i) => { if (!byIndex.get(latent)?.tags.includes(`ed-${i}`)) lost.push(`tag ed-${i} of ${latent}`); });
      const total = s.a[1].length + s.b[1].length + s.editor.length;
      assert.deepEqual(lost, [], `${lost.length} of ${total} updates lost`);
      assert.deepEqual(readdirSync(dir).filter((f) => /\.(tmp|aside|lock)$/.test(f)), [], 'no temporaries or lock left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
