/**
 * Numerical equivalence, per format: the codes of a fixed batch through the loaded (canonical) SAE and
 * src/sae/forward.ts equal (1) that format's own forward pass, re-implemented here in TypeScript from
 * docs/formats.md on the raw tensors in the format's own orientation, and (2) numpy's forward pass,
 * computed by test/fixtures/make_formats.py on the arrays it wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../../src/formats';
import { decode, encode } from '../../../src/sae/forward';
import { decodeCrosscoder, encodeCrosscoder } from '../../../src/sae/crosscoder';
import { readNpy, readNpz } from '../../../src/io/npy';
import { readSafetensors } from '../../../src/io/safetensors';
import { readTorchFile, stateDict, stateDictTensors } from '../../../src/io/torch';
import { toFloat32 } from '../../../src/io/tensor';
import type { Tensor } from '../../../src/io/tensor';
import { maxRelDiff, pythonFixtures, support } from './helpers';
import type { FixtureCase } from './helpers';

const fx = pythonFixtures();
const skip = typeof fx === 'string' ? fx : false;
const N = 8;

type Raw = Map<string, Float32Array>;
const f32map = (m: Map<string, Tensor>): Raw => new Map([...m].map(([k, t]) => [k, toFloat32(t)]));

/** x [n, a] · W where W is stored [a, b]. */
function mm(x: Float32Array, W: Float32Array, n: number, a: number, b: number): Float32Array {
  const out = new Float32Array(n * b);
  for (let r = 0; r < n; r++) for (let i = 0; i < a; i++) { const v = x[r * a + i]!; for (let j = 0; j < b; j++) out[r * b + j]! += v * W[i * b + j]!; }
  return out;
}
/** x [n, a] · Wᵀ where W is stored [b, a] (nn.Linear). */
function mmT(x: Float32Array, W: Float32Array, n: number, a: number, b: number): Float32Array {
  const out = new Float32Array(n * b);
  for (let r = 0; r < n; r++) for (let j = 0; j < b; j++) { let s = 0; for (let i = 0; i < a; i++) s += x[r * a + i]! * W[j * a + i]!; out[r * b + j] = s; }
  return out;
}
const sub = (x: Float32Array, v: Float32Array, d: number): Float32Array => x.map((e, i) => e - v[i % d]!);
const add = (x: Float32Array, v: Float32Array, d: number): Float32Array => x.map((e, i) => e + v[i % d]!);
const relu = (x: Float32Array): Float32Array => x.map((e) => (e > 0 ? e : 0));
function topk(h: Float32Array, n: number, d: number, k: number): Float32Array {
  const out = new Float32Array(h.length);
  for (let r = 0; r < n; r++) {
    const idx = [...Array(d).keys()].sort((a, b) => h[r * d + b]! - h[r * d + a]!).slice(0, k);
    for (const i of idx) out[r * d + i] = Math.max(h[r * d + i]!, 0);
  }
  return out;
}

