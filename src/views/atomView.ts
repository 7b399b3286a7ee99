/**
 * A feature page's view of the atom itself, not of its activations: the unit decoder direction over the
 * input dimensions with its largest components, how well the encoder row agrees with it, and the inputs
 * of the sample that point most nearly along it (cosine of x − b_dec with the atom).
 */
import type { Analysis } from './sparsePass';
import type { AtomView } from '../protocol/viewModels';

export function atomView(a: Analysis, latent: number, tokenOf: (fileRow: number) => string | undefined, nearest = 8): AtomView {
  const { dIn, dSae, dOut, transcoder } = a.sae.cfg;
  const decoder = a.unitAtoms.slice(latent * dOut, (latent + 1) * dOut);
  const top = Array.from(decoder, (value, dim) => ({ dim, value })).sort((p, q) => Math.abs(q.value) - Math.abs(p.value)).slice(0, 6);
  let encoderDecoderCos = NaN;
  const nearestInputs: AtomView['nearestInputs'] = [];
  if (!transcoder && dIn === dOut) {
    let dot = 0, ee = 0;
    for (let j = 0; j < dIn; j++) { const e = a.sae.wEnc[j * dSae + latent]!; dot += e * decoder[j]!; ee += e * e; }
    encoderDecoderCos = ee > 0 ? dot / Math.sqrt(ee) : NaN;
    const s = a.sample, b = a.sae.bDec;
    const cos = new Float32Array(s.n);
    for (let r = 0; r < s.n; r++) {
      let xd = 0, xx = 0;
      for (let j = 0; j < dIn; j++) { const v = s.x[r * dIn + j]! - b[j]!; xd += v * decoder[j]!; xx += v * v; }
      cos[r] = xx > 0 ? xd / Math.sqrt(xx) : -Infinity;
    }
    const order = Array.from(cos.keys()).sort((p, q) => cos[q]! - cos[p]!).slice(0, nearest);
    for (const r of order) {
      if (!Number.isFinite(cos[r]!)) continue;
      const fileRow = s.rowIndex[r]!;
      const token = tokenOf(fileRow);
      nearestInputs.push({ row: fileRow, cosine: cos[r]!, ...(token !== undefined ? { token } : {}) });
    }
  }
  return { decoder, top, encoderDecoderCos, nearestInputs };
}
