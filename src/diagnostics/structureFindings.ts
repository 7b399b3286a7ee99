/**
 * One-sentence findings for the KKT/stationarity (B1, B2, B4), absorption (C3), residual (C5),
 * convex-reference (D2) and split-tree (C4) reports: what was found and why it matters, in docs/theory.md's terms. The Finding shape is the one
 * runDiagnostics collects (section, severity, message ending in a period).
 */
import type { AbsorptionReport } from './absorption';
import type { KktReport } from './kkt';
import type { ConvexReferenceReport } from './convexReference';
import type { ResidualReport } from './residual';
import type { SplitTreeReport } from './splitTree';
import { median } from './linalg';
import { ABSORPTION, RESIDUAL, SPLIT_TREE, statRule, THRESHOLDS } from './thresholds';

export interface StructureFinding {
  section: string;
  severity: 'info' | 'warning' | 'problem';
  message: string;
}

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : 'n/a';
}

function list(ids: number[], max = 8): string {
  return ids.slice(0, max).join(', ') + (ids.length > max ? `, … (${ids.length} in all)` : '');
}

const rangePct = (v: number[]): string => {
  const lo = Math.min(...v), hi = Math.max(...v);
  return lo === hi ? `${fmt(100 * lo)}%` : `${fmt(100 * lo)}–${fmt(100 * hi)}%`;
};

export function absorptionFindings(r: AbsorptionReport): StructureFinding[] {
  const out: StructureFinding[] = [];
  for (const p of r.parents.filter((e) => e.full).sort((a, b) => b.rate - a.rate).slice(0, 5)) {
    const top = p.absorbers.filter((a) => a.holesAbsorbed > 0).map((a) => `${a.latent} (cos ${fmt(a.cosine, 2)})`).slice(0, 3).join(', ');
    out.push({ section: 'absorption', severity: 'warning', message: `latent ${p.latent} is fully absorbed: it is silent on ${fmt(100 * p.rate)}% of the rows that carry its direction, where ${top} fire instead and never with it — the optimal response to a nested (child) feature, so this latent does not mean "${p.latent} absent" where it is off (C3).` });
  }
  const holes = r.parents.filter((e) => e.partialHoles && !e.absorbers.some((a) => a.partial));
  const partial = r.partiallyAbsorbed.filter((l) => !r.fullyAbsorbed.includes(l) && !holes.some((e) => e.latent === l));
  if (holes.length) out.push({ section: 'absorption', severity: 'info', message: `latents ${list(holes.map((e) => e.latent))} are partly absorbed: each is silent on ${rangePct(holes.map((e) => e.rate))} of the rows that carry its direction, where more specific latents that carry it fire instead, and fires with them on the rest (C3).` });
  if (partial.length) out.push({ section: 'absorption', severity: 'info', message: `latents ${list(partial)} are partially absorbed: they fire weakly (below half their median activation) together with more specific latents that carry their direction, so their activation understates how present the feature is (C3).` });
  if (r.groundTruth) {
    for (const g of r.groundTruth.filter((e) => e.rate >= 0.5)) out.push({ section: 'absorption', severity: 'info', message: `ground truth: parent feature ${g.parentFeature} (matched to latent ${g.matchedLatent}, cos ${fmt(g.matchCosine, 2)}) is absorbed on ${fmt(100 * g.rate)}% of its child events (C3).` });
  }
  if (!out.length) out.push(noAbsorptionFinding(r));
  return out;
}

/**
 * The sentence when no latent is flagged: it states what the numbers show — on what share of the rows that
 * carry a latent's direction the latent is silent (its holes), and what share of those holes an absorber
 * takes — and claims "the latent itself fires" only when the holes are few.
 */