/** Each format's own forward pass (docs/formats.md), on the tensors as that format stores them. */
function referenceCodes(c: FixtureCase, dir: string, x: Float32Array): Float32Array {
  const p = join(dir, c.path);
  const D = 16;
  if (c.format === 'saelens') {
    const t = f32map(readSafetensors(join(p, 'sae_weights.safetensors')).tensors);
    const cfg = JSON.parse(readFileSync(join(p, 'cfg.json'), 'utf8'));
    const F = cfg.d_sae;
    const xc = sub(x, t.get('b_dec')!, D);
    if (c.name.includes('gated')) {
      const base = mm(xc, t.get('W_enc')!, N, D, F);
      const bg = t.get('b_gate')!, bm = t.get('b_mag')!, rm = t.get('r_mag')!;
      return base.map((v, i) => (v + bg[i % F]! > 0 ? Math.max(v * Math.exp(rm[i % F]!) + bm[i % F]!, 0) : 0));
    }
    const h = add(mm(xc, t.get('W_enc')!, N, D, F), t.get('b_enc')!, F);
    if (c.name.includes('topk')) return topk(h, N, F, cfg.activation_fn_kwargs.k);
    const th = t.get('threshold')!;
    return h.map((v, i) => (v > th[i % F]! && v > 0 ? v : 0));
  }
  if (c.format === 'sparsify') {
    const t = f32map(readSafetensors(join(p, 'sae.safetensors')).tensors);
    const cfg = JSON.parse(readFileSync(join(p, 'cfg.json'), 'utf8'));
    const F = t.get('encoder.bias')!.length;
    const input = cfg.transcode ? x : sub(x, t.get('b_dec')!, D);
    return topk(relu(add(mmT(input, t.get('encoder.weight')!, N, D, F), t.get('encoder.bias')!, F)), N, F, cfg.k);
  }
  if (c.format === 'dictionary_learning') {
    const t = f32map(stateDictTensors(stateDict(readTorchFile(join(p, 'ae.pt')), p)));
    const cfg = JSON.parse(readFileSync(join(p, 'config.json'), 'utf8')).trainer;
    const F = cfg.dict_size;
    switch (cfg.dict_class) {
      case 'AutoEncoder': return relu(add(mmT(sub(x, t.get('bias')!, D), t.get('encoder.weight')!, N, D, F), t.get('encoder.bias')!, F));
      case 'GatedAutoEncoder': {
        const xe = mmT(sub(x, t.get('decoder_bias')!, D), t.get('encoder.weight')!, N, D, F);
        const g = t.get('gate_bias')!, m = t.get('mag_bias')!, r = t.get('r_mag')!;
        return xe.map((v, i) => (v + g[i % F]! > 0 ? Math.max(Math.exp(r[i % F]!) * v + m[i % F]!, 0) : 0));
      }
      case 'AutoEncoderTopK': {
        const post = relu(add(mmT(sub(x, t.get('b_dec')!, D), t.get('encoder.weight')!, N, D, F), t.get('encoder.bias')!, F));
        return topk(post, N, F, t.get('k')![0]!);
      }
      case 'BatchTopKSAE': {
        const post = relu(add(mmT(sub(x, t.get('b_dec')!, D), t.get('encoder.weight')!, N, D, F), t.get('encoder.bias')!, F));
        const th = t.get('threshold')![0]!;
        return post.map((v) => (v > th ? v : 0));
      }
      case 'MatryoshkaBatchTopKSAE': {
        const post = relu(add(mm(sub(x, t.get('b_dec')!, D), t.get('W_enc')!, N, D, F), t.get('b_enc')!, F));
        const th = t.get('threshold')![0]!;
        return post.map((v) => (v > th ? v : 0));
      }
      default: { // JumpReluAutoEncoder: ReLU(h·𝟙[h>θ]), b_dec not subtracted
        const pre = add(mm(x, t.get('W_enc')!, N, D, F), t.get('b_enc')!, F);
        const th = t.get('threshold')!;
        return relu(pre.map((v, i) => (v > th[i % F]! ? v : 0)));
      }
    }
  }
  if (c.format === 'openai') {
    const sd = stateDict(readTorchFile(p), p);
    const t = f32map(stateDictTensors(sd));
    const F = t.get('latent_bias')!.length;
    const xn = new Float32Array(x.length);
    for (let r = 0; r < N; r++) {
      const row = x.subarray(r * D, (r + 1) * D);
      const mu = row.reduce((a, b) => a + b, 0) / D;
      const sd2 = Math.sqrt(row.reduce((a, b) => a + (b - mu) ** 2, 0) / (D - 1));
      for (let j = 0; j < D; j++) xn[r * D + j] = (row[j]! - mu) / (sd2 + 1e-5);
    }
    const k = (sd.get('activation_state_dict') as Map<string, number>).get('k')!;
    return topk(add(mmT(sub(xn, t.get('pre_bias')!, D), t.get('encoder.weight')!, N, D, F), t.get('latent_bias')!, F), N, F, k);
  }
  if (c.format === 'gemmascope') {
    const t = f32map(readNpz(join(p, 'params.npz')));
    const F = t.get('b_enc')!.length;
    const h = add(mm(x, t.get('W_enc')!, N, D, F), t.get('b_enc')!, F);
    const th = t.get('threshold')!;
    return h.map((v, i) => (v > th[i % F]! ? Math.max(v, 0) : 0));
  }
  if (c.format === 'transcoder') {
    const t = f32map(readSafetensors(p).tensors);
    const F = t.get('b_enc')!.length;
    // each release's own orientation: circuit-tracer W_enc [d, F]; mntss and mwhanna store W_enc [F, d]
    const pre = add(c.name === 'circuit_tracer' ? mm(x, t.get('W_enc')!, N, D, F) : mmT(x, t.get('W_enc')!, N, D, F), t.get('b_enc')!, F);
    if (t.has('threshold')) { const th = t.get('threshold')!; return pre.map((v, i) => (v > th[i % F]! ? v : 0)); }
    return relu(pre);
  }
  throw new Error(`no reference forward for ${c.format}`);
}

