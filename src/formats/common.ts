/**
 * What every non-SAELens loader shares: deciding a matrix's orientation from its shape against the
 * dimensions the config (or the bias vectors) fix, vectors checked by length, the dtype name, and a
 * cheap "does this folder hold these files" test. Orientation is never assumed from a release's habit:
 * a matrix whose two dimensions are equal is only accepted where the file format itself defines the
 * layout (a PyTorch nn.Linear weight is [out, in] by definition); otherwise it is refused.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { toFloat32 } from '../io/tensor';
import type { Tensor } from '../io/tensor';

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const B = 64; // blocked so that both sides stay in cache for large matrices
  for (let r0 = 0; r0 < rows; r0 += B) {
    for (let c0 = 0; c0 < cols; c0 += B) {
      const r1 = Math.min(r0 + B, rows), c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c]!;
    }
  }
  return out;
}

/** What to do when rows === cols and the shape cannot tell the orientation. */
export type SquareLayout =
  /** the format defines the stored layout as [rows, cols] (e.g. SAELens names) */
  | 'as-wanted'
  /** the format defines the stored layout as [cols, rows] (e.g. nn.Linear weight [out, in]) */
  | 'transposed'
  /** nothing defines it: refuse */
  | 'refuse';

/**
 * The matrix `name` as [rows, cols] Float32: a stored [rows, cols] is taken as is, a stored [cols, rows]
 * is transposed. `dims` names the two dimensions for messages (e.g. ['d_in', 'd_sae']).
 */
export function orient(tensors: Map<string, Tensor>, name: string, rows: number, cols: number, dims: [string, string], square: SquareLayout, source: string): Float32Array {
  const t = tensors.get(name);
  if (!t) throw new InputError(source, `missing tensor '${name}' (expected [${dims[0]}, ${dims[1]}] = [${rows}, ${cols}] or its transpose)`);
  const [a, b] = t.shape;
  if (t.shape.length !== 2 || !((a === rows && b === cols) || (a === cols && b === rows))) {
    throw new InputError(source, `tensor '${name}' has shape [${t.shape.join(', ')}], which fits neither [${dims[0]}, ${dims[1]}] = [${rows}, ${cols}] nor its transpose`);
  }
  const data = toFloat32(t);
  if (rows === cols) {
    if (square === 'refuse') throw new InputError(source, `tensor '${name}' is square [${rows}, ${cols}] (${dims[0]} = ${dims[1]}) and nothing in the file fixes its orientation; refusing to guess`);
    return square === 'transposed' ? transpose(data, cols, rows) : data.slice();
  }
  return a === rows ? (data === t.data ? data.slice() : data) : transpose(data, cols, rows);
}

/** A vector of exactly `length` elements, as Float32 (a copy the caller owns). */
export function vector(tensors: Map<string, Tensor>, name: string, length: number, dim: string, source: string, optional = false): Float32Array | undefined {
  const t = tensors.get(name);
  if (!t) {
    if (optional) return undefined;
    throw new InputError(source, `missing tensor '${name}' (expected [${dim}] = [${length}])`);
  }
  if (t.shape.length !== 1 || t.shape[0] !== length) throw new InputError(source, `tensor '${name}' has shape [${t.shape.join(', ')}], expected [${dim}] = [${length}]`);
  const data = toFloat32(t);
  return data === t.data ? data.slice() : data;
}

/** A scalar tensor (shape [] or [1]) as a number. */
export function scalar(tensors: Map<string, Tensor>, name: string, source: string): number | undefined {
  const t = tensors.get(name);
  if (!t) return undefined;
  if (t.data.length !== 1) throw new InputError(source, `tensor '${name}' should be a scalar, has shape [${t.shape.join(', ')}]`);
  return toFloat32(t)[0]!;
}

/** The length of a 1-D tensor, or an InputError. */
export function lengthOf(tensors: Map<string, Tensor>, name: string, source: string): number {
  const t = tensors.get(name);
  if (!t) throw new InputError(source, `missing tensor '${name}'`);
  if (t.shape.length !== 1 || t.shape[0]! < 1) throw new InputError(source, `tensor '${name}' should be a non-empty vector, has shape [${t.shape.join(', ')}]`);
  return t.shape[0]!;
}

const DTYPE_NAMES: Record<string, string> = { F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16' };

/** The torch-style dtype name of the first floating tensor ("float32" if none). */
export function dtypeName(tensors: Map<string, Tensor>): string {
  for (const t of tensors.values()) if (DTYPE_NAMES[t.dtype]) return DTYPE_NAMES[t.dtype]!;
  return 'float32';
}

export function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

export function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

export function hasFiles(dir: string, ...names: string[]): boolean {
  return isDir(dir) && names.every((n) => existsSync(join(dir, n)));
}

/** A config field that must be a positive integer. */
export function positiveInt(cfg: Record<string, unknown>, key: string, source: string): number {
  const v = cfg[key];
  if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new InputError(source, `${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/** JSON object or InputError. */
export function asObject(v: unknown, what: string, source: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(source, `${what} is not a JSON object`);
  return v as Record<string, unknown>;
}
