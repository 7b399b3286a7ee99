/**
 * A lock file beside a file that several processes read-merge-write (annotations.json): created with
 * O_EXCL, so exactly one process holds it. It names its holder (pid, host, time); a lock whose holder
 * process is gone (same host) or that is older than `staleMs` is stale and is taken over, so a writer
 * killed while holding it does not block everyone after it. Synchronous, because its callers are.
 */
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, linkSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors';

export interface LockOptions {
  /** How long to wait for a live holder before giving up. */
  timeoutMs?: number;
  /** A lock older than this is taken over even if its holder seems alive (holders keep it for milliseconds). */
  staleMs?: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void { Atomics.wait(sleeper, 0, 0, ms); }

function holderGone(text: string): boolean {
  try {
    const h = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (h.host !== hostname() || typeof h.pid !== 'number') return false;
    if (h.pid === process.pid) return false;
    try { process.kill(h.pid, 0); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ESRCH'; }
  } catch {
    // Unreadable or half-written: judged by its age alone.
    return false;
  }
}

/** Removes `lock` if it is (still) the stale lock whose content we read; a fresh lock that replaced it in between is put back. */
function breakStale(lock: string, staleText: string): void {
  const aside = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try { renameSync(lock, aside); } catch { return; }
  let moved = '';
  try { moved = readFileSync(aside, 'utf8'); } catch { /* gone: nothing to restore */ }
  if (moved !== staleText) {
    // Another process took the lock between our read and our rename: give it back.
    try { linkSync(aside, lock); } catch { /* someone else holds the path now; theirs stands */ }
  }
  try { unlinkSync(aside); } catch { /* already gone */ }
}

/** Runs `fn` while holding `${path}.lock`. */
export function withFileLock<T>(path: string, fn: () => T, opts: LockOptions = {}): T {
  const lock = `${path}.lock`;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const staleMs = opts.staleMs ?? 5_000;
  const start = Date.now();
  const me = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), nonce: randomBytes(4).toString('hex') });
  let wait = 1;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new InputError(path, `cannot create the lock file ${lock} (${code ?? (e as Error).message})`);
    }
    if (fd !== undefined) {
      try { writeSync(fd, me); } finally { closeSync(fd); }
      break;
    }
    let text = '';
    let age = 0;
    try {
      text = readFileSync(lock, 'utf8');
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue; // released between our open and our read: try again at once
    }
    if (holderGone(text) || age > staleMs) { breakStale(lock, text); continue; }
    if (Date.now() - start > timeoutMs) throw new InputError(path, `another process holds ${lock} (for ${Math.round(age / 1000)} s); try again, or remove the lock file if no SAE Workbench process is running`);
    sleep(wait);
    wait = Math.min(wait * 2, 20) + Math.random() * 2;
  }
  try {
    return fn();
  } finally {
    // Only remove the lock if it is still ours (a holder that overran staleMs may have been taken over).
    try { if (readFileSync(lock, 'utf8') === me) unlinkSync(lock); } catch { /* already gone */ }
  }
}