export function noAbsorptionFinding(r: AbsorptionReport): StructureFinding {
  const examined = r.parents.filter((p) => p.presentRows > 0 && !p.reason);
  if (!examined.length) return { section: 'absorption', severity: 'info', message: 'no latent had enough rows carrying its direction to measure absorption (C3).' };
  const holeShare = median(examined.map((p) => p.holes / p.presentRows));
  const withHoles = examined.filter((p) => p.holes > 0);
  const taken = withHoles.length ? median(withHoles.map((p) => p.absorbed / p.holes)) : 0;
  const pct = (v: number): string => `${fmt(100 * v)}%`;
  if (holeShare <= ABSORPTION.fewHoles) return { section: 'absorption', severity: 'info', message: `no latent is flagged as absorbed: on the rows that carry a latent's direction (q ≥ τ), the latent itself fires on a median ${pct(1 - holeShare)} of them (${examined.length} latents examined) (C3).` };
  return { section: 'absorption', severity: 'warning', message: `no latent is flagged as absorbed, but on a median ${pct(holeShare)} of the rows that carry a latent's direction (q ≥ τ) the latent does not fire, and absorbers take a median ${pct(taken)} of those rows (${examined.length} latents examined): where these latents are silent their direction is often present anyway, so their silence does not mean the feature is absent — the presence test also counts rows where other atoms overlap the direction, so read it with the per-latent holes in the table (C3).` };
}

export function residualFindings(r: ResidualReport): StructureFinding[] {
  const out: StructureFinding[] = [];
  for (const e of r.spectrum.top.filter((t) => t.isSpike)) {
    const why = e.interpretation === 'unlearned sparse feature' ? `heavy-tailed (excess kurtosis ${fmt(e.kurtosis)}): a sparse feature the dictionary has not learned`
      : e.interpretation === 'unlearned dense direction' ? `two-sided with excess kurtosis ${fmt(e.kurtosis)}: a dense direction the dictionary cannot represent with nonnegative codes — expect an antipodal pair at larger width`
        : e.interpretation === 'partial-absorption residue' ? `along atom ${e.nearestAtom} (cos ${fmt(e.nearestCosine, 2)}): that latent misses part of its own feature, typically a partial-absorption residue`
          : `not classifiable (excess kurtosis ${fmt(e.kurtosis)}, nearest atom cos ${fmt(e.nearestCosine, 2)})`;
    out.push({ section: 'residual', severity: e.interpretation === 'unclassified' ? 'info' : 'warning', message: `residual eigenvector ${e.rank + 1} carries ${fmt(e.ratioToMedian)}× the median residual variance and is ${why} (C5).` });
  }
  if (!r.spectrum.spike && Number.isFinite(r.spectrum.spikeRatio)) out.push({ section: 'residual', severity: 'info', message: `the residual has no spike (μ₁/median ${fmt(r.spectrum.spikeRatio)} ≤ ${RESIDUAL.spikeRatio}, effective rank ${fmt(r.spectrum.effectiveRank)}): no single direction is left unlearned (C5).` });
  const g = r.gain;
  if (Number.isFinite(g.gStar)) {
    out.push(g.isZero
      ? { section: 'residual', severity: 'info', message: `no new atom would lower the objective (G* = 0, max‖r‖/λ_e = ${fmt(g.maxResidualNormOverLambda)} ≤ 1): the dictionary meets the infinite-width optimality condition on this sample (C5, D1).` }
      : { section: 'residual', severity: g.gStarRatio > 0.05 ? 'warning' : 'info', message: `one new atom along u* would remove ${fmt(100 * g.gStarRatio)}% of the residual objective E[½‖r‖²] (used by ${fmt(100 * g.shareRowsUsingDirection)}% of rows; nearest atom ${g.nearestAtom}, cos ${fmt(g.nearestCosine, 2)}): resample dead latents toward u* (C5).` });
  }
  if (Number.isFinite(r.inSpan.excess) && r.inSpan.excess > 0.05) out.push({ section: 'residual', severity: 'warning', message: `${fmt(100 * r.inSpan.fraction)}% of the residual lies in the span of each row's own active atoms, against ${fmt(100 * r.inSpan.predicted)}% that exact on-support codes would leave: the encoder under-uses atoms it already selected (C5).` });
  return out;
}

