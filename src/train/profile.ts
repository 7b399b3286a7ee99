/**
 * Where a step's time goes, when asked (StepEngine.profile; the speed bench turns it on): each thread adds
 * the wall seconds of its parts of the phases into its slots of the arena's `timing` region, and the
 * coordinator times the phases end to end and its own serial work between them. A thread's waiting is the
 * phases' wall time less its own busy time (the barrier, and the other thread still working). Off, a step
 * reads no clock.
 */

/** One thread's slots (seconds, summed over the step's phases). */
export const enum Slot {
  /** encode: the encoder's GEMM */
  EncodeGemm = 0,
  /** encode: b_enc added and the selection's pass (TopK candidates, BatchTopK's first pass, ReLU's list), aux-k */
  Select = 1,
  /** BatchTopK's histogram phases */
  Hist = 2,
  /** activate: active lists and the partial reconstruction */
  Activate = 3,
  /** the rows' residual and ∂L/∂x̂ */
  Residual = 4,
  /** backward: the gradients of W_dec, W_enc and b_enc over the active rows (or the dense path's GEMMs) */
  Grad = 5,
  /** backward: b_dec's input-path part, −Σ_n dz_{n,i}·w_enc,i per latent */
  BDecPart = 6,
  /** backward: Adam on W_dec, W_enc, b_enc (and the architecture's other per-latent parameters) */
  Adam = 7,
  /** backward: the unit-norm decoder's projection of the gradient and the renormalisation */
  Norm = 8,
  /** every phase this thread ran, end to end */
  Busy = 9,
}
export const TIMING_SLOTS = 16;

/** The coordinator's parts of a step (seconds). */
export interface StepProfile {
  seconds: number;
  /** thread 0 alone: the batch mean and x − b_dec before encode; TopK's per-row merge; BatchTopK's cut; b_dec's Adam and the sums after backward */
  serial: { prepare: number; merge: number; cut: number; finish: number };
  /** each barrier-delimited phase, from start to the last thread's end */
  phases: { encode: number; hist: number; activate: number; residual: number; backward: number };
  /** per thread */
  threads: { encodeGemm: number; select: number; hist: number; activate: number; residual: number; grad: number; bDecPart: number; adam: number; norm: number; busy: number; waiting: number }[];
}

export const now = (): number => performance.now() / 1000;

/** Reads each thread's slots into a profile (the coordinator's parts filled in by the caller). */
export function threadProfiles(timing: Float64Array, threads: number, phaseWall: number): StepProfile['threads'] {
  const out: StepProfile['threads'] = [];
  for (let w = 0; w < threads; w++) {
    const s = (slot: Slot): number => timing[w * TIMING_SLOTS + slot]!;
    out.push({
      encodeGemm: s(Slot.EncodeGemm), select: s(Slot.Select), hist: s(Slot.Hist), activate: s(Slot.Activate), residual: s(Slot.Residual),
      grad: s(Slot.Grad), bDecPart: s(Slot.BDecPart), adam: s(Slot.Adam), norm: s(Slot.Norm), busy: s(Slot.Busy), waiting: phaseWall - s(Slot.Busy),
    });
  }
  return out;
}
