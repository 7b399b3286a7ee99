/**
 * Small synthetic SAEs and activation files for the panel tests and benchmarks, built in memory with a
 * seeded generator: a ReLU SAE whose first atoms are the true features, plus dead, dense and random
 * atoms, sparse activations over those features, token ids and a vocabulary with hostile strings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '../../src/io/npy';
import { saveSaeLens } from '../../src/formats/saelens';
import type { Sae } from '../../src/sae/types';
import { seededRandom } from '../../src/util/random';

export const rng = seededRandom;

export const HOSTILE = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=2">', 'abc\u202Edcba\u2066x', '"quoted" & <b>bold</b>'];

export interface Fixture { sae: Sae; x: Float32Array; n: number; dIn: number; dSae: number; features: number }

/** dSae atoms: `features` true feature directions, then random ones; atom dSae−1 dead, atom dSae−2 dense. */
export function makeFixture(dIn = 32, dSae = 48, n = 1024, features = 24, seed = 1): Fixture {
  const r = rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const dirs = new Float32Array(dSae * dIn);
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let j = 0; j < dIn; j++) { const v = gauss(); dirs[i * dIn + j] = v; s += v * v; }
    s = Math.sqrt(s);
    for (let j = 0; j < dIn; j++) dirs[i * dIn + j]! /= s;
  }
  const x = new Float32Array(n * dIn);
  for (let t = 0; t < n; t++) for (let f = 0; f < features; f++) {
    if (r() < 0.08 + 0.3 * (f === 0 ? 1 : 0)) {
      const a = 1 + r();
      for (let j = 0; j < dIn; j++) x[t * dIn + j]! += a * dirs[f * dIn + j]!;
    }
  }
  for (let t = 0; t < n * dIn; t++) x[t]! += 0.01 * gauss();
  const wEnc = new Float32Array(dIn * dSae);
  for (let i = 0; i < dSae; i++) for (let j = 0; j < dIn; j++) wEnc[j * dSae + i] = dirs[i * dIn + j]!;
  const bEnc = new Float32Array(dSae).fill(-0.6);
  bEnc[dSae - 1] = -100; // dead
  bEnc[dSae - 2] = 0.3; // dense
  const sae: Sae = {
    cfg: { activation: 'relu', dIn, dSae, dOut: dIn, transcoder: false, applyBDecToInput: true, normalizeActivations: 'none', rescaleActsByDecoderNorm: false, dtype: 'float32', metadata: {}, hookName: 'blocks.0.hook_resid_post', modelName: 'synthetic', training: { tokens: 123456, engine: 'js' } },
    wEnc, bEnc, wDec: dirs.slice(), bDec: new Float32Array(dIn),
  };
  return { sae, x, n, dIn, dSae, features };
}

/** Writes the SAE, activations.npy, tokens.npy and vocab.json (with hostile tokens) into dir. */
export function writeFixture(dir: string, f: Fixture, withTokens = true): { saeDir: string; activations: string } {
  const saeDir = join(dir, 'sae');
  mkdirSync(saeDir, { recursive: true });
  saveSaeLens(f.sae, saeDir);
  const activations = join(dir, 'activations.npy');
  writeNpy(activations, { dtype: 'F32', shape: [f.n, f.dIn], data: f.x });
  if (withTokens) {
    const vocab: Record<string, number> = {};
    const words = ['Ġthe', 'Ġcat', 'Ġsat', 'Ġon', 'Ġmat', 'Ċ', ...HOSTILE];
    words.forEach((w, i) => { vocab[w] = i; });
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
    const ids = new Int32Array(f.n);
    for (let t = 0; t < f.n; t++) ids[t] = t % words.length;
    writeNpy(join(dir, 'tokens.npy'), { dtype: 'I32', shape: [f.n / 16, 16], data: ids });
  }
  return { saeDir, activations };
}