export function convexReferenceFindings(r: ConvexReferenceReport): StructureFinding[] {
  if (r.reason && !Number.isFinite(r.sae.objective)) return [];
  const out: StructureFinding[] = [];
  if (Number.isFinite(r.sae.gapToFrontier)) {
    out.push({ section: 'convexReference', severity: r.sae.gapToFrontier > 0.1 ? 'warning' : 'info', message: r.sae.gapToFrontier > 0
      ? `with exact codes the SAE's ${r.sae.liveAtoms} atoms reach an objective ${fmt(100 * r.sae.gapToFrontier)}% above the convex reference frontier at the same atom count: a convex selection from ${r.candidates.total} candidate directions does better, so the dictionary is not the best of its width (D2).`
      : `with exact codes the SAE's ${r.sae.liveAtoms} atoms beat the convex reference frontier at the same atom count by ${fmt(-100 * r.sae.gapToFrontier)}%: the candidate set cannot improve on the trained dictionary (D2).` });
  }
  if (!r.certificate.holds) out.push({ section: 'convexReference', severity: 'info', message: `the γ = 0 reference solve stopped with a KKT violation of ${fmt(r.certificate.maxViolation)} λ_e (> 10⁻³): frontier values are approximate (D2).` });
  return out;
}

export function splitTreeFindings(r: SplitTreeReport): StructureFinding[] {
  const out: StructureFinding[] = [];
  const within = r.edges.filter((e) => e.kind === 'coactivation');
  const certified = within.filter((e) => e.nonStationary).length;
  if (within.length) out.push({ section: 'tree', severity: 'warning', message: `${within.length} latent pairs are nested (one fires on ≥ 90% of the other's firings), ${certified} of them certified non-stationary by V_ij > 0: a stationary dictionary resolves such hierarchies by absorption, so these latents are not converged (C4).` });
  const strict = r.splits.filter((s) => s.split);
  if (r.splits.length) out.push({ section: 'tree', severity: 'info', message: `${r.splits.length} latents split across widths (two or more children each, every edge with confidence ≥ ${SPLIT_TREE.edgeConfidence}); ${strict.length} of them pass the strict split test (children cover ≥ 80% of the parent's firings and no two fire at comparable strength on more than 10% of rows), ${strict.filter((s) => !s.centroidOk).length} of those fail the centroid check (the parent is not the code-weighted mean of its children) (C4).` });
  if (r.merges.length) out.push({ section: 'tree', severity: 'info', message: `${r.merges.length} larger-width latents merge two or more smaller-width latents: refinement across widths is not a tree there (C4).` });
  return out;
}

/** SE beside a value: "0.687 ± 0.05" when the bootstrap SE is known. */
function withSE(v: number, se: number | undefined): string {
  return se !== undefined && Number.isFinite(se) ? `${fmt(v)} ± ${fmt(se, 2)}` : fmt(v);
}

/**
 * B1 code quality, the exact solver's sanity, and B2/B4 stationarity. "Nothing flagged" is split into a
 * real pass (STAT within the noise) and a sample-size limit (STAT above the noise but under 3·SE), with
 * the rows that would resolve it, because the floor SE_i falls as 1/√rows while STAT does not.
 */
