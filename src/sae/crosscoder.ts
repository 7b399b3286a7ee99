/**
 * The crosscoder (ckkissane/crosscoder-model-diff, docs/formats.md §5): one dictionary read from and
 * written to several activation sources (models or layers) at once. It does not fit the Sae type: the
 * encoder sums over sources and every latent has one decoder direction per source.
 *   f = ReLU(Σ_m x_m·W_enc[m] + b_enc),   x̂_m = f·W_dec[:, m, :] + b_dec[m]
 * Rows of input are [nSources, dIn] blocks, row-major.
 */
export interface CrosscoderConfig {
  nSources: number;
  dIn: number;
  dSae: number;
  hookName?: string;
  modelName?: string;
  dtype: string;
  /** The source cfg.json, kept so that load → save round-trips. */
  metadata: Record<string, unknown>;
  source?: { format: string; path: string };
}

export interface Crosscoder {
  cfg: CrosscoderConfig;
  /** [nSources, dIn, dSae] */
  wEnc: Float32Array;
  /** [dSae] */
  bEnc: Float32Array;
  /** [dSae, nSources, dIn]: latent i's direction in source m is wDec[i, m, :]. */
  wDec: Float32Array;
  /** [nSources, dIn] */
  bDec: Float32Array;
}

/** Codes [n, dSae] for inputs x [n, nSources, dIn]. */
export function encodeCrosscoder(cc: Crosscoder, x: Float32Array, n: number): Float32Array {
  const { nSources, dIn, dSae } = cc.cfg;
  const out = new Float32Array(n * dSae);
  const width = nSources * dIn;
  for (let r = 0; r < n; r++) {
    const row = out.subarray(r * dSae, (r + 1) * dSae);
    row.set(cc.bEnc);
    for (let j = 0; j < width; j++) {
      const v = x[r * width + j]!;
      if (v === 0) continue;
      const w = j * dSae; // W_enc viewed as [nSources*dIn, dSae]
      for (let i = 0; i < dSae; i++) row[i]! += v * cc.wEnc[w + i]!;
    }
    for (let i = 0; i < dSae; i++) if (!(row[i]! > 0)) row[i] = 0;
  }
  return out;
}

/** Reconstruction [n, nSources, dIn] from codes [n, dSae]. */
export function decodeCrosscoder(cc: Crosscoder, codes: Float32Array, n: number): Float32Array {
  const { nSources, dIn, dSae } = cc.cfg;
  const width = nSources * dIn;
  const out = new Float32Array(n * width);
  for (let r = 0; r < n; r++) {
    const row = out.subarray(r * width, (r + 1) * width);
    row.set(cc.bDec);
    for (let i = 0; i < dSae; i++) {
      const f = codes[r * dSae + i]!;
      if (f === 0) continue;
      const w = i * width; // W_dec viewed as [dSae, nSources*dIn]
      for (let j = 0; j < width; j++) row[j]! += f * cc.wDec[w + j]!;
    }
  }
  return out;
}

/** Per-latent decoder norms [dSae, nSources]: the basis of the relative-norm analysis. */
export function crosscoderDecoderNorms(cc: Crosscoder): Float32Array {
  const { nSources, dIn, dSae } = cc.cfg;
  const out = new Float32Array(dSae * nSources);
  for (let i = 0; i < dSae; i++) for (let m = 0; m < nSources; m++) {
    let s = 0;
    const base = (i * nSources + m) * dIn;
    for (let j = 0; j < dIn; j++) s += cc.wDec[base + j]! ** 2;
    out[i * nSources + m] = Math.sqrt(s);
  }
  return out;
}

export function describeCrosscoder(cc: Crosscoder): string {
  const c = cc.cfg;
  return `crosscoder over ${c.nSources} sources, d_in ${c.dIn}, d_sae ${c.dSae}` + (c.hookName ? `, hook ${c.hookName}` : '');
}
