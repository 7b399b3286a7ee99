import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSparse } from '../../../src/diagnostics/encoderCodes';
import type { EncodeKeep } from '../../../src/diagnostics/encoderCodes';
import { sealConstant, setDiagnosticThreads } from '../../../src/diagnostics/pool';
import { dictionarySae } from '../../helpers/exactDictionary';
import { decoderNorms, encode } from '../../../src/sae/forward';
import type { Sae } from '../../../src/sae/types';
import { seededRandom } from '../../../src/util/random';

after(() => setDiagnosticThreads(undefined));

/**
 * A TopK SAE whose pre-activations have exact ties (duplicated encoder columns), rows with fewer than k
 * positive values (a strongly negative b_enc on most latents), and decoder rows of unequal norms.
 */
function tiedTopK(activation: 'topk' | 'batchtopk'): { sae: Sae; x: Float32Array; n: number } {
  const m = 96, d = 20, n = 700, rnd = seededRandom(11);
  const atoms = Float32Array.from({ length: m * d }, () => rnd() - 0.5);
  const sae = dictionarySae(atoms, m, d, new Float32Array(d), 0);
  sae.cfg.activation = activation;
  sae.cfg.k = 8;
  // latents 40.. copy the encoder columns of latents 0.. (ties broken by the lower index)
  for (let j = 0; j < d; j++) for (let i = 40; i < 60; i++) sae.wEnc[j * m + i] = sae.wEnc[j * m + (i - 40)]!;
  for (let i = 0; i < m; i++) sae.bEnc[i] = (i % 20) % 8 === 0 ? 0 : -0.4;
  for (let i = 0; i < m * d; i++) sae.wDec[i]! *= 1 + ((i / d) % 5);
  for (let j = 0; j < d; j++) sae.bDec[j] = 0.05 * (rnd() - 0.5);
  sae.cfg.applyBDecToInput = true;
  const x = Float32Array.from({ length: n * d }, () => rnd() - 0.5);
  return { sae, x, n };
}

/** CSR of the reference encoder's dense codes (times `scale`), as encodeSparse must give it. */
function reference(sae: Sae, x: Float32Array, n: number, scale: Float32Array) {
  const { dSae } = sae.cfg;
  const codes = encode(sae, x, n).codes;
  const rowPtr = [0], idx: number[] = [], val: number[] = [];
  const counts = new Int32Array(dSae);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < dSae; i++) {
      const v = codes[r * dSae + i]! * scale[i]!;
      if (v > 0) { idx.push(i); val.push(Math.fround(v)); counts[i]!++; }
    }
    rowPtr.push(idx.length);
  }
  return { rowPtr: Int32Array.from(rowPtr), idx: Int32Array.from(idx), val: Float32Array.from(val), counts };
}

for (const activation of ['topk', 'batchtopk'] as const) {
  test(`${activation}: the codes-only encoder (one selection pass to CSR) gives the reference encoder's codes exactly, ties and short rows included`, () => {
    const { sae, x, n } = tiedTopK(activation);
    const norms = decoderNorms(sae);
    for (const values of ['raw', 'effective'] as const) {
      const want = reference(sae, x, n, values === 'raw' ? new Float32Array(sae.cfg.dSae).fill(1) : norms);
      // some rows keep fewer than k (negative pre-activations), and the tied columns fire
      let short = 0;
      for (let r = 0; r < n; r++) if (want.rowPtr[r + 1]! - want.rowPtr[r]! < 8) short++;
      assert.ok(short > 0 && short < n, `rows with fewer than k firings: ${short}`);
      assert.ok(want.counts.subarray(40, 60).some((c) => c > 0), 'the tied latents fire');
      for (const threads of [1, 2]) {
        setDiagnosticThreads(threads);
        for (const keep of ['codes', 'counts', 'norms'] as EncodeKeep[]) {
          const got = encodeSparse(sae, x, n, { keep, values, chunkRows: 64 });
          assert.deepEqual(got.counts, want.counts, `${values} ${keep} ×${threads}: counts`);
          if (keep === 'counts') continue;
          assert.deepEqual(got.codes.rowPtr, want.rowPtr, `${values} ${keep} ×${threads}: rowPtr`);
          assert.deepEqual(got.codes.idx, want.idx, `${values} ${keep} ×${threads}: idx`);
          assert.deepEqual(got.codes.val, want.val, `${values} ${keep} ×${threads}: val`);
        }
      }
    }
  });
}

test('a sealed SAE is encoded with the weights it had when sealed, also by a worker that held older ones', () => {
  const { sae, x, n } = tiedTopK('topk');
  const ones = new Float32Array(sae.cfg.dSae).fill(1);
  setDiagnosticThreads(2);
  encodeSparse(sae, x, n, { keep: 'codes', values: 'raw', chunkRows: 64 }); // the worker now holds these weights
  for (let i = 0; i < sae.wEnc.length; i++) sae.wEnc[i]! *= -1;
  sealConstant(sae);
  const want = reference(sae, x, n, ones);
  for (let rep = 0; rep < 2; rep++) {
    const got = encodeSparse(sae, x, n, { keep: 'codes', values: 'raw', chunkRows: 64 });
    assert.deepEqual(got.codes.idx, want.idx, `call ${rep + 1}: the worker's weights are the sealed ones`);
    assert.deepEqual(got.codes.val, want.val);
  }
});