export function kktFindings(k: KktReport, label: string): StructureFinding[] {
  const f: StructureFinding[] = [];
  const s = k.summary;
  if (k.source === 'sae' && s.codeQuality !== 'n/a') {
    f.push({ section: 'kkt', severity: s.codeQuality === 'poor' ? 'problem' : s.codeQuality === 'fair' ? 'warning' : 'info',
      message: k.kind === 'l0'
        ? `${label}: code-space KKT is ${s.codeQuality} on the L0 scale (in units of the encoder's threshold θ, the row's smallest material code or the latent's threshold: median KKT_on ${withSE(s.kktOn.median, s.kktOn.se?.median)}, the RMS of ⟨d̂_i, r⟩/θ on the support; median KKT_off ${withSE(s.kktOff.median, s.kktOff.se?.median)}, the share of off-support rows with ⟨d̂_i, r⟩ > ${THRESHOLDS.kktOffMargin}θ): ${s.codeQuality === 'good' ? 'the encoder keeps the atoms the residual asks for and fits their magnitudes' : 'the encoder leaves out atoms the residual asks for, or misfits the magnitudes of those it keeps (B1 for L0 codes), so part of the loss is amortisation error rather than a dictionary problem'}.`
        : `${label}: code-space KKT is ${s.codeQuality} (median KKT_on ${withSE(s.kktOn.median, s.kktOn.se?.median)}, median KKT_off ${withSE(s.kktOff.median, s.kktOff.se?.median)}): ${s.codeQuality === 'good' ? 'the encoder returns nearly the lasso-optimal codes for its own dictionary' : 'the encoder\'s codes are not the optimal codes for its own dictionary (B1), so part of the loss is amortisation error rather than a dictionary problem'}.` });
  }
  if (k.source === 'exact' && Number.isFinite(s.maxKktOn) && s.maxKktOn > THRESHOLDS.kktOnSolver) {
    f.push({ section: 'kkt', severity: 'warning', message: `${label}: the exact solver left KKT_on up to ${fmt(s.maxKktOn)} (> ${THRESHOLDS.kktOnSolver}); exact-code statistics are approximate.` });
  }
  const rowsOption = k.source === 'exact' ? '--exact-rows' : '--sample-rows';
  const rule = statRule(k.kind);
  const floor = `the noise floor SE (median ${fmt(s.statSE.median)}) at a median ${Math.round(s.firings.median)} firings per atom in ${k.rows} rows`;
  const unresolved = s.unresolved > 0
    ? `${s.unresolved} atoms have STAT above what noise explains (√(STAT² − SE²) > ${rule.floor}) but below ${rule.sigmas}·SE; SE falls as 1/√rows, so about ${Math.round(s.rowsToResolve)} rows (median over those atoms; ${rowsOption} in the CLI) would decide them`
    : '';
  if (Number.isFinite(s.fractionFlagged) && s.fractionFlagged > 0) {
    const top = k.pull.slice(0, 3).map((p) => `${p.latent}→${p.toward[0] ?? '?'}`).join(', ');
    const fse = k.bootstrap && Number.isFinite(k.bootstrap.fractionFlaggedSE) ? ` ± ${fmt(100 * k.bootstrap.fractionFlaggedSE, 2)}` : '';
    f.push({ section: 'kkt', severity: s.fractionFlagged > 0.1 ? 'problem' : 'warning',
      message: `${label}: ${(100 * s.fractionFlagged).toFixed(1)}%${fse} of measured atoms are non-stationary (STAT above max(${rule.sigmas}·SE, ${rule.floor})): each such atom is not the direction of its code-weighted residual (B2), so training has not converged or the atom sits between features it should split or merge${top ? `; strongest pulls ${top}` : ''}${unresolved ? `. Besides, ${unresolved}` : ''}.` });
  } else if (Number.isFinite(s.fractionFlagged) && s.unresolved > 0) {
    f.push({ section: 'kkt', severity: 'info',
      message: `${label}: no atom is flagged non-stationary, but only because the sample is small: median STAT ${withSE(s.stat.median, s.stat.se?.median)} is within 3× ${floor}. ${unresolved[0]!.toUpperCase()}${unresolved.slice(1)}.` });
  } else if (Number.isFinite(s.fractionFlagged)) {
    f.push({ section: 'kkt', severity: 'info', message: `${label}: no atom is measurably non-stationary (median STAT ${withSE(s.stat.median, s.stat.se?.median)}, ${floor}): the dictionary satisfies the first-order condition E[ã_i r] ∥ d̂_i within sampling noise.` });
  }
  return f;
}
