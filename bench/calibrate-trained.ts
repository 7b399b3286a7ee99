// Calibration of the [H] thresholds on TRAINED SAEs (not true dictionaries): per seed, train the e2e-theory
// configurations and count detections. G1 counts false positives (nothing should be flagged), G2 and G3/G4
// count true positives. Run: npx tsx bench/calibrate-trained.ts [seeds=5]. Results: docs/diagnostics.md
// ("Calibration on trained SAEs"). Not part of `npm run bench` (no *.bench.ts suffix): it is slow and prints a table.
import { cleanup, cos, diagnose, trainOn } from '../test/unit/e2e-theory/harness';
import { groundTruthMetrics } from '../src/metrics/groundTruth';
import type { AntipodalReport } from '../src/diagnostics/antipodal';
import type { AbsorptionReport } from '../src/diagnostics/absorption';
import type { ResidualReport } from '../src/diagnostics/residual';
import type { SplitTreeReport } from '../src/diagnostics/splitTree';

interface Sections { antipodal: AntipodalReport; absorption: AbsorptionReport; residual: ResidualReport; coactivation: SplitTreeReport; kkt: { sae: { summary: { fractionFlagged: number } }; exact: { summary: { fractionFlagged: number } } | null } }
const relu = { arch: 'relu' as const, l1: 1, batch: 256, tokens: 256 * 600, lr: 4e-3 };
const seeds = Number(process.argv[2] ?? 5);

async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  const missed: Record<string, unknown>[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const g1 = await trainOn(`g1-${seed}`, 'g1', { seed, tokens: 8192, dIn: 32, features: 32, sparsity: 0.95 }, { ...relu, width: 32, seed });
    const s1 = diagnose(g1).sections as unknown as Sections;
    const m1 = groundTruthMetrics(g1.sae, g1.gt);
    rows.push({ gen: 'G1', seed, rec95: m1.recovery['0.95'], fullAbs: s1.absorption.fullyAbsorbed.length, partialAbs: s1.absorption.partiallyAbsorbed.length, coactEdges: s1.coactivation.edges.length, spike: +s1.residual.spectrum.spikeRatio.toFixed(2), statFlagSae: s1.kkt.sae.summary.fractionFlagged, statFlagExact: s1.kkt.exact?.summary.fractionFlagged, antipodal: s1.antipodal.dense.length + s1.antipodal.sparse.length });
    const g2 = await trainOn(`g2-${seed}`, 'g2', { seed, tokens: 8192, dIn: 32, magnitudes: 'constant' }, { ...relu, width: 12, seed });
    const s2 = diagnose(g2).sections as unknown as Sections;
    const m2 = groundTruthMetrics(g2.sae, g2.gt);
    let flagged = 0, recovered = 0;
    for (const grp of g2.gt.hierarchy!) {
      if (m2.perFeature.bestCos[grp.parent]! < 0.9) continue;
      recovered++;
      const lat = m2.perFeature.bestLatent[grp.parent]!;
      if (s2.absorption.fullyAbsorbed.includes(lat) || s2.absorption.partiallyAbsorbed.includes(lat)) flagged++;
      else {
        const e = s2.absorption.parents.find((q) => q.latent === lat);
        missed.push({ seed, latent: lat, rate: e?.rate, present: e?.presentRows, holes: e?.holes, reason: e?.reason, absorbers: e?.absorbers.map((a) => ({ c: a.latent, held: a.holesAttributed, nesting: +a.nesting.toFixed(2), excl: +a.exclusivity.toFixed(2), coRatio: +a.coFiringActivationRatio.toFixed(2) })) });
      }
    }
    rows.push({ gen: 'G2', seed, parentsRecovered: recovered, parentsFlagged: flagged, fullAbs: s2.absorption.fullyAbsorbed.length, partialAbs: s2.absorption.partiallyAbsorbed.length, coactEdges: s2.coactivation.edges.length });
    const g3 = await trainOn(`g3-${seed}`, 'g3', { seed, tokens: 8192, dIn: 32, features: 32, sparsity: 0.95, denseScale: 0.5 }, { ...relu, width: 64, seed });
    const a3 = (diagnose(g3).sections as unknown as Sections).antipodal;
    const v = g3.gt.denseDirection!;
    rows.push({ gen: 'G3', seed, densePairs: a3.dense.length, denseAxes: a3.denseAxes.length, axisCos: a3.denseAxes.map((a) => +Math.abs(cos(a.axis, 0, v, 0, v.length)).toFixed(3)), sparse: a3.sparse.length, coactive: a3.coactive.length, kurtosis: a3.denseAxes.map((a) => +a.kurtosis.toFixed(2)), pairKurtosis: a3.dense.map((p) => +p.kurtosis.toFixed(2)) });
    const g4 = await trainOn(`g4-${seed}`, 'g4', { seed, tokens: 8192, dIn: 16, features: 16 }, { ...relu, width: 16, seed });
    const a4 = (diagnose(g4).sections as unknown as Sections).antipodal;
    rows.push({ gen: "G4", seed, denseAxesKurt: a4.denseAxes.map((a) => +a.kurtosis.toFixed(1)), dense: a4.dense.length, sparse: a4.sparse.length, coactive: a4.coactive.length, kurtosis: a4.sparse.map((p) => +p.kurtosis.toFixed(1)) });
  }
  for (const r of rows) console.log(JSON.stringify(r));
  for (const r of missed) console.log(JSON.stringify({ missedG2Parent: r }));
  cleanup();
}
void main();
