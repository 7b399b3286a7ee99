// The synthetic SAE the diagnostics benches time: G1 data with latents/2 true features, and a dictionary of
// those features plus random atoms (so that some latents are dead or weak), with weaker encoder rows for
// the random atoms so that L0 is in the range of a trained SAE (tens, not hundreds). Not a bench itself.
import { generate } from '../src/synthetic';
import type { SyntheticDataset } from '../src/synthetic';
import { dictionarySae } from '../test/helpers/exactDictionary';
import { Rng } from '../src/synthetic/random';
import type { Sae } from '../src/sae/types';

export function benchDiagnosticsSae(latents: number, rows: number, dIn: number): { ds: SyntheticDataset; sae: Sae } {
  const features = Math.floor(latents / 2);
  const ds = generate('g1', { seed: 1, tokens: rows, dIn, features, sparsity: 1 - 8 / features, projectionSteps: 0, noise: 0.01 });
  const rng = new Rng(2);
  const atoms = new Float32Array(latents * dIn);
  atoms.set(ds.features);
  for (let i = features * dIn; i < atoms.length; i++) atoms[i] = rng.normal();
  const sae = dictionarySae(atoms, latents, dIn, ds.bias, 0.8);
  for (let j = 0; j < dIn; j++) for (let i = features; i < latents; i++) sae.wEnc[j * latents + i] *= 0.3;
  return { ds, sae };
}
