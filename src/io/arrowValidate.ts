/**
 * Bounds-checks an Arrow IPC stream before apache-arrow decodes it. apache-arrow trusts the flatbuffer
 * lengths in message headers (`Array.from({length: nodesLength()})` and the like), so one corrupt length
 * makes it allocate gigabytes or trip a fatal V8 "invalid size" abort — which would take the extension
 * host down. This walks every message's flatbuffer (Message, Schema, Field, KeyValue, RecordBatch,
 * DictionaryBatch: the tables with vectors) and checks each offset and vector lies inside the metadata,
 * each body lies inside the file, each buffer inside its body, and each node length is possible for the
 * bytes present. Found by the fuzz test; see test/unit/formats/fuzz.test.ts.
 */
import { InputError } from '../errors';

const MAX_DEPTH = 64;
const MAX_TABLES = 100_000;

class FlatbufferCheck {
  private tables = 0;
  private readonly dv: DataView;
  constructor(private readonly buf: Uint8Array, private readonly fail: (problem: string) => never) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private u32(p: number): number {
    if (p < 0 || p + 4 > this.buf.byteLength) this.fail(`offset ${p} outside the message header`);
    return this.dv.getUint32(p, true);
  }

  /** Position of field `i` of the table at `t`, or -1 when absent. */
  field(t: number, i: number): number {
    const vt = t - this.dv.getInt32(t, true);
    if (vt < 0 || vt + 4 > this.buf.byteLength) this.fail('vtable outside the message header');
    const vtSize = this.dv.getUint16(vt, true);
    if (vtSize < 4 || vt + vtSize > this.buf.byteLength) this.fail('vtable size out of range');
    if (4 + 2 * i + 2 > vtSize) return -1;
    const off = this.dv.getUint16(vt + 4 + 2 * i, true);
    if (off === 0) return -1;
    if (t + off >= this.buf.byteLength) this.fail('table field outside the message header');
    return t + off;
  }

  table(p: number): number {
    if (++this.tables > MAX_TABLES) this.fail('too many tables');
    const t = p + this.u32(p);
    if (t + 4 > this.buf.byteLength) this.fail('table outside the message header');
    return t;
  }

  /** A vector at field position p: returns [first element position, length], checking it fits. */
  vector(p: number, elemSize: number): [number, number] {
    const v = p + this.u32(p);
    const n = this.u32(v);
    if (v + 4 + n * elemSize > this.buf.byteLength) this.fail(`vector of ${n} elements runs past the message header`);
    return [v + 4, n];
  }

