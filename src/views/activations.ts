/**
 * The evaluation sample the panels and the report are computed on: a uniform seeded sample of the rows
 * of an activation .npy ([n, d] or [sequences, context, d]) or .safetensors. Rows with NaN/Inf are left
 * out and counted; `rowIndex` maps sample rows to file rows. What rows stand for in text (token ids, a
 * tokenizer, row labels) is found by src/tokens/rows.ts.
 */
import { InputError } from '../errors';
import { isFloatDType } from '../io/dtype';
import { readNpyHeader } from '../io/npy';
import { openRowSource, splitTensorPath } from '../io/rowReader';
import type { RowSource } from '../io/rowReader';
import { DEFAULT_ROW_SAMPLE, describeSample, readRowsAt, sampleRowIndices } from '../io/rowSample';
import { isCapture } from '../io/shards';

export interface ActivationSample {
  path: string;
  /** Rows [n, d], finite. */
  x: Float32Array;
  n: number;
  d: number;
  /** File row of each sample row. */
  rowIndex: Int32Array;
  /** Tokens per sequence when the file (or the token ids) is [sequences, context]; rows never cross a sequence. */
  seqLen?: number;
  skippedNonFinite: number;
  /** Rows in the whole file. */
  totalRows: number;
  /** What the sample is, in one line ("a uniform sample of 4,096 of 20,000 rows (seed 0)"). */
  description: string;
}

/**
 * Reads the evaluation sample of an activation file: a uniform seeded sample of up to maxRows rows
 * (src/io/rowSample.ts — the same rows every panel, the report, diagnose and tree use), rows with NaN/Inf
 * left out and counted. `.npy` ([n, d] or [sequences, context, d]) or a 2-D `.safetensors` tensor (the only
 * one, or the one named by `<file>#<tensor>`).
 */
export function readActivationSample(path: string, maxRows: number, expectDim?: number, seed = DEFAULT_ROW_SAMPLE.seed): ActivationSample {
  const { source, seqLen } = activationRowSource(path);
  const d = source.dIn;
  if (expectDim !== undefined && d !== expectDim) throw new InputError(path, `activation width ${d} does not match the SAE's d_in ${expectDim}`);
  const rowsInFile = source.rows;
  if (rowsInFile === 0) throw new InputError(path, 'the activation file has no rows');
  const indices = sampleRowIndices(rowsInFile, { rows: maxRows, seed });
  const take = indices.length;
  const raw = readRowsAt(source, indices);
  const keep: number[] = [];
  for (let r = 0; r < take; r++) {
    let ok = true;
    for (let j = 0; j < d; j++) if (!Number.isFinite(raw[r * d + j]!)) { ok = false; break; }
    if (ok) keep.push(r);
  }
  if (keep.length === 0) throw new InputError(path, `none of the ${take} sampled rows is finite (all contain NaN or Inf)`);
  const x = keep.length === take ? raw : new Float32Array(keep.length * d);
  if (x !== raw) keep.forEach((r, i) => x.set(raw.subarray(r * d, (r + 1) * d), i * d));
  const sample: ActivationSample = {
    path, x, n: keep.length, d, rowIndex: Int32Array.from(keep, (r) => indices[r]!), skippedNonFinite: take - keep.length,
    totalRows: rowsInFile, description: describeSample(rowsInFile, take, seed), seqLen,
  };
  return sample;
}

/** The rows of an activation file as a row source; a 3-D .npy [sequences, context, d] is read as its rows. */
export function activationRowSource(path: string): { source: RowSource; seqLen?: number } {
  const lower = splitTensorPath(path).path.toLowerCase();
  // a .safetensors path may name its tensor: `<file>#<tensor>` (src/io/rowReader.ts splitTensorPath)
  if (lower.endsWith('.safetensors') || isCapture(path)) return { source: openRowSource(path) };
  if (!lower.endsWith('.npy')) throw new InputError(path, 'activations must be a .npy ([tokens, d] or [sequences, context, d]) or .safetensors file, or a capture folder');
  const h = readNpyHeader(path);
  if (!isFloatDType(h.dtype)) throw new InputError(path, `activations must be floating point, got ${h.dtype}`);
  if (h.shape.length !== 2 && h.shape.length !== 3) throw new InputError(path, `activations must be 2-D [tokens, d] or 3-D [sequences, context, d], got shape [${h.shape.join(', ')}]`);
  const d = h.shape[h.shape.length - 1]!;
  const rows = h.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return { source: { path, dtype: h.dtype, rows, dIn: d, dataStart: h.dataStart }, seqLen: h.shape.length === 3 ? h.shape[1] : undefined };
}
