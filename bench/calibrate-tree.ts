// Calibration of the cross-width split tree (C4) on trained SAEs over synthetic hierarchies with known
// parent → child relations (test/unit/diagnostics/treeHierarchy.ts, treeFamily.ts). Per seed: generate, train
// a family of ReLU and TopK SAEs (each width from its own seed), build the tree, score its edges against the
// truth per label, and each SAE's within-dictionary co-activation DAG (against the firing-checked truth,
// WITHIN_FIRING_SHARE, and at shares 0, 0.3, 0.5 beside it; each SAE counted once); then the pooled table. With a dump path, also every candidate parent's measurements and
// truth (for choosing the rule). Run: npx tsx bench/calibrate-tree.ts [seeds=5] [firstSeed=1] [dump.json]
// (thresholds are chosen on seeds 6–10, `5 6`; the figures quoted are seeds 1–5).
// Results: docs/split-trees.md ("Calibration"). Not part of `npm run bench` (no *.bench.ts suffix).
import { writeFileSync } from 'node:fs';
import { buildSplitTree, treeInputFromSae } from '../src/diagnostics/splitTree';
import { parentCandidates } from '../src/diagnostics/widthMeasures';
import { nestingCandidates } from '../src/diagnostics/nesting';
import { SPLIT_TREE } from '../src/diagnostics/thresholds';
import { dotAt } from '../src/diagnostics/linalg';
import { firingCounts, latentRows } from '../src/diagnostics/encoderCodes';
import { generateHierarchy } from '../test/unit/diagnostics/treeHierarchy';
import { TREE_SETTINGS, trainWidths } from '../test/unit/diagnostics/treeFamily';
import { WITHIN_FIRING_SHARE, addPR, firingConsistent, scoreTree, scoreWithin, trueEdges } from '../test/unit/diagnostics/treeScore';
import type { PR } from '../test/unit/diagnostics/treeScore';

const seeds = Number(process.argv[2] ?? 5);
const firstSeed = Number(process.argv[3] ?? 1);
const dumpPath = process.argv[4];
const WITHIN_SHARES = [0, 0.3, WITHIN_FIRING_SHARE, 0.5];