test('every format: loaded codes equal the format\'s own forward (TS) and numpy\'s', { skip }, () => {
  const { dir, cases } = fx as Exclude<typeof fx, string>;
  const x = toFloat32(readNpy(join(dir, 'expected', 'x.npy')));
  const formats = new Set<string>();
  for (const c of cases.filter((k) => k.format !== 'crosscoder')) {
    const loaded = loadModel(join(dir, c.path));
    assert.equal(loaded.kind, 'sae', c.name);
    if (loaded.kind !== 'sae') continue;
    assert.equal(loaded.format.id, c.format, `${c.name}: detected format`);
    formats.add(c.format);
    const ours = encode(loaded.sae, x, N).codes;
    const ref = referenceCodes(c, dir, x);
    const numpy = toFloat32(readNpy(join(dir, 'expected', `${c.name}.npy`)));
    assert.ok(ours.some((v) => v > 0), `${c.name}: some latents fire`);
    assert.equal(support(ours), support(ref), `${c.name}: same active latents as the TS reference`);
    assert.equal(support(ours), support(numpy), `${c.name}: same active latents as numpy`);
    assert.ok(maxRelDiff(ours, ref) < 1e-5, `${c.name}: codes vs TS reference ${maxRelDiff(ours, ref)}`);
    assert.ok(maxRelDiff(ours, numpy) < 1e-5, `${c.name}: codes vs numpy ${maxRelDiff(ours, numpy)}`);
    if (c.recon_npy) {
      const { codes, norm } = encode(loaded.sae, x, N);
      const recon = decode(loaded.sae, codes, N, norm, x);
      const want = toFloat32(readNpy(join(dir, 'expected', `${c.recon_npy}.npy`)));
      assert.ok(maxRelDiff(recon, want) < 1e-5, `${c.name}: reconstruction vs numpy ${maxRelDiff(recon, want)}`);
    }
    if (c.matryoshka) assert.deepEqual(loaded.sae.cfg.matryoshkaWidths, c.matryoshka);
  }
  assert.deepEqual([...formats].sort(), ['dictionary_learning', 'gemmascope', 'openai', 'saelens', 'sparsify', 'transcoder']);
});

test('crosscoder: codes and reconstruction equal the reference forward and numpy', { skip }, () => {
  const { dir, cases } = fx as Exclude<typeof fx, string>;
  const c = cases.find((k) => k.format === 'crosscoder')!;
  const loaded = loadModel(join(dir, c.path));
  assert.equal(loaded.kind, 'crosscoder');
  if (loaded.kind !== 'crosscoder') return;
  const cc = loaded.crosscoder;
  assert.equal(cc.cfg.nSources, 2);
  const x2 = toFloat32(readNpy(join(dir, 'expected', 'x_crosscoder.npy')));
  const codes = encodeCrosscoder(cc, x2, N);
  // reference: f = ReLU(Σ_m x_m W_enc[m] + b_enc), straight from the raw [2, d, H] tensor
  const t = f32map(stateDictTensors(stateDict(readTorchFile(join(dir, c.path, 'cc_weights.pt')), c.path)));
  const D = 16, H = 48;
  const ref = new Float32Array(N * H);
  for (let r = 0; r < N; r++) for (let h = 0; h < H; h++) {
    let s = t.get('b_enc')![h]!;
    for (let m = 0; m < 2; m++) for (let j = 0; j < D; j++) s += x2[(r * 2 + m) * D + j]! * t.get('W_enc')![(m * D + j) * H + h]!;
    ref[r * H + h] = Math.max(s, 0);
  }
  const numpy = toFloat32(readNpy(join(dir, 'expected', 'crosscoder.npy')));
  assert.ok(maxRelDiff(codes, ref) < 1e-5 && maxRelDiff(codes, numpy) < 1e-5);
  const recon = decodeCrosscoder(cc, codes, N);
  assert.ok(maxRelDiff(recon, toFloat32(readNpy(join(dir, 'expected', 'crosscoder_recon.npy')))) < 1e-5);
});
