/** Resampling of dead latents during a run (./trainer.ts calls it every --resample-every steps). */
import type { ResolvedOptions } from './options';
import type { Rng } from './rng';
import type { StepEngine } from './stepEngine';

/**
 * Dead latents restart toward inputs the SAE reconstructs worst (Bricken et al.; docs/theory.md §C1): the decoder row
 * along that row's residual, the encoder row along the residual too when input and target are one space,
 * else (transcoders) along the row's encoder input. Returns how many.
 */
export function resampleDead(eng: StepEngine, o: ResolvedOptions, rng: Rng): number {
  const { dIn, dOut, dSae, batch: B } = eng.cfg;
  const f = eng.views.f32, since = eng.views.f64.tokensSinceFired!;
  const dead: number[] = [];
  for (let i = 0; i < dSae; i++) if (since[i]! >= o.deadTokens) dead.push(i);
  if (dead.length === 0 || dead.length === dSae) return 0;
  // the last batch's residuals of the full reconstruction (the last Matryoshka segment): g = 2(ŷ − y)/B, so r = −g·B/2
  const g = f.g!.subarray((eng.cfg.prefixes.length - 1) * B * dOut, eng.cfg.prefixes.length * B * dOut);
  const xc = f.xc!;
  const weights = new Float64Array(B);
  let total = 0;
  for (let n = 0; n < B; n++) { let s = 0; for (let q = 0; q < dOut; q++) s += g[n * dOut + q]! ** 2; weights[n] = s; total += s; }
  if (!(total > 0)) return 0;
  let encNorm = 0, decNorm = 0, live = 0;
  for (let i = 0; i < dSae; i++) {
    if (since[i]! >= o.deadTokens) continue;
    let se = 0, sd = 0;
    for (let q = 0; q < dIn; q++) se += f.wEncT![i * dIn + q]! ** 2;
    for (let q = 0; q < dOut; q++) sd += f.wDec![i * dOut + q]! ** 2;
    encNorm += Math.sqrt(se); decNorm += Math.sqrt(sd); live++;
  }
  encNorm /= live; decNorm /= live;
  const dNorm = eng.cfg.unitNormDecoder ? 1 : decNorm;
  for (const i of dead) {
    let u = rng.next() * total, n = 0;
    while (n < B - 1 && u >= weights[n]!) { u -= weights[n]!; n++; }
    const rn = Math.sqrt(weights[n]!) || 1;
    for (let q = 0; q < dOut; q++) f.wDec![i * dOut + q] = (dNorm * -g[n * dOut + q]!) / rn;
    if (!eng.cfg.target) for (let q = 0; q < dIn; q++) f.wEncT![i * dIn + q] = (0.2 * encNorm * -g[n * dOut + q]!) / rn;
    else {
      let xn = 0;
      for (let q = 0; q < dIn; q++) xn += xc[n * dIn + q]! ** 2;
      xn = Math.sqrt(xn) || 1;
      for (let q = 0; q < dIn; q++) f.wEncT![i * dIn + q] = (0.2 * encNorm * xc[n * dIn + q]!) / xn;
    }
    f.bEnc![i] = 0;
    for (const [p, len] of [['wDec', dOut], ['wEncT', dIn]] as const) { f[`m_${p}`]!.fill(0, i * len, (i + 1) * len); f[`v_${p}`]!.fill(0, i * len, (i + 1) * len); }
    f.m_bEnc![i] = 0; f.v_bEnc![i] = 0;
    if (f.logTheta && f.logTheta.length) { f.m_logTheta![i] = 0; f.v_logTheta![i] = 0; }
    // a magnitude path starts again as at initialisation (b_mag = r_mag = 0)
    for (const p of ['bMag', 'rMag'] as const) if (f[p]?.length) { f[p]![i] = 0; f[`m_${p}`]![i] = 0; f[`v_${p}`]![i] = 0; }
    since[i] = 0;
  }
  return dead.length;
}