  i64(p: number): number {
    if (p + 8 > this.buf.byteLength) this.fail('field outside the message header');
    const v = this.dv.getBigInt64(p, true);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} out of range`);
    return Number(v);
  }

  u8(p: number): number { return this.buf[p]!; }

  keyValues(t: number, i: number): void {
    const f = this.field(t, i);
    if (f < 0) return;
    const [first, n] = this.vector(f, 4);
    for (let k = 0; k < n; k++) {
      const kv = this.table(first + 4 * k);
      for (const j of [0, 1]) { const s = this.field(kv, j); if (s >= 0) this.vector(s, 1); }
    }
  }

  fieldTable(t: number, depth: number): void {
    if (depth > MAX_DEPTH) this.fail('fields nested too deeply');
    const name = this.field(t, 0);
    if (name >= 0) this.vector(name, 1);
    const type = this.field(t, 3);
    if (type >= 0) {
      const tt = this.table(type);
      const typeType = this.field(t, 2);
      if (typeType >= 0 && this.u8(typeType) === 14) { const ids = this.field(tt, 1); if (ids >= 0) this.vector(ids, 4); } // Union typeIds
    }
    const dict = this.field(t, 4);
    if (dict >= 0) { const d = this.table(dict); const it = this.field(d, 1); if (it >= 0) this.table(it); }
    const children = this.field(t, 5);
    if (children >= 0) {
      const [first, n] = this.vector(children, 4);
      for (let k = 0; k < n; k++) this.fieldTable(this.table(first + 4 * k), depth + 1);
    }
    this.keyValues(t, 6);
  }

  schema(t: number): void {
    const fields = this.field(t, 1);
    if (fields >= 0) {
      const [first, n] = this.vector(fields, 4);
      for (let k = 0; k < n; k++) this.fieldTable(this.table(first + 4 * k), 0);
    }
    this.keyValues(t, 2);
    const features = this.field(t, 3);
    if (features >= 0) this.vector(features, 8);
  }

  recordBatch(t: number, bodyLength: number): void {
    // every node needs at least a bit of body for its validity or values; a longer claim is corrupt
    const maxLen = bodyLength * 8 + 64;
    const lenPos = this.field(t, 0);
    if (lenPos >= 0 && this.i64(lenPos) > maxLen) this.fail(`record batch claims ${this.i64(lenPos)} rows in a ${bodyLength}-byte body`);
    const nodes = this.field(t, 1);
    if (nodes >= 0) {
      const [first, n] = this.vector(nodes, 16);
      for (let k = 0; k < n; k++) {
        const len = this.i64(first + 16 * k), nulls = this.i64(first + 16 * k + 8);
        if (len > maxLen || nulls > len) this.fail(`field node ${k} claims ${len} values (${nulls} null) in a ${bodyLength}-byte body`);
      }
    }
    const buffers = this.field(t, 2);
    if (buffers >= 0) {
      const [first, n] = this.vector(buffers, 16);
      for (let k = 0; k < n; k++) {
        const off = this.i64(first + 16 * k), len = this.i64(first + 16 * k + 8);
        if (off + len > bodyLength) this.fail(`buffer ${k} [${off}, +${len}) lies outside the ${bodyLength}-byte body`);
      }
    }
    const compression = this.field(t, 3);
    if (compression >= 0) this.table(compression);
    const variadic = this.field(t, 4);
    if (variadic >= 0) this.vector(variadic, 8);
  }

  /** Validates a Message; returns its body length. */
  message(remainingAfterHeader: number): number {
    const m = this.table(0);
    const bodyPos = this.field(m, 3);
    const bodyLength = bodyPos >= 0 ? this.i64(bodyPos) : 0;
    if (bodyLength > remainingAfterHeader) this.fail(`message body of ${bodyLength} bytes runs past the end of the file`);
    const typePos = this.field(m, 1);
    const headerPos = this.field(m, 2);
    const headerType = typePos >= 0 ? this.u8(typePos) : 0;
    if (headerPos >= 0) {
      const h = this.table(headerPos);
      if (headerType === 1) this.schema(h);
      else if (headerType === 3) this.recordBatch(h, bodyLength);
      else if (headerType === 2) { const d = this.field(h, 1); if (d >= 0) this.recordBatch(this.table(d), bodyLength); }
      else this.fail(`unsupported message type ${headerType}`);
    }
    this.keyValues(m, 4);
    return bodyLength;
  }
}

/** Throws an InputError naming `source` unless every message of the stream is within bounds. */
export function validateArrowStream(bytes: Uint8Array, source: string): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let messages = 0;
  const fail = (problem: string): never => { throw new InputError(source, `corrupt Arrow stream: ${problem} (message ${messages})`); };
  while (pos < bytes.byteLength) {
    if (pos + 4 > bytes.byteLength) fail('truncated message length');
    let len = dv.getUint32(pos, true);
    pos += 4;
    if (len === 0xffffffff) {
      if (pos + 4 > bytes.byteLength) fail('truncated message length');
      len = dv.getUint32(pos, true);
      pos += 4;
    }
    if (len === 0) return; // end-of-stream marker
    if (len > 0x7fffffff || pos + len > bytes.byteLength) fail(`message header of ${len} bytes runs past the end of the file`);
    const meta = bytes.subarray(pos, pos + len);
    pos += len;
    const body = new FlatbufferCheck(meta, fail).message(bytes.byteLength - pos);
    pos += body;
    messages++;
  }
  if (messages === 0) fail('no messages');
}
