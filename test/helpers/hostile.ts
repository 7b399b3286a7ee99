// Builders of hostile inputs shared by the bounded-reading unit tests and the robust suite.
import { zipSync } from 'fflate';
import { encodeNpy } from '../../src/io/npy';

/** An .npz of one float32 array; `level` 0 stores it. */
export function npzBytes(values: Float32Array, level: 0 | 6 = 0, name = 'W_enc'): Uint8Array {
  const parts = encodeNpy({ dtype: 'F32', shape: [values.length], data: values });
  const npy = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let off = 0;
  for (const p of parts) { npy.set(p, off); off += p.byteLength; }
  return zipSync({ [`${name}.npy`]: [npy, { level }] });
}

/** Offsets of every central-directory entry (signature PK\x01\x02). */
function centralEntries(zip: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 1 && zip[i + 3] === 2) out.push(i);
  return out;
}

/** Rewrites the uncompressed size that the central directory (and local header) declare. */
export function declareSize(zip: Uint8Array, size: number): Uint8Array {
  const z = zip.slice();
  const view = new DataView(z.buffer);
  for (const c of centralEntries(z)) view.setUint32(c + 24, size, true);
  view.setUint32(22, size, true);
  return z;
}

/** A deflated .npz whose single entry really inflates to `bytes` bytes (zeros after a valid .npy header). */
export function bombNpz(bytes: number): Uint8Array {
  return npzBytes(new Float32Array(Math.floor(bytes / 4)), 6);
}

/** A safetensors file whose header nests `depth` levels inside a shape. */
export function deepSafetensors(depth: number): Uint8Array {
  const header = `{"x":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)},"data_offsets":[0,0]}}`;
  const out = new Uint8Array(8 + header.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(Buffer.from(header), 8);
  return out;
}
