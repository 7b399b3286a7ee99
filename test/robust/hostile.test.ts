// `npm run test:robust`: hostile pickles and zips, decompression and header bombs, non-regular files,
// a full disk and bad argument sets, each through the CLI as a user runs it (the bundled build), under
// /usr/bin/time for the peak RSS. Every case: exit 0 or 2 (never 1, never a signal), one line on stderr,
// done within the per-case limit, peak RSS under 300 MB, and nothing executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, closeSync, openSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { saveSaeLens } from '../../src/formats/saelens';
import { writeNpy } from '../../src/io/npy';
import { writeTorchStateDict } from '../fixtures/torchWriter';
import { constantSae } from '../helpers/sae';
import { bombNpz, declareSize, deepSafetensors } from '../helpers/hostile';
import { tempDir } from '../helpers/fixtures';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'sae-workbench.js');
const CASE_LIMIT_MS = 60_000;
const RSS_LIMIT_KB = 300 * 1024;
const dir = tempDir('sae-hostile-');
const marker = join(dir, 'EXECUTED');
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Run { code: number | null; signal: string | null; stderr: string; stdout: string; rssKB: number }

/** The CLI under /usr/bin/time; the RSS line is taken off stderr. */
function cli(args: string[]): Run {
  const rssFile = join(dir, 'rss.txt');
  const r = spawnSync('/usr/bin/time', ['-o', rssFile, '-f', '%M', process.execPath, bin, ...args], { encoding: 'utf8', timeout: CASE_LIMIT_MS, killSignal: 'SIGKILL' });
  const rssKB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : 0;
  // time reports a killed child as "Command terminated by signal N"
  const signal = r.signal ?? (/terminated by signal/.test(readFileSync(rssFile, 'utf8')) ? 'signal' : null);
  return { code: r.status, signal, stderr: r.stderr ?? '', stdout: r.stdout ?? '', rssKB };
}

function expectClean(what: string, r: Run, code: 0 | 2 = 2): void {
  assert.equal(r.signal, null, `${what}: killed (${r.signal}) — a hang past ${CASE_LIMIT_MS} ms?`);
  assert.equal(r.code, code, `${what}: exit ${r.code}: ${r.stderr}`);
  if (code === 2) {
    // progress lines (ending in …) and warnings aside, exactly one error line
    const lines = r.stderr.split('\n').filter((l) => /^(sae-workbench|error):/.test(l));
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.ok(!/internal error/.test(r.stderr), `${what}: ${r.stderr}`);
  }
  assert.ok(r.rssKB > 0 && r.rssKB < RSS_LIMIT_KB, `${what}: peak RSS ${Math.round(r.rssKB / 1024)} MB`);
  assert.ok(!existsSync(marker), `${what}: a pickle executed code`);
}

test('hostile pickles in .pt archives are refused and never executed', () => {
  const cmd = `touch ${marker}`;
  const payloads: [string, string][] = [['os', 'system'], ['posix', 'system'], ['subprocess', 'call'], ['builtins', 'eval'], ['builtins', 'exec'], ['__builtin__', 'eval'], ['torch', 'load'], ['numpy', 'load']];
  for (const [module, name] of payloads) {
    const pt = join(dir, `${module}.${name}.pt`);
    writeTorchStateDict(pt, [['W', { dtype: 'F32', shape: [2], data: new Float32Array(2) }]], (w) => {
      w.global(module, name).op(0x28).str(name === 'eval' || name === 'exec' ? `__import__('os').system('${cmd}')` : cmd).op(0x74, 0x52, 0x30);
    });
    expectClean(`${module}.${name}`, cli(['inspect', pt]));
  }
});

test('bombs: inflated sizes past the directory, storages and pickles past their caps, huge and deep headers', () => {
  const cases: [string, Uint8Array | (() => void)][] = [];
  // an .npz whose directory says 1 KiB and whose entry inflates to 64 MiB
  cases.push(['npz-lies.npz', declareSize(bombNpz(64 * 2 ** 20), 1024)]);
  // a .pt whose 8-byte storage inflates to 64 MiB (directory: 8 bytes)
  const good = join(dir, 'good.pt');
  writeTorchStateDict(good, [['W', { dtype: 'F32', shape: [2], data: new Float32Array(2) }]]);
  const bomb = zipSync({ 'good/data.pkl': readZipEntry(good, 'good/data.pkl'), 'good/data/0': [new Uint8Array(64 * 2 ** 20), { level: 6 }] });
  cases.push(['storage-bomb.pt', patchEntrySize(bomb, 'good/data/0', 8)]);
  // a .pt whose data.pkl declares 2 GiB (refused before inflating)
  cases.push(['pickle-2g.pt', patchEntrySize(zipSync({ 'good/data.pkl': [new Uint8Array(1 << 20), { level: 6 }] }), 'good/data.pkl', 2 ** 31)]);
  cases.push(['deep.safetensors', deepSafetensors(100_000)]);
  for (const [name, bytes] of cases) {
    writeFileSync(join(dir, name), bytes as Uint8Array);
    const t0 = Date.now();
    const r = cli(['inspect', join(dir, name)]);
    expectClean(name, r);
    assert.ok(Date.now() - t0 < 20_000, `${name}: ${Date.now() - t0} ms`);
  }
  // a 100 MB safetensors header (sparse file): refused by its length alone
  const huge = join(dir, 'huge-header.safetensors');
  const fd = openSync(huge, 'w');
  const len = Buffer.alloc(8); len.writeBigUInt64LE(100_000_000n);
  writeSync(fd, len); ftruncateSync(fd, 8 + 100_000_000 + 16); closeSync(fd);
  expectClean('100 MB header', cli(['inspect', huge]));
});

