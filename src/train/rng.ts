import { mulberry32, MULBERRY32_STEP } from '../util/random';

/** A seeded generator whose whole state is one integer, so a checkpoint can carry it (mulberry32). */
export class Rng {
  constructor(public state: number) { this.state = state >>> 0; }
  next(): number {
    this.state = (this.state + MULBERRY32_STEP) >>> 0;
    return mulberry32(this.state);
  }
  /** Standard normal (Box–Muller, no cached spare so that the state stays one integer). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.next() + 1e-12)) * Math.cos(2 * Math.PI * this.next());
  }
}
