/**
 * Fuzz: seeded mutations (byte flips aimed at headers, length fields overwritten, truncations) of every
 * fixture file — .pt archives, safetensors, .npz, cfg/config JSON, Arrow shards. Each mutated copy either
 * loads (and then encodes without error) or fails with an InputError: never a TypeError/RangeError, never
 * a hang (the test has a timeout), never anything executed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isInputError } from '../../../src/errors';
import { loadModel } from '../../../src/formats';
import { encode } from '../../../src/sae/forward';
import { encodeCrosscoder } from '../../../src/sae/crosscoder';
import { openActivationCache, readActivationCache } from '../../../src/io/arrow';
import { writeActivationCache } from '../../fixtures/arrowCache';
import { pythonFixtures, rng } from './helpers';

const fx = pythonFixtures();
const skip = typeof fx === 'string' ? fx : false;

/** One mutated copy of `bytes`, and a description of what was done. */
function mutate(bytes: Uint8Array, rand: () => number, isJson: boolean): { out: Uint8Array; how: string } {
  const n = bytes.length;
  const at = (): number => {
    const r = rand();
    // structure lives at the ends: headers and pickles near the start, the zip directory at the end
    return r < 0.45 ? Math.floor(rand() * Math.min(n, 600)) : r < 0.75 ? Math.max(0, n - 1 - Math.floor(rand() * Math.min(n, 300))) : Math.floor(rand() * n);
  };
  const kind = Math.floor(rand() * (isJson ? 4 : 3));
  const out = bytes.slice();
  if (kind === 0) {
    const cut = Math.floor(rand() * n);
    return { out: bytes.slice(0, cut), how: `truncated to ${cut}` };
  }
  if (kind === 1) {
    const flips: number[] = [];
    for (let i = 0, m = 1 + Math.floor(rand() * 4); i < m; i++) { const p = at(); out[p] = Math.floor(rand() * 256); flips.push(p); }
    return { out, how: `bytes changed at ${flips.join(',')}` };
  }
  if (kind === 2) {
    const p = Math.min(at(), Math.max(0, n - 4));
    const fill = [0xff, 0x00, 0x7f, Math.floor(rand() * 256)][Math.floor(rand() * 4)]!;
    for (let i = 0; i < 4 && p + i < n; i++) out[p + i] = fill;
    return { out, how: `4 bytes at ${p} set to ${fill}` };
  }
  // JSON: swap a digit run for a surprising value
  const text = Buffer.from(bytes).toString('utf8');
  const nums = [...text.matchAll(/-?\d+(\.\d+)?/g)];
  if (!nums.length) return { out, how: 'unchanged' };
  const m = nums[Math.floor(rand() * nums.length)]!;
  const repl = ['0', '-1', '1e9', '"x"', 'null', '[]', '3.5', '99999999999999999999'][Math.floor(rand() * 8)]!;
  return { out: Buffer.from(text.slice(0, m.index) + repl + text.slice(m.index! + m[0].length)), how: `number ${m[0]} → ${repl}` };
}

function checkLoads(path: string, what: string): 'ok' | 'refused' {
  try {
    const loaded = loadModel(path);
    if (loaded.kind === 'sae') encode(loaded.sae, new Float32Array(2 * loaded.sae.cfg.dIn).fill(0.5), 2);
    else encodeCrosscoder(loaded.crosscoder, new Float32Array(2 * loaded.crosscoder.cfg.nSources * loaded.crosscoder.cfg.dIn).fill(0.5), 2);
    return 'ok';
  } catch (e) {
    if (isInputError(e)) {
      assert.ok(!(e as Error).message.includes('\n'), `${what}: one-line message`);
      return 'refused';
    }
    assert.fail(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
  }
}

test('fuzz: mutated and truncated copies of every SAE fixture fail only with InputErrors', { skip, timeout: 120_000 }, () => {
  const { dir, cases } = fx as Exclude<typeof fx, string>;
  // every fixture: each case's folder (all its files) or file, plus the square transcoder and a hostile .pt
  const units: [string, string[]][] = [...cases.map((c) => c.path), 'transcoders/square_layer_0.safetensors', 'hostile_os_system.pt'].map((rel) => {
    const full = join(dir, rel);
    return [rel, statSync(full).isDirectory() ? readdirSync(full).sort() : ['']];
  });
  const rand = rng(20261122);
  const work = mkdtempSync(join(tmpdir(), 'saewb-fuzz-'));
  let total = 0, refused = 0;
  for (const [unit, files] of units) {
    const copy = join(work, basename(unit));
    cpSync(join(dir, unit), copy, { recursive: true });
    for (const file of files) {
      const target = file ? join(copy, file) : copy;
      const original = new Uint8Array(readFileSync(target)); // a copy: Buffer.slice would be a view
      for (let i = 0; i < 22; i++) {
        const { out, how } = mutate(original, rand, file.endsWith('.json'));
        writeFileSync(target, out);
        if (checkLoads(copy, `${unit}/${file}: ${how}`) === 'refused') refused++;
        total++;
      }
      writeFileSync(target, original);
      if (!/square|hostile/.test(unit)) try { loadModel(copy); } catch (e) { assert.fail(`${unit} restored: ${(e as Error).message}`); }
    }
  }
  assert.ok(total >= 400, `${total} cases`);
  assert.ok(refused > total / 3, `most mutations hit structure: ${refused} of ${total} refused`);
});

test('fuzz: mutated Arrow activation-cache shards fail only with InputErrors', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-fuzz-arrow-'));
  writeActivationCache(dir, { hookName: 'blocks.1.hook_resid_post', contextSize: 4, dIn: 8, seqPerShard: [3] });
  const shard = join(dir, 'data-00000-of-00001.arrow');
  const original = new Uint8Array(readFileSync(shard)); // a copy: Buffer.slice would be a view
  const rand = rng(7);
  let refused = 0;
  for (let i = 0; i < 80; i++) {
    const { out, how } = mutate(original, rand, false);
    writeFileSync(shard, out);
    try {
      for await (const b of readActivationCache(openActivationCache(dir))) assert.ok(b.rows.length > 0);
    } catch (e) {
      if (!isInputError(e)) assert.fail(`${how}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      refused++;
    }
  }
  assert.ok(refused > 10, `${refused} refused`);
});