test('FIFOs and devices given to inspect, train, eval, convert and diagnose: one line, exit 2, no hang', () => {
  const sae = join(dir, 'fifo-sae');
  saveSaeLens(constantSae('relu', 4, 8, 0.5, false), sae);
  const fifo = join(dir, 'acts.npy');
  execFileSync('mkfifo', [fifo]);
  const zeroNpz = join(dir, 'zero.npz');
  execFileSync('ln', ['-s', '/dev/zero', zeroNpz]);
  for (const args of [
    ['inspect', fifo], ['inspect', zeroNpz], ['inspect', '/dev/zero'],
    ['train', '--activations', fifo, '--out', join(dir, 'fifo-out'), '--width', '8', '--threads', '1'],
    ['eval', '--sae', sae, '--activations', fifo], ['eval', '--sae', zeroNpz, '--activations', fifo],
    ['convert', fifo, '--to', join(dir, 'fifo-conv')], ['convert', zeroNpz, '--to', join(dir, 'zero-conv')],
    ['diagnose', '--sae', sae, '--activations', fifo],
  ]) expectClean(args.join(' '), cli(args));
});

test('bad argument sets: the error and a hint (never the whole help), exit 2; --out/--to naming a file or /dev/null', () => {
  const sae = join(dir, 'args-sae');
  saveSaeLens(constantSae('relu', 4, 8, 0.5, false), sae);
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const sets = [
    ['frobnicate'], ['convert'], ['train'], ['eval', '--sae'], ['synth'], ['inspect'], ['train', '--out', file, '--width', 'x'],
    ['train', '--activations', file, '--out', file, '--width', '8'], ['convert', sae, '--to', file], ['convert', sae, '--to', '/dev/null'],
    ['synth', 'superposition', '--out', '/dev/null'], ['synth', 'superposition', '--out', file], ['report', '--sae', sae, '--out', '/dev/null'],
    ['eval', '--sae', sae, '--activations', join(dir, 'missing.npy')], ['train', '--arch', 'nope', '--out', join(dir, 'o'), '--width', '8', '--activations', file],
    ['inspect', '--bogus-option', sae], ['tree', '--sae', sae],
  ];
  for (const args of sets) {
    const r = cli(args);
    expectClean(args.join(' '), r);
    assert.ok(!/Usage:/.test(r.stderr) && !/Options:/.test(r.stderr), `${args.join(' ')}: printed the help: ${r.stderr}`);
  }
  assert.ok(readFileSync('/dev/null').length === 0 && spawnSync('test', ['-c', '/dev/null']).status === 0, '/dev/null is still a device');
});

test('a full disk (tmpfs when root): the run is kept and the exit is 2 saying where; no torn log; convert, synth, report exit 2', (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root for a tmpfs mount'); return; }
  const mnt = join(dir, 'full');
  mkdirSync(mnt);
  const acts = join(dir, 'acts-real.npy');
  const rows = 4096, d = 64;
  writeNpy(acts, { dtype: 'F32', shape: [rows, d], data: Float32Array.from({ length: rows * d }, (_, i) => Math.sin(i * 0.37)) });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  try {
    // 64 × 4096 latents: ~2 MiB of weights, ~6 MiB of checkpoint; the disk holds 1 MiB.
    const out = join(mnt, 'sae');
    const r = cli(['train', '--activations', acts, '--out', out, '--arch', 'topk', '--k', '4', '--width', '4096', '--batch', '512', '--tokens', '2048', '--threads', '1', '--checkpoint-every', '100000']);
    expectClean('train on a full disk', r);
    const where = /saved to (\S+) instead/.exec(r.stderr)?.[1] ?? /kept in (\S+?):/.exec(r.stderr)?.[1];
    assert.ok(where && existsSync(where), r.stderr);
    if (/saved to/.test(r.stderr)) {
      expectClean('the fallback loads', cli(['inspect', where!]), 0);
      rmSync(where!, { recursive: true, force: true });
    }
    const log = join(out, 'training_log.jsonl');
    if (existsSync(log)) for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) JSON.parse(line);
    assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('.')), [], 'no temporaries left');
    // fill what is left, then convert, synth and report into it
    const filler = openSync(join(mnt, 'filler'), 'w');
    try { for (;;) writeSync(filler, Buffer.alloc(64 * 1024)); } catch { /* full */ } finally { closeSync(filler); }
    const big = join(dir, 'big-sae');
    saveSaeLens(constantSae('relu', 64, 4096, 0.5, false), big);
    expectClean('convert on a full disk', cli(['convert', big, '--to', join(mnt, 'conv')]));
    expectClean('synth on a full disk', cli(['synth', 'superposition', '--out', join(mnt, 'synth'), '--tokens', '100000']));
    expectClean('report on a full disk', cli(['report', '--sae', big, '--out', join(mnt, 'r.html')]));
  } finally {
    execFileSync('umount', ['-l', mnt]);
  }
});

/** The stored bytes of one entry of a zip written by fflate (stored entries only). */
function readZipEntry(path: string, name: string): Uint8Array {
  const b = readFileSync(path);
  const i = b.indexOf(Buffer.from(name));
  const local = i - 30;
  const size = b.readUInt32LE(local + 18);
  return new Uint8Array(b.subarray(i + name.length + b.readUInt16LE(local + 28), i + name.length + b.readUInt16LE(local + 28) + size));
}

/** Sets the uncompressed size the central directory declares for one entry. */
function patchEntrySize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const z = Buffer.from(zip);
  for (let i = z.indexOf(Buffer.from([0x50, 0x4b, 1, 2])); i >= 0; i = z.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), i + 4)) {
    if (z.subarray(i + 46, i + 46 + name.length).toString() === name) z.writeUInt32LE(size, i + 24);
  }
  return new Uint8Array(z);
}
