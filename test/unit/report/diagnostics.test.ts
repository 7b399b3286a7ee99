// The panels' diagnostics come from src/diagnostics: the mapping onto the panel model (absorption rows,
// antipodal pairs, flags, reasons for absent sections) and the split-tree conversion, checked against
// hand-built module reports whose expected panel rows are written out here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DiagnosticReport, DiagnosticSections } from '../../../src/diagnostics/index';
import type { SplitTreeReport } from '../../../src/diagnostics/splitTree';
import { atomDiagnostics, diagnosticFlags, diagnosticsModel, panelDiagnostics, PANEL_SKIP } from '../../../src/views/diagnosticsPanel';
import type { PanelDiagnostics } from '../../../src/views/diagnosticsPanel';
import { saeCard } from '../../../src/views/panelBuilders';
import { EDGE_KIND, FLAG, NODE_KIND } from '../../../src/protocol/viewModels';
import { splitTreeFromReport } from '../../../src/views/splitTreePanel';
import { makeFixture } from '../../webview/fixtures';

const card = saeCard(makeFixture(8, 8, 16, 4).sae);

function fakeReport(sections: Record<string, unknown>): PanelDiagnostics {
  const report: DiagnosticReport = {
    sae: { activation: 'relu', dIn: 8, dSae: 10, dOut: 8, transcoder: false, codeKind: 'l1' },
    rows: { context: 100, exact: 50, firing: 100 },
    lambdaE: { value: 0.5, source: 'stored', estimate: 0.5, ratio: 1 },
    // a fake with only the sections under test, shaped as their producers' types
    sections: sections as unknown as DiagnosticSections, findings: [{ section: 'kkt', severity: 'warning', message: 'a finding' }], timings: {}, reason: {},
  };
  return { report, residualNorms: new Float32Array(100), firing: new Float32Array(10).fill(0.1) };
}

describe('diagnostics → panel model', () => {
  const absorber = (latent: number, holesAbsorbed: number, cosine: number, exclusivity: number): Record<string, unknown> => ({ latent, holesAbsorbed, cosine, exclusivity });
  const pd = fakeReport({
    absorption: { parents: [
      { latent: 3, presentRows: 100, full: true, partial: false, absorbers: [absorber(7, 40, 0.5, 0.9), absorber(8, 10, 0.4, 0.8)] },
      { latent: 4, presentRows: 50, full: false, partial: false, absorbers: [absorber(9, 1, 0.2, 0.1)] },
      { latent: 5, presentRows: 20, full: false, partial: true, absorbers: [absorber(6, 15, 0.3, 0.7)] },
    ], fullyAbsorbed: [3], partiallyAbsorbed: [5] },
    antipodal: { dense: [{ i: 0, j: 1, cos: -0.99, coactivation: 0, varianceShare: 0.2, kind: 'dense' }], sparse: [{ i: 2, j: 9, cos: -0.95, coactivation: 0.01, varianceShare: 0.01, kind: 'sparse' }], coactive: [], reason: {} },
    kkt: { reason: { kkt: 'KKT/stationarity needs at least 40 rows; the sample has 30' } },
    residual: { reason: 'skipped by request' },
    amortisation: { reason: { amortisation: 'λ_e is unavailable' } },
    wideLimit: { reason: { wideLimit: 'skipped by request' } },
  });

  it('one absorption row per (parent, absorber) of absorbed parents, strongest first, rate = absorbed holes / present rows', () => {
    const m = diagnosticsModel(pd, card);
    assert.deepEqual(Array.from(m.absorption!.parent), [5, 3, 3]);
    assert.deepEqual(Array.from(m.absorption!.absorber), [6, 7, 8]);
    assert.deepEqual(Array.from(m.absorption!.rate, (v) => Number(v.toFixed(3))), [0.75, 0.4, 0.1]);
    assert.deepEqual(Array.from(m.absorption!.full), [0, 1, 1]);
    assert.ok(!Array.from(m.absorption!.parent).includes(4), 'a parent neither fully nor partially absorbed has no row');
  });

  it('antipodal pairs dense then sparse; absent sections carry the module\'s reason', () => {
    const m = diagnosticsModel(pd, card);
    assert.deepEqual([Array.from(m.antipodal!.a), Array.from(m.antipodal!.b), Array.from(m.antipodal!.dense)], [[0, 2], [1, 9], [1, 0]]);
    assert.equal(m.perAtom, undefined);
    assert.equal(m.reasons?.perAtom, 'KKT/stationarity needs at least 40 rows; the sample has 30');
    assert.equal(m.reasons?.spectrum, 'skipped by request');
    assert.equal(m.reasons?.bestNewAtom, 'skipped by request');
    assert.equal(m.reasons?.amortisation, 'λ_e is unavailable');
    assert.equal(m.reasons?.widthGap, 'skipped by request');
    assert.deepEqual(m.findings, [{ severity: 'warning', message: 'a finding' }]);
  });

  it('flags: antipodal on both atoms of a pair, absorbed on absorbed parents, absorber on their absorbers', () => {
    const f = diagnosticFlags(pd, 10);
    const with_ = (bit: number): number[] => [...f.keys()].filter((i) => f[i]! & bit);
    assert.deepEqual(with_(FLAG.antipodal), [0, 1, 2, 9]);
    assert.deepEqual(with_(FLAG.absorbed), [3, 5]);
    assert.deepEqual(with_(FLAG.absorber), [6, 7, 8]);
    assert.deepEqual(with_(FLAG.nonStationary), []);
  });

  it('runs the module on a real SAE: per-atom values and the feature page read the same arrays', () => {
    const fx = makeFixture(16, 24, 512, 12, 4);
    const real = panelDiagnostics(fx.sae, fx.x, fx.n, { skip: [...PANEL_SKIP, 'absorption', 'residual'] });
    assert.ok('report' in real);
    const m = diagnosticsModel(real, saeCard(fx.sae));
    const kkt = (real.report.sections.kkt as { sae: { perLatent: { stat: Float32Array; kktOn: Float32Array; flagged: Uint8Array } } }).sae.perLatent;
    const live = [...m.perAtom!.density.keys()].find((i) => Number.isFinite(kkt.stat[i]!))!;
    const atom = atomDiagnostics(real, live, 0)!;
    assert.equal(atom.stationarity, kkt.stat[live]);
    assert.equal(atom.kktOn, kkt.kktOn[live]);
    assert.equal(atom.source, 'diagnostics');
    // The dead atom (the fixture's last) has no per-atom numbers, and the model says so by NaN, not 0.
    assert.ok(Number.isNaN(m.perAtom!.stationarity[fx.dSae - 1]!));
    assert.equal(m.reasons?.absorption, 'skipped by request');
  });

  it('an L0-type (TopK) SAE: the feature page gets NaN λ_e, so it explains KKT/STAT in σ_r units and as a sine', () => {
    const fx = makeFixture(16, 24, 512, 12, 6);
    const sae = { ...fx.sae, cfg: { ...fx.sae.cfg, activation: 'topk' as const, k: 3 } };
    const pd = panelDiagnostics(sae, fx.x, fx.n, { skip: [...PANEL_SKIP, 'absorption', 'residual'] });
    assert.ok('report' in pd);
    const kkt = (pd.report.sections.kkt as { sae: { kind: string; perLatent: { stat: Float32Array } } }).sae;
    assert.equal(kkt.kind, 'l0');
    const live = [...kkt.perLatent.stat.keys()].find((i) => Number.isFinite(kkt.perLatent.stat[i]!))!;
    const atom = atomDiagnostics(pd, live, 0)!;
    assert.ok(Number.isNaN(atom.lambdaE));
    assert.equal(atom.radial, undefined, 'RAD is an L1 quantity');
    assert.ok(atom.stationarity! >= 0 && atom.stationarity! <= 1, 'a sine');
  });

  it('a transcoder without targets is refused with a reason, not a crash', () => {
    const fx = makeFixture(8, 8, 64, 4);
    const r = panelDiagnostics({ ...fx.sae, cfg: { ...fx.sae.cfg, transcoder: true } }, fx.x, fx.n);
    assert.ok('reason' in r && /target activations/.test(r.reason));
  });
});

