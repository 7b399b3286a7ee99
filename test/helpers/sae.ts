// Small SAEs with constant weights, easy to tell apart after a save (tests of saving and loading).
import type { Sae } from '../../src/sae/types';

export function constantSae(activation: 'relu' | 'topk', dIn: number, dSae: number, value: number, withSparsity: boolean): Sae {
  const fill = (n: number) => new Float32Array(n).fill(value);
  return {
    cfg: { activation, dIn, dSae, dOut: dIn, transcoder: false, ...(activation === 'topk' ? { k: 3 } : {}), applyBDecToInput: true, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {} },
    wEnc: fill(dIn * dSae), bEnc: fill(dSae), wDec: fill(dSae * dIn), bDec: fill(dIn),
    ...(withSparsity ? { logDensity: fill(dSae) } : {}),
  };
}
