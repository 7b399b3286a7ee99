/**
 * The zip reader's zip64 paths, which real archives over 4 GB use (torch writes zip64 records): a stored
 * archive is rewritten with a zip64 end record + locator, saturated 32-bit fields in the classic end
 * record, and zip64 extra fields carrying every entry's sizes and offset. It must read the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { ZipReader } from '../../../src/io/zip';
import { isInputError } from '../../../src/errors';

function toZip64(zip: Uint8Array): Uint8Array {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (dv.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const count = dv.getUint16(eocd + 10, true), cdOffset = dv.getUint32(eocd + 16, true);
  // rebuild the central directory with saturated sizes/offsets and a zip64 extra field per entry
  const entries: Uint8Array[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    const head = zip.slice(p, p + 46);
    const hv = new DataView(head.buffer);
    const comp = hv.getUint32(20, true), size = hv.getUint32(24, true), off = hv.getUint32(42, true);
    hv.setUint32(20, 0xffffffff, true); hv.setUint32(24, 0xffffffff, true); hv.setUint32(42, 0xffffffff, true);
    const extra = new Uint8Array(4 + 24);
    const ev = new DataView(extra.buffer);
    ev.setUint16(0, 0x0001, true); ev.setUint16(2, 24, true);
    ev.setBigUint64(4, BigInt(size), true); ev.setBigUint64(12, BigInt(comp), true); ev.setBigUint64(20, BigInt(off), true);
    hv.setUint16(30, extra.length, true); hv.setUint16(32, 0, true);
    entries.push(head, zip.slice(p + 46, p + 46 + nameLen), extra);
    p += 46 + nameLen + extraLen + commentLen;
  }
  const cd = Buffer.concat(entries);
  const z64 = new Uint8Array(56), zv = new DataView(z64.buffer);
  zv.setUint32(0, 0x06064b50, true); zv.setBigUint64(4, 44n, true); zv.setUint16(12, 45, true); zv.setUint16(14, 45, true);
  zv.setBigUint64(24, BigInt(count), true); zv.setBigUint64(32, BigInt(count), true);
  zv.setBigUint64(40, BigInt(cd.length), true); zv.setBigUint64(48, BigInt(cdOffset), true);
  const loc = new Uint8Array(20), lv = new DataView(loc.buffer);
  lv.setUint32(0, 0x07064b50, true); lv.setBigUint64(8, BigInt(cdOffset + cd.length), true); lv.setUint32(16, 1, true);
  const end = new Uint8Array(22), nv = new DataView(end.buffer);
  nv.setUint32(0, 0x06054b50, true); nv.setUint16(8, 0xffff, true); nv.setUint16(10, 0xffff, true);
  nv.setUint32(12, 0xffffffff, true); nv.setUint32(16, 0xffffffff, true);
  return Buffer.concat([zip.subarray(0, cdOffset), cd, z64, loc, end]);
}

test('zip64 end records and extra fields are read like the classic ones', () => {
  const a = Uint8Array.from({ length: 1000 }, (_, i) => i % 251), b = new TextEncoder().encode('hello');
  const classic = zipSync({ 'x/data/0': [a, { level: 0 }], 'x/data.pkl': [b, { level: 6 }] });
  const dir = mkdtempSync(join(tmpdir(), 'saewb-zip-'));
  for (const [name, bytes] of [['classic.zip', classic], ['zip64.zip', toZip64(classic)]] as const) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const z = new ZipReader(path);
    try {
      assert.deepEqual([...z.entries.keys()].sort(), ['x/data.pkl', 'x/data/0'], name);
      assert.deepEqual(z.read('x/data/0'), a, name);
      assert.deepEqual(z.read('x/data.pkl'), b, name);
      assert.throws(() => z.read('nope'), (e: unknown) => isInputError(e) && /has no entry 'nope'/.test((e as Error).message));
    } finally {
      z.close();
    }
  }
  const broken = toZip64(classic);
  new DataView(broken.buffer, broken.byteOffset).setUint32(broken.length - 22 - 20 - 56, 0, true); // break the zip64 end record
  const path = join(dir, 'broken.zip');
  writeFileSync(path, broken);
  assert.throws(() => { const z = new ZipReader(path); try { z.read('x/data/0'); } finally { z.close(); } }, (e: unknown) => isInputError(e) && /broken\.zip: /.test((e as Error).message));
});
