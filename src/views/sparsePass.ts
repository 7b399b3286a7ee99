/**
 * One pass of an SAE over an evaluation sample, kept sparse (codes as CSR and CSC), from which the panel
 * models are cut: per-latent columns, per-token L0, reconstruction metrics and feature pages. Encoding
 * goes through the diagnostics' sparse encoder (src/diagnostics/encoderCodes.ts over src/sae/forward.ts);
 * every optimality number comes from src/diagnostics (./diagnosticsPanel.ts).
 */
import { decoderNorms } from '../sae/forward';
import { encodeSparse } from '../diagnostics/encoderCodes';
import { parallelMatmulBT } from '../diagnostics/linalg';
import type { Sae } from '../sae/types';
import type { ActivationSample } from './activations';
import { FLAG } from '../protocol/viewModels';
import type { ReconstructionMetrics } from '../protocol/viewModels';

export interface SparseCodes {
  /** CSR over rows: row r's entries are idx/val[rowPtr[r] .. rowPtr[r+1]), latent ascending. */
  rowPtr: Int32Array; idx: Int32Array; val: Float32Array;
  /** CSC over latents: latent i's entries are rows/vals[colPtr[i] .. colPtr[i+1]), row ascending. */
  colPtr: Int32Array; rows: Int32Array; vals: Float32Array;
}

export interface Analysis {
  sae: Sae;
  sample: ActivationSample;
  codes: SparseCodes;
  density: Float32Array;
  meanActivation: Float32Array;
  maxActivation: Float32Array;
  decoderNorm: Float32Array;
  /** Unit atoms [dSae, dOut]. */
  unitAtoms: Float32Array;
  l0PerToken: Float32Array;
  residualNorm: Float32Array;
  metrics: ReconstructionMetrics;
}

/** Rows per encoding chunk: the chunk's dense codes and ⟨d̂, r⟩ matrices stay around 32 MB each. */
function chunkRows(dSae: number): number {
  return Math.max(16, Math.min(256, Math.floor((8 << 20) / dSae)));
}

/** Encodes the sample in chunks and gathers everything the panels need. */
export function analyse(sae: Sae, sample: ActivationSample): Analysis {
  const { dSae, dOut, dIn } = sae.cfg;
  const n = sample.n;
  const targetsKnown = !sae.cfg.transcoder;
  const norms = decoderNorms(sae);
  const unit = new Float32Array(dSae * dOut);
  for (let i = 0; i < dSae; i++) if (norms[i]! > 0) for (let j = 0; j < dOut; j++) unit[i * dOut + j] = sae.wDec[i * dOut + j]! / norms[i]!;

  // the one sparse encoder of the diagnostics (rows split across its worker threads, decode from the
  // active entries only), keeping the raw codes f that the panels show
  const enc = encodeSparse(sae, sample.x, n, { keep: 'norms', values: 'raw', chunkRows: chunkRows(dSae) });
  const { rowPtr, idx, val } = enc.codes;
  const residualNorm = enc.residualNorms;
  const l0PerToken = new Float32Array(n);
  const fires = new Float64Array(dSae), sum = new Float64Array(dSae), max = new Float32Array(dSae);
  let sse = 0, sumSq = 0;
  const xMean = new Float64Array(dOut);
  for (let r = 0; r < n; r++) {
    l0PerToken[r] = rowPtr[r + 1]! - rowPtr[r]!;
    for (let t = rowPtr[r]!; t < rowPtr[r + 1]!; t++) {
      const i = idx[t]!, f = val[t]!;
      fires[i]! += 1; sum[i]! += f; if (f > max[i]!) max[i] = f;
    }
    if (targetsKnown) {
      sse += residualNorm[r]! ** 2;
      let xn2 = 0;
      for (let j = 0; j < dOut; j++) {
        const v = sample.x[r * dIn + j]!;
        xn2 += v * v; xMean[j]! += v;
      }
      sumSq += xn2;
    }
  }

  const codesCsr = { rowPtr, idx, val };
  const density = new Float32Array(dSae), meanActivation = new Float32Array(dSae);
  for (let i = 0; i < dSae; i++) {
    density[i] = fires[i]! / n;
    meanActivation[i] = fires[i]! > 0 ? sum[i]! / fires[i]! : 0;
  }
  let l0 = 0;
  for (let r = 0; r < n; r++) l0 += l0PerToken[r]!;
  let meanNorm2 = 0;
  for (let j = 0; j < dOut; j++) meanNorm2 += (xMean[j]! / n) ** 2;
  let dead = 0, dense = 0;
  for (let i = 0; i < dSae; i++) { if (fires[i] === 0) dead++; if (density[i]! > 0.1) dense++; }
  const metrics: ReconstructionMetrics = {
    tokens: n,
    explainedVariance: targetsKnown ? 1 - (sse / n) / (sumSq / n - meanNorm2) : NaN,
    l0: l0 / n,
    deadFraction: dead / dSae,
    denseFraction: dense / dSae,
    msePerElement: targetsKnown ? sse / (n * dOut) : NaN,
    ssePerToken: targetsKnown ? sse / n : NaN,
    note: targetsKnown ? undefined : 'a transcoder needs its target activations for reconstruction metrics; only sparsity is shown',
  };
  return {
    sae, sample, codes: { ...codesCsr, ...toCsc(codesCsr, n, dSae) }, density, meanActivation, maxActivation: max,
    decoderNorm: norms, unitAtoms: unit, l0PerToken, residualNorm, metrics,
  };
}

