/**
 * Duplicated atoms: pairs of live latents whose decoder directions nearly coincide (cos ≥
 * DUPLICATES.cosine), with what they share — how often they fire on the same rows — so a reader can tell a
 * feature split between two latents by rows (they rarely fire together) from one written twice (they fire
 * together: one of them is redundant). The pairs come from the shared pass over D̂D̂ᵀ (./atomPairs.ts).
 */
import type { AtomPairs } from './atomPairs';
import { median } from './linalg';
import { firingCounts, latentRows, pairStats } from './encoderCodes';
import type { SparseCodes } from './encoderCodes';
import { DUPLICATES } from './thresholds';

export interface DuplicatePair {
  i: number;
  j: number;
  cosine: number;
  /** Firing rates on the sample. */
  pI: number;
  pJ: number;
  /** #rows both fire / #rows the rarer fires. */
  shared: number;
}

export interface DuplicatesReport {
  cosine: number;
  /** Every pair at or above the cosine (closest first; at most DUPLICATES.maxListed listed). */
  pairs: DuplicatePair[];
  count: number;
  /** Distinct latents in the pairs. */
  latents: number;
  /** Pairs that fire together on ≥ DUPLICATES.together of the rarer one's rows, and that almost never do (≤ DUPLICATES.apart). */
  together: number;
  apart: number;
  medianShared: number;
  reason: Record<string, string>;
}

export function duplicateAtoms(codes: SparseCodes, pairs: AtomPairs): DuplicatesReport {
  const { i, j, cos } = pairs.near;
  const keep: number[] = [];
  for (let t = 0; t < cos.length; t++) if (cos[t]! >= DUPLICATES.cosine) keep.push(t);
  keep.sort((a, b) => cos[b]! - cos[a]!);
  const counts = firingCounts(codes);
  const flat = new Int32Array(2 * keep.length);
  keep.forEach((t, k) => { flat[2 * k] = i[t]!; flat[2 * k + 1] = j[t]!; });
  const stats = pairStats(codes, latentRows(codes), flat);
  const all: DuplicatePair[] = keep.map((t, k) => {
    const a = i[t]!, b = j[t]!;
    return { i: a, j: b, cosine: cos[t]!, pI: counts[a]! / codes.n, pJ: counts[b]! / codes.n, shared: stats.both[k]! / Math.max(1, Math.min(counts[a]!, counts[b]!)) };
  });
  const reason: Record<string, string> = {};
  if (!all.length) reason.medianShared = `no pair of live atoms has cos ≥ ${DUPLICATES.cosine}`;
  if (pairs.nearTruncated) reason.pairs = 'the near-pair list was truncated to the closest pairs: counts are lower bounds';
  return {
    cosine: DUPLICATES.cosine, pairs: all.slice(0, DUPLICATES.maxListed), count: all.length,
    latents: new Set(all.flatMap((p) => [p.i, p.j])).size,
    together: all.filter((p) => p.shared >= DUPLICATES.together).length,
    apart: all.filter((p) => p.shared <= DUPLICATES.apart).length,
    medianShared: median(all.map((p) => p.shared)), reason,
  };
}

/** The finding: how many pairs, the closest few, and whether the two fire together or split the rows. */
export function duplicatesSentence(r: DuplicatesReport): string | undefined {
  if (!r.count) return undefined;
  const f = (v: number): string => Number(v.toPrecision(3)).toString();
  const eg = r.pairs.slice(0, 3).map((p) => `${p.i} and ${p.j} (cos ${f(p.cosine)}, together on ${f(100 * p.shared)}% of the rarer one's rows)`).join('; ');
  const mixed = r.count - r.together - r.apart;
  return `${r.count} pair${r.count === 1 ? '' : 's'} of live latents (${r.latents} latents) have nearly the same decoder direction (cos ≥ ${r.cosine}), e.g. ${eg}. `
    + `${r.together} pair${r.together === 1 ? ' fires' : 's fire'} together on ≥ ${100 * DUPLICATES.together}% of the rarer latent's rows (one atom written twice: the two share its code, and one could go), `
    + `${r.apart} almost never (≤ ${100 * DUPLICATES.apart}%: one direction's rows split between two latents)${mixed ? `, ${mixed} in between` : ''}; median shared ${f(100 * r.medianShared)}%.`;
}
