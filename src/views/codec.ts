/**
 * JSON with typed arrays, for the self-contained report: every typed array becomes
 * {"$typed": "Float32Array", "b64": "..."} (little-endian bytes, base64), so per-latent columns never
 * turn into JSON number lists. Runs in Node and in the browser (no Node imports).
 */
const TYPED = {
  Float32Array, Float64Array, Int32Array, Uint32Array, Uint8Array, Int8Array, Int16Array, Uint16Array,
} as const;
type TypedName = keyof typeof TYPED;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function encodeModel(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name as TypedName;
      if (!(name in TYPED)) throw new TypeError(`cannot encode ${name}`);
      return { $typed: name, b64: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    return v;
  });
}

export function decodeModel<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object') {
      const o = v as { $typed?: string; b64?: string; $num?: string };
      if (typeof o.$typed === 'string' && typeof o.b64 === 'string' && o.$typed in TYPED) {
        const bytes = fromBase64(o.b64);
        const Ctor = TYPED[o.$typed as TypedName];
        return new Ctor(bytes.buffer as ArrayBuffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
      }
      if (typeof o.$num === 'string' && Object.keys(o).length === 1) return Number(o.$num);
    }
    return v;
  }) as T;
}
