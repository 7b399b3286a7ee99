import { DTYPE_BYTES, bf16ToNumber, f16ToNumber, numberToBf16, numberToF16 } from './dtype';
import type { DType, RawArray } from './dtype';

/** A dense, row-major (C order) tensor as stored on disk. */
export interface Tensor {
  dtype: DType;
  shape: number[];
  /** Raw elements; length = product of shape. F16/BF16 hold u16 bit patterns, BOOL holds 0/1 bytes. */
  data: RawArray;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function byteLength(dtype: DType, shape: readonly number[]): number {
  return numel(shape) * DTYPE_BYTES[dtype];
}

/**
 * A typed-array view of `bytes` as `dtype` — zero-copy when the offset is aligned for the element size,
 * a copy otherwise. Data on disk is little-endian, as is every platform Node runs on here.
 */
export function viewAs(dtype: DType, bytes: Uint8Array): RawArray {
  const size = DTYPE_BYTES[dtype];
  const n = bytes.byteLength / size;
  const aligned = bytes.byteOffset % size === 0;
  const buf = aligned ? bytes.buffer : bytes.slice().buffer;
  const off = aligned ? bytes.byteOffset : 0;
  switch (dtype) {
    case 'F64': return new Float64Array(buf, off, n);
    case 'F32': return new Float32Array(buf, off, n);
    case 'F16': case 'BF16': return new Uint16Array(buf, off, n);
    case 'I64': return new BigInt64Array(buf, off, n);
    case 'I32': return new Int32Array(buf, off, n);
    case 'I16': return new Int16Array(buf, off, n);
    case 'I8': return new Int8Array(buf, off, n);
    case 'U8': case 'BOOL': return new Uint8Array(buf, off, n);
  }
}

/** The raw bytes of a tensor's data (a view, no copy). */
export function tensorBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Converts any tensor to Float32 (returns the same array for F32 data). */
export function toFloat32(t: Tensor): Float32Array {
  const d = t.data;
  if (t.dtype === 'F32') return d as Float32Array;
  const out = new Float32Array(d.length);
  if (t.dtype === 'F16') for (let i = 0; i < d.length; i++) out[i] = f16ToNumber((d as Uint16Array)[i]!);
  else if (t.dtype === 'BF16') {
    // bf16 is the top half of an f32: a shift per element, ~10× faster than a call per element
    const bits = new Uint32Array(out.buffer);
    const src = d as Uint16Array;
    for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  }
  else if (t.dtype === 'I64') for (let i = 0; i < d.length; i++) out[i] = Number((d as BigInt64Array)[i]!);
  else for (let i = 0; i < d.length; i++) out[i] = (d as Float64Array)[i]!;
  return out;
}

/** Converts any tensor to a plain number array element (use for small tensors and scalars). */
export function scalarValue(t: Tensor, index = 0): number {
  const v = t.data[index];
  if (v === undefined) throw new RangeError(`index ${index} out of range`);
  if (typeof v === 'bigint') return Number(v);
  if (t.dtype === 'F16') return f16ToNumber(v);
  if (t.dtype === 'BF16') return bf16ToNumber(v);
  return v;
}

/** A Float32 tensor from values. */
export function f32(shape: number[], data?: ArrayLike<number>): Tensor {
  const n = numel(shape);
  const arr = new Float32Array(n);
  if (data) {
    if (data.length !== n) throw new RangeError(`expected ${n} values for shape [${shape}], got ${data.length}`);
    arr.set(data);
  }
  return { dtype: 'F32', shape, data: arr };
}

/** Converts Float32 values to a tensor of another float dtype (F16/BF16/F64/F32). */
export function fromFloat32(dtype: 'F32' | 'F16' | 'BF16' | 'F64', shape: number[], values: Float32Array): Tensor {
  if (dtype === 'F32') return { dtype, shape, data: values };
  if (dtype === 'F64') return { dtype, shape, data: Float64Array.from(values) };
  const conv = dtype === 'F16' ? numberToF16 : numberToBf16;
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = conv(values[i]!);
  return { dtype, shape, data: out };
}

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  nan: number;
  inf: number;
}

/** min/max/mean over finite elements, and NaN/Inf counts. Streams over the data without converting all of it. */
export function tensorStats(t: Tensor): TensorStats {
  const d = t.data;
  let min = Infinity, max = -Infinity, sum = 0, count = 0, nan = 0, inf = 0;
  const read: (i: number) => number =
    t.dtype === 'F16' ? (i) => f16ToNumber((d as Uint16Array)[i]!)
    : t.dtype === 'BF16' ? (i) => bf16ToNumber((d as Uint16Array)[i]!)
    : t.dtype === 'I64' ? (i) => Number((d as BigInt64Array)[i]!)
    : (i) => (d as Float64Array)[i]!;
  for (let i = 0; i < d.length; i++) {
    const v = read(i);
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      count++;
    }
  }
  return { min: count ? min : NaN, max: count ? max : NaN, mean: count ? sum / count : NaN, nan, inf };
}