function toCsc(csr: { rowPtr: Int32Array; idx: Int32Array; val: Float32Array }, n: number, dSae: number): { colPtr: Int32Array; rows: Int32Array; vals: Float32Array } {
  const colPtr = new Int32Array(dSae + 1);
  for (let t = 0; t < csr.idx.length; t++) colPtr[csr.idx[t]! + 1]! += 1;
  for (let i = 0; i < dSae; i++) colPtr[i + 1]! += colPtr[i]!;
  const fill = colPtr.slice(0, dSae);
  const rows = new Int32Array(csr.idx.length), vals = new Float32Array(csr.idx.length);
  for (let r = 0; r < n; r++) for (let t = csr.rowPtr[r]!; t < csr.rowPtr[r + 1]!; t++) {
    const i = csr.idx[t]!;
    const at = fill[i]!++;
    rows[at] = r; vals[at] = csr.val[t]!;
  }
  return { colPtr, rows, vals };
}

/** Budget of multiply-adds for the all-pairs decoder cosine; beyond it atoms are compared to a sample. */
export const MAX_COSINE_BUDGET = 4e9;

/**
 * max_{j≠i} cos(d_i, d_j) for every atom, exact when dSae²·d fits the budget, otherwise against an
 * evenly spaced sample of atoms (a lower bound, and said so).
 */
export function maxDecoderCosine(unit: Float32Array, dSae: number, d: number, budget = MAX_COSINE_BUDGET): { value: Float32Array; index: Int32Array; exact: boolean } {
  const exact = dSae * dSae * d <= budget;
  const sampleCount = exact ? dSae : Math.max(1, Math.min(dSae, Math.floor(budget / (dSae * d))));
  const stride = dSae / sampleCount;
  const cols = new Float32Array(sampleCount * d);
  const colIndex = new Int32Array(sampleCount);
  for (let s = 0; s < sampleCount; s++) {
    const j = exact ? s : Math.floor(s * stride);
    colIndex[s] = j;
    cols.set(unit.subarray(j * d, (j + 1) * d), s * d);
  }
  const value = new Float32Array(dSae).fill(NaN), index = new Int32Array(dSae).fill(-1);
  const block = 1024;
  for (let i0 = 0; i0 < dSae; i0 += block) {
    const rows = Math.min(block, dSae - i0);
    const c = parallelMatmulBT(unit.subarray(i0 * d, (i0 + rows) * d), cols, rows, d, sampleCount);
    for (let r = 0; r < rows; r++) {
      let best = -Infinity, arg = -1;
      for (let s = 0; s < sampleCount; s++) {
        if (colIndex[s] === i0 + r) continue;
        const v = c[r * sampleCount + s]!;
        if (v > best) { best = v; arg = colIndex[s]!; }
      }
      if (arg >= 0) { value[i0 + r] = best; index[i0 + r] = arg; }
    }
  }
  return { value, index, exact };
}

/** Flags computable from density alone; the rest (non-stationary, antipodal, absorbed, absorber) come from diagnostics. */
export function basicFlags(a: Analysis): Uint8Array {
  return Uint8Array.from(a.density, (d) => densityFlags(0, d));
}

/** `flags` with its dead and dense marks set from `density` (dead: never fires; dense: fires on > 10% of rows). */
export function densityFlags(flags: number, density: number): number {
  return (flags & ~(FLAG.dead | FLAG.dense)) | (density === 0 ? FLAG.dead : 0) | (density > 0.1 ? FLAG.dense : 0);
}
