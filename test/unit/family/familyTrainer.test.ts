// The family through runTraining: a transcoder recovers y = M x, a crosscoder separates source-exclusive
// features from shared ones, a Matryoshka SAE keeps its prefixes, and bad inputs are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../../../src/train/trainer';
import { CROSSCODER_LATENTS_FILE } from '../../../src/train/export';
import { loadSae } from '../../../src/formats/index';
import { loadCrosscoder } from '../../../src/formats/crosscoder';
import { crosscoderLatentStats } from '../../../src/sae/crosscoderAnalysis';
import { decodeCrosscoder, encodeCrosscoder } from '../../../src/sae/crosscoder';
import { encode, decode } from '../../../src/sae/forward';
import { writeNpy } from '../../../src/io/npy';
import { Rng } from '../../../src/train/rng';
import { isInputError } from '../../../src/errors';
import { explainedVariance as ev, matryoshkaData } from './data';

const dir = mkdtempSync(join(tmpdir(), 'family-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const noHooks = { emit: () => undefined, cancelled: () => false };
const rng = new Rng(5);
const npy = (name: string, rows: number, width: number, data: Float32Array): string => {
  const p = join(dir, name);
  writeNpy(p, { dtype: 'F32', shape: [rows, width], data });
  return p;
};
test('transcoder on y = M x with sparse x: explained variance of y ≥ 0.9 through the saved SAELens transcoder', async () => {
  const n = 4096, dIn = 16, dOut = 12;
  const m = Float32Array.from({ length: dOut * dIn }, () => rng.normal() / Math.sqrt(dIn));
  const x = new Float32Array(n * dIn);
  for (let j = 0; j < x.length; j++) if (rng.next() < 0.1) x[j] = 0.5 + rng.next();
  const y = new Float32Array(n * dOut);
  for (let r = 0; r < n; r++) for (let o = 0; o < dOut; o++) { let s = 0; for (let q = 0; q < dIn; q++) s += m[o * dIn + q]! * x[r * dIn + q]!; y[r * dOut + o] = s; }
  const src = npy('tc_x.npy', n, dIn, x), tgt = npy('tc_y.npy', n, dOut, y);
  for (const variant of [{ arch: 'relu' as const, skip: false, name: 'transcoder' }, { arch: 'relu' as const, skip: true, name: 'skip_transcoder' }, { arch: 'jumprelu' as const, skip: false, name: 'jumprelu_transcoder' }]) {
    const out = join(dir, `tc-${variant.name}`);
    await runTraining({ activations: [src], target: tgt, skip: variant.skip, outDir: out, arch: variant.arch, width: 32, l1: variant.arch === 'relu' ? 0.01 : 0.001, batch: 256, tokens: 256 * 300, lr: 5e-3, seed: 1 }, noHooks);
    const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8')) as { architecture: string; d_out: number };
    assert.equal(cfg.architecture, variant.name);
    assert.equal(cfg.d_out, dOut);
    const sae = loadSae(out);
    assert.ok(sae.cfg.transcoder);
    const held = 1024;
    const xh = x.subarray(0, held * dIn);
    const enc = encode(sae, xh, held);
    const yhat = decode(sae, enc.codes, held, enc.norm, xh);
    const e = ev(y.subarray(0, held * dOut), yhat, held, dOut);
    assert.ok(e >= 0.9, `${variant.name}: explained variance of y ${e}`);
  }
});

test('crosscoder: features exclusive to one source lose their other-source decoder; shared features stay shared', async () => {
  // 16 features, half of them in one source only: 4 only in source A, 4 only in B, 8 in both (random
  // directions per source)
  const n = 4096, d = 16, F = 16;
  const dirA = Float32Array.from({ length: F * d }, () => rng.normal());
  const dirB = Float32Array.from({ length: F * d }, () => rng.normal());
  const unit = (w: Float32Array): void => { for (let f = 0; f < F; f++) { const row = w.subarray(f * d, (f + 1) * d); const s = Math.hypot(...row); for (let q = 0; q < d; q++) row[q]! /= s; } };
  unit(dirA); unit(dirB);
  const inA = (f: number): boolean => f < 4 || f >= 8, inB = (f: number): boolean => f >= 4;
  const a = new Float32Array(n * d), b = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) {
    if (rng.next() >= 0.1) continue;
    const s = 0.5 + rng.next();
    for (let q = 0; q < d; q++) { if (inA(f)) a[r * d + q]! += s * dirA[f * d + q]!; if (inB(f)) b[r * d + q]! += s * dirB[f * d + q]!; }
  }
  const out = join(dir, 'cc');
  const summary = await runTraining({ activations: [npy('cc_a.npy', n, d, a), npy('cc_b.npy', n, d, b)], crosscoder: true, outDir: out, arch: 'relu', width: 32, l1: 0.05, batch: 256, tokens: 256 * 600, lr: 5e-3, seed: 2 }, noHooks);
  const cc = loadCrosscoder(out);
  assert.equal(cc.cfg.nSources, 2);
  const x = new Float32Array(n * 2 * d);
  for (let r = 0; r < n; r++) { x.set(a.subarray(r * d, (r + 1) * d), r * 2 * d); x.set(b.subarray(r * d, (r + 1) * d), r * 2 * d + d); }
  const held = 1024;
  assert.ok(ev(x.subarray(0, held * 2 * d), decodeCrosscoder(cc, encodeCrosscoder(cc, x, held), held), held, 2 * d) > 0.8, 'the crosscoder reconstructs both sources');
  const st = crosscoderLatentStats(cc);
  // each ground-truth feature's latent: the one whose (concatenated) decoder direction is closest
  const cosines: number[] = [];
  const rOf = (f: number): number => {
    let best = -Infinity, bi = -1;
    for (let i = 0; i < cc.cfg.dSae; i++) {
      let dot = 0, nn = 0, tt = 0;
      for (let q = 0; q < d; q++) {
        const ta = inA(f) ? dirA[f * d + q]! : 0, tb = inB(f) ? dirB[f * d + q]! : 0;
        const da = cc.wDec[(i * 2) * d + q]!, db = cc.wDec[(i * 2 + 1) * d + q]!;
        dot += ta * da + tb * db; nn += da * da + db * db; tt += ta * ta + tb * tb;
      }
      const c = dot / Math.sqrt(nn * tt || 1);
      if (c > best) { best = c; bi = i; }
    }
    assert.ok(best > 0.8, `feature ${f} has a latent (cos ${best})`);
    cosines.push(best);
    return st.normShare[bi * 2 + 1]!;
  };
  const exclusive = [...Array(8).keys()].map(rOf);
  const polarised = exclusive.filter((r, j) => (j < 4 ? r < 0.1 : r > 0.9)).length;
  assert.ok(polarised / 8 >= 0.9, `relative norms of exclusive features: ${exclusive.map((r) => r.toFixed(2)).join(' ')} (cos ${cosines.map((c) => c.toFixed(2)).join(' ')})`);
  const shared = [...Array(8).keys()].map((j) => rOf(8 + j));
  assert.ok(shared.every((r) => r > 0.3 && r < 0.7), `relative norms of shared features: ${shared.map((r) => r.toFixed(2)).join(' ')}`);
  const file = JSON.parse(readFileSync(join(out, CROSSCODER_LATENTS_FILE), 'utf8')) as { normShare: number[]; cosineToFirst: number[] };
  assert.equal(file.normShare.length, 64);
  assert.equal(file.cosineToFirst.length, 32);
  assert.ok((summary.crosscoder as { relativeNormCounts: { onlyFirst: number } }).relativeNormCounts.onlyFirst >= 4);
});

test('Matryoshka BatchTopK: saved with matryoshka_widths; the first prefix alone already reconstructs', async () => {
  const { n, d, data: x } = matryoshkaData(rng);
  const out = join(dir, 'mat');
  await runTraining({ activations: [npy('mat.npy', n, d, x)], matryoshkaWidths: [4, 12], outDir: out, arch: 'batchtopk', width: 32, k: 4, batch: 256, tokens: 256 * 300, lr: 5e-3, seed: 3 }, noHooks);
  const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8')) as { matryoshka_widths: number[]; k: number };
  assert.deepEqual(cfg.matryoshka_widths, [4, 12, 32]);
  const sae = loadSae(out);
  assert.deepEqual(sae.cfg.matryoshkaWidths, [4, 12, 32]);
  const { codes } = encode(sae, x, n);
  const full = ev(x, decode(sae, codes, n), n, d);
  for (let r = 0; r < n; r++) codes.fill(0, r * 32 + 4, (r + 1) * 32);
  const prefix = ev(x, decode(sae, codes, n), n, d);
  assert.ok(full > 0.8, `full EV ${full}`);
  assert.ok(prefix > 0.3, `first-prefix EV ${prefix}`);
});

test('family inputs are checked: row alignment, one kind at a time, forms SAELens cannot hold', async () => {
  const a = npy('bad_a.npy', 100, 4, new Float32Array(400).fill(1)), b = npy('bad_b.npy', 90, 4, new Float32Array(360).fill(1));
  const cases = [
    { activations: [a], target: b, outDir: join(dir, 'bad1'), arch: 'relu' as const, width: 8, batch: 10 },
    { activations: [a, b], crosscoder: true, outDir: join(dir, 'bad2'), arch: 'relu' as const, width: 8, batch: 10 },
    { activations: [a], target: a, outDir: join(dir, 'bad3'), arch: 'topk' as const, width: 8, batch: 10 },
    { activations: [a], target: a, skip: true, outDir: join(dir, 'bad4'), arch: 'jumprelu' as const, width: 8, batch: 10 },
    { activations: [a], target: a, matryoshkaWidths: [4], outDir: join(dir, 'bad5'), arch: 'batchtopk' as const, width: 8, batch: 10 },
    { activations: [a], matryoshkaWidths: [6, 4], outDir: join(dir, 'bad6'), arch: 'batchtopk' as const, width: 8, batch: 10 },
  ];
  for (const c of cases) await assert.rejects(runTraining(c, noHooks), (e: unknown) => isInputError(e), JSON.stringify(c));
});