describe('split tree report → panel model', () => {
  const node = (sae: number, latent: number, tags: string[] = []): SplitTreeReport['nodes'][number] => ({ sae, latent, density: 0.1, tags });
  const edge = (kind: 'width' | 'coactivation' | 'matryoshka', from: number, to: number): SplitTreeReport['edges'][number] => ({ kind, from, to, cosine: 0.8, containment: 0.9 });
  const base = { splits: [], merges: [], novel: [], rows: 1000 };

  it('keeps the across-width edges, drops the within-dictionary DAG, derives split / novel / merge', () => {
    const r: SplitTreeReport = {
      ...base,
      saes: [{ name: 'small', width: 2, live: 2, lambdaE: 1, rho: 1, rhoRobust: 1 }, { name: 'large', width: 4, live: 4, lambdaE: 1, rho: 1, rhoRobust: 1 }],
      nodes: [node(0, 0), node(0, 1), node(1, 0), node(1, 1), node(1, 2), node(1, 3)],
      edges: [edge('width', 0, 2), edge('width', 0, 3), edge('width', 1, 4), edge('width', 0, 4), edge('coactivation', 0, 1)],
    };
    const m = splitTreeFromReport(r, ['/a', '/b']);
    assert.deepEqual(m.saes, [{ name: 'small', width: 2, path: '/a' }, { name: 'large', width: 4, path: '/b' }]);
    assert.equal(m.edges.from.length, 4, 'the co-activation edge is not part of the tree');
    assert.ok(m.nodes.kind[0]! & NODE_KIND.split, 'three children');
    assert.ok(!(m.nodes.kind[1]! & NODE_KIND.split), 'one child');
    assert.ok(m.nodes.kind[4]! & NODE_KIND.merge, 'two parents');
    assert.ok(m.nodes.kind[5]! & NODE_KIND.novel, 'no parent at the smaller width');
    assert.ok(!(m.nodes.kind[0]! & NODE_KIND.novel), 'the narrowest SAE is never novel');
    assert.ok(Array.from(m.edges.kind).every((k) => k === EDGE_KIND.child));
  });

  it('one Matryoshka SAE becomes one column per prefix level', () => {
    const r: SplitTreeReport = {
      ...base,
      saes: [{ name: 'mat', width: 6, live: 6, lambdaE: 1, rho: 1, rhoRobust: 1 }],
      nodes: [node(0, 0, ['level:0']), node(0, 1, ['level:0']), node(0, 2, ['level:1']), node(0, 3, ['level:1']), node(0, 4, ['level:1'])],
      edges: [edge('matryoshka', 0, 2), edge('matryoshka', 0, 3), edge('matryoshka', 1, 4)],
    };
    const m = splitTreeFromReport(r, ['/m']);
    assert.deepEqual(m.saes.map((s) => s.width), [2, 3]);
    assert.deepEqual(Array.from(m.nodes.sae), [0, 0, 1, 1, 1]);
    assert.ok(m.nodes.kind[0]! & NODE_KIND.split);
  });
});
