/**
 * mulberry32: a tiny seeded generator returning uniforms in [0, 1), for shuffling, subsampling and
 * reproducible test data. (The synthetic generators use the stronger Rng of src/synthetic/random.ts.)
 */

/** What the state advances by per draw. */
export const MULBERRY32_STEP = 0x6d2b79f5;

/** The uniform in [0, 1) that mulberry32 draws from an (already advanced) state. */
export function mulberry32(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + MULBERRY32_STEP) >>> 0;
    return mulberry32(a);
  };
}
