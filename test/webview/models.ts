/** Synthetic panel models (no SAE needed) for the browser, tree, diagnostics and training tests and the bench. */
import type { DiagnosticsModel, DictionaryModel, GroundTruthModel, SaeCard, SplitTreeModel } from '../../src/protocol/viewModels';
import { EDGE_KIND, FLAG, NODE_KIND } from '../../src/protocol/viewModels';
import type { TrainingProgress } from '../../src/protocol/training';
import { HOSTILE, rng } from './fixtures';

export const CARD: SaeCard = { name: 'synthetic-sae', path: '/tmp/synthetic-sae', format: 'saelens', architecture: 'topk', activation: 'topk', k: 32, dIn: 768, dSae: 131072, dOut: 768, transcoder: false, hookName: 'blocks.6.hook_resid_post', dtype: 'float32' };

/** `count` latents with seeded random columns; latent 3 dead, every 97th dense; labels on some (hostile ones included). */
export function bigDictionary(count: number, seed = 7): DictionaryModel {
  const r = rng(seed);
  const density = new Float32Array(count), mean = new Float32Array(count), max = new Float32Array(count), stat = new Float32Array(count);
  const flags = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    density[i] = 10 ** (-5 + 4 * r());
    mean[i] = 1 + r();
    max[i] = mean[i]! * (1 + 3 * r());
    stat[i] = r() * 0.3;
    if (i % 97 === 5) { density[i] = 0.2 + 0.3 * r(); flags[i]! |= FLAG.dense; }
    if (stat[i]! > 0.2) flags[i]! |= FLAG.nonStationary;
  }
  density[3] = 0; mean[3] = 0; max[3] = 0; stat[3] = NaN; flags[3] = FLAG.dead;
  const labelled: number[] = [], texts: string[] = [];
  for (let i = 0; i < count; i += 10) { labelled.push(i); texts.push(i < 40 ? HOSTILE[(i / 10) % HOSTILE.length]! : `feature about topic ${i % 1000}`); }
  return {
    card: { ...CARD, dSae: count }, activationsPath: '/tmp/acts.npy', notes: ['synthetic'], l0PerToken: Float32Array.from({ length: 512 }, () => 20 + 20 * r()),
    metrics: { tokens: 512, explainedVariance: 0.81, l0: 31.5, deadFraction: 1 / count, denseFraction: 0.01, msePerElement: 0.002, ssePerToken: 1.5 },
    latents: {
      count, density, meanActivation: mean, maxActivation: max, decoderNorm: new Float32Array(count).fill(1), maxDecoderCosine: Float32Array.from({ length: count }, () => 0.2 + 0.6 * r()),
      maxCosineExact: true, stationarity: stat, stationaritySource: 'diagnostics', flags, labels: { latents: Int32Array.from(labelled), texts },
    },
  };
}

/** Three widths; each wider node hangs under a narrower one; a few merges, novel and absorbed nodes. */
export function splitTreeModel(total: number, seed = 3): SplitTreeModel {
  const r = rng(seed);
  const w0 = Math.max(2, Math.round(total / 13)), w1 = Math.round(total * 4 / 13), w2 = total - w0 - w1;
  const sae: number[] = [], latent: number[] = [], kind: number[] = [], labels: string[] = [];
  const push = (s: number, l: number): void => { sae.push(s); latent.push(l); kind.push(0); labels.push(l % 5 === 0 ? (l === 0 ? HOSTILE[0]! : `topic ${l}`) : ''); };
  for (let i = 0; i < w0; i++) push(0, i);
  for (let i = 0; i < w1; i++) push(1, i);
  for (let i = 0; i < w2; i++) push(2, i);
  const from: number[] = [], to: number[] = [], cos: number[] = [], cont: number[] = [], ek: number[] = [];
  const edge = (a: number, b: number, k: number): void => { from.push(a); to.push(b); cos.push(0.5 + 0.5 * r()); cont.push(r()); ek.push(k); };
  for (let i = 0; i < w1; i++) {
    const node = w0 + i;
    if (i % 17 === 16) { kind[node]! |= NODE_KIND.novel; continue; }
    const parent = i % w0;
    edge(parent, node, i % 11 === 3 ? EDGE_KIND.absorbed : EDGE_KIND.child);
    if (i % 11 === 3) kind[node]! |= NODE_KIND.absorbed;
  }
  for (let i = 0; i < w2; i++) {
    const node = w0 + w1 + i;
    const parent = w0 + (i % w1);
    edge(parent, node, EDGE_KIND.child);
    if (i % 23 === 7) { edge(w0 + ((i + 1) % w1), node, EDGE_KIND.merge); kind[node]! |= NODE_KIND.merge; }
  }
  const children = new Map<number, number>();
  from.forEach((f) => children.set(f, (children.get(f) ?? 0) + 1));
  for (const [f, c] of children) if (c >= 2) kind[f]! |= NODE_KIND.split;
  return {
    saes: [{ name: 'w-small', width: w0, path: '/a' }, { name: 'w-mid', width: w1, path: '/b' }, { name: 'w-wide', width: w2, path: '/c' }],
    nodes: { sae: Uint8Array.from(sae), latent: Int32Array.from(latent), density: Float32Array.from(latent, () => r() * 0.05), kind: Uint8Array.from(kind), labels },
    edges: { from: Int32Array.from(from), to: Int32Array.from(to), cosine: Float32Array.from(cos), containment: Float32Array.from(cont), kind: Uint8Array.from(ek) },
    source: 'diagnostics',
  };
}

