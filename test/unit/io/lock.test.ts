import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from '../../../src/io/lock';
import { isInputError } from '../../../src/errors';

test('a lock left by a dead process or an old one is taken over; a live one times out with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sae-lock-'));
  try {
    const file = join(dir, 'annotations.json');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: Number(dead.stdout), host: hostname() }));
    assert.equal(withFileLock(file, () => 'ran'), 'ran');
    assert.ok(!existsSync(`${file}.lock`), 'released');
    // Held by a live process (the parent of this test) and fresh: we wait, then give up with an InputError.
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.ppid, host: hostname() }));
    assert.throws(() => withFileLock(file, () => 'ran', { timeoutMs: 200 }), (e: unknown) => isInputError(e) && /another process holds/.test(e.problem));
    // The same lock, once older than staleMs, is taken over.
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    assert.equal(withFileLock(file, () => 'ran', { timeoutMs: 200 }), 'ran');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
