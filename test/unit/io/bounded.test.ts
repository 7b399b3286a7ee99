// Bounded reading: CRCs checked, decompression capped before the work, deep headers and non-regular
// files refused with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpz, readNpy } from '../../../src/io/npy';
import { readSafetensors, readSafetensorsHeader } from '../../../src/io/safetensors';
import { isInputError } from '../../../src/errors';
import { tempDir } from '../../helpers/fixtures';
import { bombNpz, declareSize, deepSafetensors, npzBytes } from '../../helpers/hostile';

const dir = tempDir('sae-bounded-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

const refuses = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isInputError(e) && re.test(e.message) && !e.message.includes('\n'), String(re));

test('an .npz with one flipped data byte is refused (bad CRC-32); stored and deflated', () => {
  const values = Float32Array.from({ length: 64 }, (_, i) => i / 64);
  for (const level of [0, 6] as const) {
    const good = npzBytes(values, level);
    writeFileSync(join(dir, 'good.npz'), good);
    assert.deepEqual(Array.from(readNpz(join(dir, 'good.npz')).get('W_enc')!.data as Float32Array), Array.from(values));
    const bad = good.slice();
    // a byte inside the entry's data (past the 30-byte local header and the name)
    bad[30 + 'W_enc.npy'.length + (level === 0 ? 140 : 20)]! ^= 0x10;
    writeFileSync(join(dir, 'bad.npz'), bad);
    refuses(() => readNpz(join(dir, 'bad.npz')), level === 0 ? /bad CRC-32/ : /bad CRC-32|corrupt|bytes/);
  }
});

test('an entry that inflates past its declared size is refused at once, not after inflating it all', () => {
  writeFileSync(join(dir, 'bomb.npz'), declareSize(bombNpz(256 * 2 ** 20), 1024));
  const t0 = process.hrtime.bigint();
  refuses(() => readNpz(join(dir, 'bomb.npz')), /inflates to more than the 1024 bytes/);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // One 16 KiB chunk of input at most: a few milliseconds; the whole 256 MiB would take seconds.
  assert.ok(ms < 2000, `${ms} ms`);
});

test('a safetensors header nested 100,000 deep is one line, not a stack overflow', () => {
  writeFileSync(join(dir, 'deep.safetensors'), deepSafetensors(100_000));
  refuses(() => readSafetensors(join(dir, 'deep.safetensors')), /nests deeper than 8 levels/);
  refuses(() => readSafetensorsHeader(join(dir, 'deep.safetensors')), /nests deeper than 8 levels/);
});

test('FIFOs and devices are refused up front, without blocking or reading forever', () => {
  const fifo = join(dir, 'acts.npy');
  execFileSync('mkfifo', [fifo]);
  refuses(() => readNpy(fifo), /is a FIFO \(named pipe\), not a regular file/);
  refuses(() => readSafetensorsHeader(fifo), /is a FIFO/);
  refuses(() => readNpz('/dev/zero'), /\/dev\/zero: is a device, not a regular file/);
});