/** Every diagnostics section filled, atoms 5 and 9 flagged. */
export function fullDiagnostics(atoms = 64): DiagnosticsModel {
  const r = rng(11);
  const flagged = new Uint8Array(atoms); flagged[5] = 1; flagged[9] = 1;
  const stat = Float32Array.from({ length: atoms }, (_, i) => (flagged[i] ? 0.4 + i / 100 : 0.02 * r()));
  return {
    sae: { ...CARD, dSae: atoms }, lambdaE: 0.5, lambdaSource: 'stored', tokens: 2048, notes: [],
    residualNorms: { values: Float32Array.from({ length: 2048 }, () => 0.3 + r()), source: 'diagnostics' },
    perAtom: { kktOn: Float32Array.from({ length: atoms }, () => 0.5 * r()), kktOff: new Float32Array(atoms), stationarity: stat, flagged, density: new Float32Array(atoms).fill(0.01), source: 'diagnostics' },
    spectrum: { eigenvalues: Float32Array.from({ length: 48 }, (_, i) => (i === 0 ? 9 : 1 / (1 + i / 8))), spikeRatio: 12.5, effectiveRank: 31.2, source: 'diagnostics' },
    topDirections: { kurtosis: Float32Array.of(8.1, 0.1, 0.4), maxCosine: Float32Array.of(0.3, 0.2, 0.9), nearestAtom: Int32Array.of(12, 7, 33), source: 'diagnostics' },
    amortisation: { objectiveGap: 0.031, supportJaccard: 0.82, encoderDead: 3, dictionaryDead: 1, source: 'diagnostics' },
    widthGap: { objective: 1.2, wideLimit: 0.9, gap: 1 / 3, source: 'diagnostics' },
    bestNewAtom: { gain: 0.02, gainFraction: 0.04, source: 'diagnostics' },
    antipodal: { a: Int32Array.of(20), b: Int32Array.of(21), cosine: Float32Array.of(-0.97), coactivation: Float32Array.of(0.001), varianceShare: Float32Array.of(0.12), dense: Uint8Array.of(1), source: 'diagnostics' },
    absorption: { parent: Int32Array.of(30), absorber: Int32Array.of(31), rate: Float32Array.of(0.66), cosine: Float32Array.of(0.7), exclusivity: Float32Array.of(0.95), full: Uint8Array.of(1), source: 'diagnostics' },
  };
}

export function progressEvents(count: number, runId = 'run-1'): TrainingProgress[] {
  return Array.from({ length: count }, (_, i) => ({
    runId, step: (i + 1) * 10, totalSteps: count * 10 * 2, tokens: (i + 1) * 40960, totalTokens: count * 40960 * 2,
    loss: { mse: 1 / (1 + i), l1: 0.1 + 0.01 * i }, explainedVariance: 1 - 1 / (2 + i), l0: 100 / (1 + i / 5), deadFraction: 0.01 * i,
    tokensPerSecond: 20000 + i, etaSeconds: (count - i) * 2, engine: 'wasm-simd',
  }));
}

/** A ground-truth card (src/views/groundTruth.ts shape) for `count` latents; the path is hostile. */
export function groundTruthCard(count: number): GroundTruthModel {
  return {
    groundTruthPath: `/data/synth/${HOSTILE[2]}/ground_truth.safetensors`, activationsPath: '/data/synth/activations.npy', foundBy: 'training log',
    metrics: {
      features: 34, liveLatents: count - 1, rows: 4096, mmcs: 0.873, recovery90: 0.45, recovery95: 0.3, recoveryHungarian90: 0.41, recoveryHungarian95: 0.26,
      meanHungarianCos: 0.81, lGT: NaN, aaf: 1.7, polysemanticFraction: 0.22, encoderMaxAbsCos: 0.64,
      verdict: 'partial recovery: most features have a close atom, some are merged or split',
      reasons: { lGT: 'the ground-truth file holds no codes (too large when written)' },
    },
    bestCos: Float32Array.from({ length: count }, (_, i) => 0.5 + 0.5 * Math.cos(i)), bestFeature: Int32Array.from({ length: count }, (_, i) => i % 34),
  };
}