async function main(): Promise<void> {
  const dump: unknown[] = [];
  const pooled = new Map<string, Record<string, PR>>();
  const seenSae = new Set<string>();
  for (const s of TREE_SETTINGS) for (const arch of ['relu', 'topk'] as const) for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const h = generateHierarchy({ ...s.spec, seed });
    const t0 = Date.now();
    const saes = await trainWidths(h, s.widths, arch, seed);
    const inputs = saes.map((sae) => treeInputFromSae(sae, h.x, h.n, `w${sae.cfg.dSae}`));
    const tree = buildSplitTree(inputs);
    const score = scoreTree(tree, inputs, h);
    // Within each SAE, at the truth's firing check (WITHIN_FIRING_SHARE) and at 0 (the match alone), 0.3 and 0.5.
    // An SAE trained from the same seed on the same rows as an earlier setting's (g2-wide's width 24 is g2's)
    // is counted once.
    const saeKey = (k: number): string => `${seed} ${arch} ${JSON.stringify(s.spec)} ${k} ${s.widths[k]}`; // trainWidths' seed and data
    const within = score.matched.map((m, k) => (seenSae.has(saeKey(k)) ? undefined
      : Object.fromEntries(WITHIN_SHARES.map((q) => [q === WITHIN_FIRING_SHARE ? 'within' : `within@${q}`, scoreWithin(tree, k, m, h, q)]))));
    score.matched.forEach((_, k) => seenSae.add(saeKey(k)));
    for (const key of [`${s.name} ${arch}`, 'all']) {
      const acc = pooled.get(key) ?? {};
      for (const pp of score.perPair) for (const [label, v] of Object.entries(pp)) acc[label] = addPR(acc[label], v);
      for (const w of within) if (w) for (const [label, v] of Object.entries(w)) acc[label] = addPR(acc[label], v);
      pooled.set(key, acc);
    }
    const fmt = (p: PR): string => `${p.tp}/${p.predicted}/${p.truth}`;
    console.log(JSON.stringify({ setting: s.name, arch, seed, secs: (Date.now() - t0) / 1000, matched: score.matched.map((m) => `${m.feature.filter((v) => v >= 0).length}/${m.feature.length}`), pairs: score.perPair.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, fmt(v)]))) }));
    if (!dumpPath) continue;
    const sides = inputs.map((t) => ({ sae: t.sae, codes: t.codes, cols: latentRows(t.codes), counts: firingCounts(t.codes), unitAtoms: t.unitAtoms }));
    const live = (c: Int32Array): number[] => [...c.keys()].filter((i) => c[i]! > 0);
    // the within-SAE DAG as kept (each edge with its truth and what found it) and the true relations it missed
    const rel = (a: number, b: number): string => {
      if (a < 0 || b < 0) return 'unmatched';
      if (a === b) return 'same';
      let g = 0;
      for (let x = h.parent[b]!; x >= 0; x = h.parent[x]!) { g++; if (x === a) return g === 1 ? 'parent' : `ancestor${g}`; }
      for (let x = h.parent[a]!; x >= 0; x = h.parent[x]!) if (x === b) return 'descendant';
      return h.parent[a]! === h.parent[b]! && h.parent[a]! >= 0 ? 'sibling' : 'other';
    };
    score.matched.forEach((m, k) => {
      const fc = firingConsistent(m, WITHIN_FIRING_SHARE);
      const truth = new Set(trueEdges(fc, fc, h, true).map(([i, j]) => `${i}>${j}`));
      const kept = new Set<string>();
      for (const e of tree.edges) {
        if (e.kind !== 'coactivation' || tree.nodes[e.from]!.sae !== k) continue;
        const i = tree.nodes[e.from]!.latent, j = tree.nodes[e.to]!.latent;
        kept.add(`${i}>${j}`);
        dump.push({ dag: 'kept', setting: s.name, arch, seed, sae: k, parent: i, child: j, pm: m.feature[i], cm: m.feature[j], rel: rel(m.feature[i]!, m.feature[j]!), basis: e.basis, cos: e.cosine, cont: e.containment, rcont: e.reverseContainment, fwd: e.directionForward, rev: e.directionReverse, truth: truth.has(`${i}>${j}`) });
      }
      for (const key of truth) if (!kept.has(key)) { const [i, j] = key.split('>').map(Number) as [number, number]; dump.push({ dag: 'missed', setting: s.name, arch, seed, sae: k, parent: i, child: j, pm: m.feature[i], cm: m.feature[j], cos: dotAt(inputs[k]!.unitAtoms, i * h.d, inputs[k]!.unitAtoms, j * h.d, h.d) }); }
    });
    sides.forEach((sd, k) => {
      const fc = firingConsistent(score.matched[k]!, WITHIN_FIRING_SHARE);
      const truth = new Set(trueEdges(fc, fc, h, true).map(([i, j]) => `${i}>${j}`));
      for (const e of nestingCandidates(sd.codes, sd.cols, sd.counts, sd.unitAtoms, sd.sae.cfg.dOut, SPLIT_TREE.minFirings)) {
        dump.push({ within: true, setting: s.name, arch, seed, sae: k, parent: e.parent, child: e.child, pm: score.matched[k]!.feature[e.parent], cm: score.matched[k]!.feature[e.child], cos: e.cosine, fwd: e.forward, rev: e.reverse, cof: e.cofiring, rcof: e.reverseCofiring, pc: sd.counts[e.parent], cc: sd.counts[e.child], truth: truth.has(`${e.parent}>${e.child}`) });
      }
    });
    for (let p = 0; p + 1 < sides.length; p++) {
      const cand = parentCandidates(sides[p]!, sides[p + 1]!, live(sides[p]!.counts), live(sides[p + 1]!.counts));
      const truth = new Set(trueEdges(score.matched[p]!, score.matched[p + 1]!, h).map(([i, j]) => `${i}>${j}`));
      for (const [j, list] of cand) for (const c of list) dump.push({ setting: s.name, arch, seed, pair: p, j, i: c.i, jm: score.matched[p + 1]!.feature[j], im: score.matched[p]!.feature[c.i], cos: c.cosine, cont: c.containment, enc: c.encoder, str: c.strength, truth: truth.has(`${c.i}>${j}`) });
    }
  }
  const cell = (p: PR | undefined): string => (p && p.predicted + p.truth > 0 ? `${p.predicted ? p.precision.toFixed(2) : '–'} / ${p.truth ? p.recall.toFixed(2) : '–'} (${p.tp}/${p.predicted}/${p.truth})` : '–');
  const cols = ['split', 'merge', 'refined', 'novel', 'edge', 'within', ...WITHIN_SHARES.filter((q) => q !== WITHIN_FIRING_SHARE).map((q) => `within@${q}`)];
  console.log(`| setting | ${cols.map((c) => (c === 'within' ? `within-SAE DAG (firing share ≥ ${WITHIN_FIRING_SHARE})` : c)).join(' | ')} |\n|${cols.map(() => '---|').join('')}---|`);
  for (const [key, acc] of [...pooled].sort(([a], [b]) => (a === 'all' ? 1 : b === 'all' ? -1 : 0))) console.log(`| ${key} | ${cols.map((l) => cell(acc[l])).join(' | ')} |`);
  if (dumpPath) writeFileSync(dumpPath, JSON.stringify(dump));
}
void main();
