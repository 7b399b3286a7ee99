/**
 * Dead and dense latents (docs/theory.md §C1): firing rates p_i over as many rows as available (N ≥ 10⁵ for a
 * trustworthy dead count). Dead = no firing (reported with the bound p < 3/N); dense p > 0.1; ultra-dense
 * p > 0.5. Every dense latent is a candidate for C2.
 */
import { THRESHOLDS } from './thresholds';

export interface DeadDenseReport {
  rows: number;
  dead: number[];
  /** Upper 95% bound on the firing rate of a latent never seen firing: 3/N (rule of three). */
  deadRateBound: number;
  dense: number[];
  ultraDense: number[];
  fractionDead: number;
  fractionDense: number;
  /** Firing-rate histogram on log10 p, bins of 0.5 from −7 to 0 (dead latents excluded). */
  histogram: { log10Lo: number; count: number }[];
  reason: Record<string, string>;
}

export function deadDense(firingCounts: Float64Array | Int32Array, rows: number): DeadDenseReport {
  const m = firingCounts.length;
  const dead: number[] = [], dense: number[] = [], ultra: number[] = [];
  const bins = new Array<number>(14).fill(0);
  for (let i = 0; i < m; i++) {
    const p = firingCounts[i] / rows;
    if (firingCounts[i] === 0) { dead.push(i); continue; }
    if (p > THRESHOLDS.dense) dense.push(i);
    if (p > THRESHOLDS.ultraDense) ultra.push(i);
    const b = Math.min(13, Math.max(0, Math.floor((Math.log10(p) + 7) * 2)));
    bins[b]++;
  }
  const reason: Record<string, string> = {};
  if (rows < THRESHOLDS.deadMinRows) reason.dead = `counted on ${rows} rows: a latent firing with probability below ${(3 / rows).toExponential(1)} can look dead; a trustworthy dead count needs ≥ ${THRESHOLDS.deadMinRows} rows (--rows)`;
  return {
    rows, dead, deadRateBound: 3 / rows, dense, ultraDense: ultra, fractionDead: dead.length / m, fractionDense: dense.length / m,
    histogram: bins.map((count, k) => ({ log10Lo: -7 + k / 2, count })), reason,
  };
}
