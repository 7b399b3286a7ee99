/**
 * Every panel in headless Chromium behind the same CSP as in VS Code: renders fixture data, its
 * interactions post the right messages, hostile strings stay inert text, and no console error, CSP
 * violation or network request happens. Screenshots (dark and light) go to .test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { readActivationSample } from '../../src/views/activations';
import { analyse, basicFlags } from '../../src/views/sparsePass';
import { featureModel, saeCard } from '../../src/views/panelBuilders';
import { diagnosticsModel, panelDiagnostics, PANEL_SKIP } from '../../src/views/diagnosticsPanel';
import { forward } from '../../src/sae/forward';
import { launch, watchedPage } from './browser';
import { passOf } from '../helpers/featurePass';
import { makeFixture, writeFixture } from './fixtures';
import { ARTIFACTS, hostEvent, openPanel, posted, screenshot } from './harness';
import type { Theme } from './harness';
import { bigDictionary, fullDiagnostics, groundTruthCard, progressEvents, splitTreeModel } from './models';
import { FLAG } from '../../src/protocol/viewModels';

let browser: Browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const ARGS = { saeDirs: ['/tmp/sae'] };

async function panel(name: string, theme: Theme = 'dark'): Promise<{ page: Page; problems: string[] }> {
  const w = await watchedPage(browser);
  await openPanel(w.page, name, theme);
  return w;
}

async function noHostileEffects(page: Page, problems: string[]): Promise<void> {
  const pwned = await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);
  assert.equal(pwned, undefined, 'a hostile string ran as code');
  assert.equal(await page.locator('#root img').count(), 0, 'a hostile string became an element');
  assert.equal(await page.locator('#root script').count(), 0);
  assert.deepEqual(problems, []);
}

function fixtureAnalysis(): ReturnType<typeof analyse> {
  const dir = mkdtempSync(join(tmpdir(), 'panels-'));
  const f = makeFixture();
  const p = writeFixture(dir, f);
  return analyse(f.sae, readActivationSample(p.activations, 1024, f.dIn));
}

describe('feature browser', () => {
  it('virtualises, sorts, filters, selects, opens, and keeps labels inert', async () => {
    const model = bigDictionary(5000);
    const { page, problems } = await panel('features');
    await hostEvent(page, 'load', { model, args: ARGS });
    await page.waitForSelector('.vtable-row');
    const rendered = await page.locator('.vtable-row:not([hidden])').count();
    assert.ok(rendered > 10 && rendered < 80, `only visible rows are in the DOM (got ${rendered})`);
    // sort by density, descending on first click: the first row is the densest latent
    await page.click('.vtable-hcell[data-key="density"]');
    const densest = Array.from(model.latents.density).reduce((best, v, i, arr) => (v > arr[best]! ? i : best), 0);
    assert.equal(await page.locator('.vtable-row[aria-rowindex="1"] .vtable-cell').nth(1).textContent(), `#${densest}`);
    // search by label
    await page.fill('.search input', 'topic 5');
    const expected = model.latents.labels.texts.filter((t) => t.toLowerCase().includes('topic 5')).length;
    assert.match((await page.locator('.count-line').textContent())!, new RegExp(`^${expected.toLocaleString('en-US')} of 5,000`));
    await page.fill('.search input', '');
    // flag filter: only dead
    await page.click('.chip[data-flag="dead"]');
    assert.match((await page.locator('.count-line').textContent())!, /^1 of 5,000/);
    await page.click('.chip[data-flag="dead"]');
    // hostile labels are text: the <script> label is shown literally
    await page.fill('.search input', 'script');
    const labelCell = page.locator('.vtable-row[aria-rowindex="1"] .vtable-cell').nth(2);
    assert.equal(await labelCell.textContent(), '<script>window.__pwned=1</script>');
    await page.fill('.search input', 'dcba');
    assert.equal(await page.locator('.vtable-row[aria-rowindex="1"] .vtable-cell').nth(2).textContent(), 'abc⟨U+202E⟩dcba⟨U+2066⟩x');
    await page.fill('.search input', '');
    // multi-select two rows, compare
    await page.locator('.vtable-row[aria-rowindex="1"] .select-box').click();
    await page.locator('.vtable-row[aria-rowindex="2"] .select-box').click();
    await page.click('text=Compare selected');
    await page.waitForSelector('.compare-table');
    const compare = (await posted(page)).find((m) => m.type === 'compare');
    assert.ok(compare, 'compare was posted');
    // click-through opens the feature page
    await page.locator('.vtable-row[aria-rowindex="3"] .vtable-cell').nth(1).click();
    const open = (await posted(page)).filter((m) => m.type === 'openFeature').pop();
    const third = await page.locator('.vtable-row[aria-rowindex="3"] .vtable-cell').nth(1).textContent();
    assert.deepEqual(open?.payload, { latent: Number(third!.slice(1)) });
    // view state is saved for restore
    const state = await page.evaluate(() => (window as unknown as { __state: { view: { sortKey: string; selected: number[] } } }).__state);
    assert.equal(state.view.sortKey, 'density');
    assert.equal(state.view.selected.length, 2);
    await screenshot(page, 'features-dark');
    await noHostileEffects(page, problems);
    await page.close();
    const light = await panel('features', 'light');
    await hostEvent(light.page, 'load', { model, args: ARGS });
    await light.page.waitForSelector('.vtable-row');
    await screenshot(light.page, 'features-light');
    await noHostileEffects(light.page, light.problems);
    await light.page.close();
  });
});

describe('dictionary overview', () => {
  for (const theme of ['dark', 'light', 'high-contrast'] as const) {
    it(`renders card, metrics and histograms (${theme})`, async () => {
      const model = bigDictionary(3000);
      model.training = { step: Float64Array.of(10, 20, 30), tokens: Float64Array.of(1e4, 2e4, 3e4), loss: [{ name: 'mse', values: Float32Array.of(1, 0.5, 0.3) }], explainedVariance: Float32Array.of(0.5, 0.7, 0.8), l0: Float32Array.of(60, 40, 32), deadFraction: Float32Array.of(0, 0.01, 0.02), tokensPerSecond: Float32Array.of(1, 1, 1) };
      const { page, problems } = await panel('dictionary', theme);
      await hostEvent(page, 'load', { model, args: ARGS });
      await page.waitForSelector('.metric');
      assert.equal(await page.locator('.metric').first().locator('.metric-value').textContent(), '0.81');
      assert.equal(await page.locator('figure.chart svg').count(), 8, 'four distributions and four training curves');
      await page.click('text=Browse all latents');
      assert.ok((await posted(page)).some((m) => m.type === 'openBrowser'));
      await screenshot(page, `dictionary-${theme}`);
      await noHostileEffects(page, problems);
      await page.close();
    });
  }
});

describe('ground truth and split flags', () => {
  for (const theme of ['dark', 'light'] as const) {
    it(`the overview shows the ground-truth card, each metric explained (${theme})`, async () => {
      const model = bigDictionary(300);
      model.groundTruth = groundTruthCard(300);
      const { page, problems } = await panel('dictionary', theme);
      await hostEvent(page, 'load', { model, args: ARGS });
      const card = page.locator('section.card', { has: page.locator('h2', { hasText: 'Ground truth' }) });
      await card.waitFor();
      assert.equal(await card.locator('.gt-verdict').textContent(), 'partial recovery: most features have a close atom, some are merged or split');
      const terms = await card.locator('dt').allTextContents();
      assert.deepEqual(terms.slice(0, 6), ['decoder MMCS', 'recovery@0.9 / @0.95', 'one-to-one @0.9 / @0.95', 'L_GT', 'AAF', 'encoder max |cos|']);
      const values = await card.locator('.gt-value').allTextContents();
      assert.deepEqual(values, ['0.873', '45.0% / 30.0%', '41.0% / 26.0%', '—', '1.7', '0.64']);
      const lgt = await card.locator('dd').nth(3).textContent();
      assert.match(lgt!, /not computed: the ground-truth file holds no codes/);
      assert.match((await card.locator('dd').last().textContent())!, /abc⟨U\+202E⟩dcba⟨U\+2066⟩x.*found beside the activations the training log names/);
      // readable: the explanation text has contrast against the card
      const contrast = await card.locator('dd .muted').first().evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el.closest('.card')!).backgroundColor]);
      assert.notEqual(contrast[0], contrast[1]);
      await card.screenshot({ path: join(ARTIFACTS, `groundTruth-${theme}.png`) });
      await screenshot(page, `dictionary-groundTruth-${theme}`);
      await noHostileEffects(page, problems);
      await page.close();
    });
  }

  it('the overview says why there is no ground truth', async () => {
    const model = bigDictionary(100);
    model.groundTruth = { groundTruthPath: '', activationsPath: '/a/acts.npy', foundBy: '', reason: 'no ground_truth.safetensors beside the activations (/a)' };
    const { page, problems } = await panel('dictionary', 'dark');
    await hostEvent(page, 'load', { model, args: ARGS });
    await page.waitForSelector('.gt-reason');
    assert.equal(await page.locator('.gt-reason').textContent(), 'Not available: no ground_truth.safetensors beside the activations (/a)');
    await noHostileEffects(page, problems);
    await page.close();
  });

  it('the feature browser filters and marks split latents', async () => {
    const model = bigDictionary(500);
    for (const l of [7, 42, 301]) model.latents.flags[l]! |= FLAG.split;
    const { page, problems } = await panel('features', 'dark');
    await hostEvent(page, 'load', { model, args: ARGS });
    await page.waitForSelector('.vtable-row');
    await page.click('.chip[data-flag="split"]');
    assert.match((await page.locator('.count-line').textContent())!, /^3 of 500/);
    const rows = page.locator('.vtable-row:not([hidden])');
    assert.deepEqual(await rows.locator('.vtable-cell:nth-child(2)').allTextContents(), ['#7', '#42', '#301']);
    // the rows past the filtered end are hidden on screen too, not only marked
    assert.ok((await page.locator('.vtable-row[hidden]').count()) > 0, 'the table keeps spare rows');
    assert.equal(await page.locator('.vtable-row[hidden]').first().isVisible(), false, 'a row past the end is not drawn');
    assert.match((await rows.first().locator('.vtable-cell').last().textContent())!, /split/);
    await screenshot(page, 'features-split');
    await noHostileEffects(page, problems);
    await page.close();
  });

  it('the feature page names the closest true feature', async () => {
    const a = fixtureAnalysis();
    const model = { ...featureModel(a, 2, basicFlags(a), passOf(a)), groundTruth: { feature: 5, cosine: 0.9731, features: 34 } };
    const { page, problems } = await panel('feature', 'light');
    await hostEvent(page, 'load', { model, args: ARGS });
    await page.waitForSelector('text=closest true feature');
    assert.equal(await page.locator('dt:text-is("closest true feature") + dd').textContent(), '#5 of 34, decoder cosine 0.973');
    await noHostileEffects(page, problems);
    await page.close();
  });
});

describe('feature page', () => {
  it('shows token contexts with shading, neighbours, diagnostics, and saves annotations through the host', async () => {
    const a = fixtureAnalysis();
    const flags = basicFlags(a);
    const latent = 1;
    const model = featureModel(a, latent, flags, passOf(a), { label: '<img src=x onerror="window.__pwned=3">', note: '' });
    for (const theme of ['dark', 'light'] as const) {
      const { page, problems } = await panel('feature', theme);
      await hostEvent(page, 'load', { model, args: ARGS });
      await page.waitForSelector('.example');
      assert.equal(await page.locator('.feature-label').textContent(), '<img src=x onerror="window.__pwned=3">');
      // top example activations are the largest codes of this latent, in order
      const col = Array.from(a.codes.vals.subarray(a.codes.colPtr[latent]!, a.codes.colPtr[latent + 1]!)).sort((x, y) => y - x);
      const shown = await page.locator('.examples').first().locator('.example-act').allTextContents();
      assert.equal(shown.length, Math.min(10, col.length));
      assert.equal(Number(shown[0]), Number(col[0]!.toPrecision(3)));
      // hostile token text appears literally inside token spans
      const tokens = await page.locator('.tok').allTextContents();
      assert.ok(tokens.some((t) => t.includes('<script>window.__pwned=1</script>')), 'script token shown as text');
      const focus = await page.locator('.tok-focus').count();
      assert.ok(focus >= 1);
      // the atom itself: one strip cell per input dimension, the encoder/decoder cosine, nearest inputs
      assert.equal(await page.locator('.atom-strip rect').count(), a.sae.cfg.dIn);
      assert.match(await page.locator('section:has(h2:text-is("Atom"))').innerText(), /encoder · decoder cosine\s+1(\.00)?\b/);
      assert.equal(await page.locator('.atom-nearest li').count(), 8);
      if (theme === 'dark') {
        // nearest atom link opens that feature
        const first = model.nearestByDecoder.latents[0]!;
        await page.locator('.neighbours .latent-link').first().click();
        assert.deepEqual((await posted(page)).filter((m) => m.type === 'openFeature').pop()?.payload, { latent: first });
        // annotate: a request goes to the host; the host's answer shows as saved
        await page.fill('.label-input input', 'cats on mats');
        await page.fill('.note-input textarea', 'fires on animals');
        await page.click('text=Save annotation');
        await page.waitForFunction(() => (window as unknown as { __posted: { kind: string }[] }).__posted.some((m) => m.kind === 'request'));
        const req = (await posted(page)).find((m) => m.kind === 'request')!;
        assert.equal(req.type, 'annotate');
        assert.deepEqual(req.payload, { saeDir: '/tmp/sae', latent, label: 'cats on mats', note: 'fires on animals' });
        const savedAt = '2026-01-02T12:00:00.000Z';
        await page.evaluate(([id, at]) => window.postMessage({ kind: 'response', id, ok: true, payload: { savedAt: at } }, '*'), [req.id!, savedAt] as const);
        // the time reads as a local time (not the ISO string), and the header shows the new label at once
        const local = await page.evaluate((at) => new Date(at).toLocaleString(), savedAt);
        await page.waitForSelector(`text=saved ${local}`);
        assert.equal(await page.locator('.page-header .feature-label').textContent(), 'cats on mats');
      }
      await screenshot(page, `feature-${theme}`);
      await noHostileEffects(page, problems);
      await page.close();
    }
  });
});

describe('split tree', () => {
  it('lays out, collapses, searches and opens nodes', async () => {
    const model = splitTreeModel(130);
    for (const theme of ['dark', 'light'] as const) {
      const { page, problems } = await panel('splitTree', theme);
      await page.setViewportSize({ width: 1200, height: 800 });
      await hostEvent(page, 'load', { model, args: ARGS });
      await page.waitForSelector('g.node');
      assert.match((await page.locator('.count-line').textContent())!, /^130 nodes shown, 0 collapsed/);
      const all = await page.locator('g.node').count();
      assert.ok(all > 20 && all <= 131, `nodes near the view are drawn (${all})`);
      if (theme === 'dark') {
        // collapse the first root: its subtree disappears
        const firstRoot = page.locator('g.node').first();
        await firstRoot.locator('circle').click();
        const hiddenUnderRoot0 = model.edges.from.reduce((n, f, e) => n + (f === 0 && model.edges.kind[e] !== 1 ? 1 : 0), 0);
        assert.ok(hiddenUnderRoot0 > 0);
        const status = (await page.locator('.count-line').textContent())!;
        const [shown, collapsed] = status.match(/\d+/g)!.map(Number);
        assert.ok(shown! < 130 && shown! + collapsed! === 130, `collapse hides the subtree (${status})`);
        assert.equal(await page.locator('g.node.collapsed').count(), 1);
        await page.locator('g.node.collapsed circle').click();
        assert.match((await page.locator('.count-line').textContent())!, /^130 nodes shown, 0 collapsed/);
        // search by label marks the matches
        await page.fill('.search input', 'topic 15');
        const expected = model.nodes.labels.filter((l) => l.includes('topic 15')).length;
        assert.match((await page.locator('.count-line').textContent())!, new RegExp(`· ${expected} match`));
        assert.ok(await page.locator('g.node.match').count() >= 1, 'the first match is centred and drawn');
        // the hostile label is text, and clicking a label opens the right SAE's feature
        await page.fill('.search input', 'script');
        const hostile = page.locator('g.node.match text.node-label').first();
        assert.match((await hostile.textContent())!, /^w-small #0 <script>/);
        await hostile.click();
        assert.deepEqual((await posted(page)).filter((m) => m.type === 'openFeature').pop()?.payload, { sae: 0, latent: 0 });
        await page.fill('.search input', '');
      }
      await screenshot(page, `splitTree-${theme}`);
      await noHostileEffects(page, problems);
      await page.close();
    }
  });
});

describe('diagnostics', () => {
  it('renders every section and opens flagged atoms', async () => {
    for (const theme of ['dark', 'light'] as const) {
      const { page, problems } = await panel('diagnostics', theme);
      await hostEvent(page, 'load', { model: fullDiagnostics(), args: ARGS });
      await page.waitForSelector('.point-flagged');
      assert.equal(await page.locator('.point-flagged').count(), 2);
      assert.equal(await page.locator('text=Not computed').count(), 0, 'all sections present');
      assert.equal(await page.locator('.bar-marked').count(), 1, 'spike marked');
      if (theme === 'dark') {
        await page.locator('.point-flagged').first().click();
        const open = (await posted(page)).filter((m) => m.type === 'openFeature').pop();
        assert.ok(open && [5, 9].includes((open.payload as { latent: number }).latent));
      }
      await screenshot(page, `diagnostics-${theme}`);
      await noHostileEffects(page, problems);
      await page.close();
    }
  });

  it('shows the diagnostics module\'s report of a real SAE, and a skipped section says why', async () => {
    const a = fixtureAnalysis();
    const pd = panelDiagnostics(a.sae, a.sample.x, a.sample.n, { skip: [...PANEL_SKIP, 'absorption'] });
    assert.ok('report' in pd, 'the module ran');
    const model = diagnosticsModel(pd, saeCard(a.sae));
    // Residual norms against a direct forward pass of the first row.
    const d = a.sae.cfg.dIn;
    const { recon } = forward(a.sae, a.sample.x.subarray(0, d), 1);
    let s = 0;
    for (let j = 0; j < d; j++) s += (a.sample.x[j]! - recon[j]!) ** 2;
    assert.ok(Math.abs(model.residualNorms!.values[0]! - Math.sqrt(s)) < 1e-4 * Math.max(1, Math.sqrt(s)));
    assert.ok(model.perAtom && model.spectrum && model.bestNewAtom, 'per-atom, spectrum and best new atom computed');
    assert.equal(model.reasons?.absorption, 'skipped by request');
    assert.ok((model.findings ?? []).length > 0);
    for (const theme of ['dark', 'light'] as const) {
      const { page, problems } = await panel('diagnostics', theme);
      await hostEvent(page, 'load', { model, args: ARGS });
      await page.waitForSelector('figure.chart');
      assert.equal(await page.locator('text=Not computed: skipped by request.').count(), 1);
      assert.ok(await page.locator('.finding').count() > 0);
      await screenshot(page, `diagnostics-module-${theme}`);
      await noHostileEffects(page, problems);
      await page.close();
    }
  });
});

describe('training monitor', () => {
  it('shows live progress and sends cancel and resume', async () => {
    const events = progressEvents(30);
    for (const theme of ['dark', 'light'] as const) {
      const { page, problems } = await panel('training', theme);
      const empty = { step: new Float64Array(0), tokens: new Float64Array(0), loss: [], explainedVariance: new Float32Array(0), l0: new Float32Array(0), deadFraction: new Float32Array(0), tokensPerSecond: new Float32Array(0) };
      await hostEvent(page, 'history', { model: empty, args: { saeDirs: [], runId: 'run-1' }, state: 'running' });
      for (const p of events) await hostEvent(page, 'progress', { progress: p });
      const last = events[events.length - 1]!;
      // Redraws are batched per animation frame: wait until the last event is on screen.
      await page.waitForFunction((text) => document.querySelector('.facts dd')?.textContent === text, `${last.step} / ${last.totalSteps}`);
      assert.equal(await page.locator('figure.chart svg').count(), 4);
      const facts = await page.locator('.facts dd').allTextContents();
      assert.equal(facts[0], `${last.step} / ${last.totalSteps}`);
      assert.equal(facts[2], last.tokensPerSecond.toLocaleString('en-US'));
      if (theme === 'dark') {
        await page.click('text=Cancel');
        assert.deepEqual((await posted(page)).find((m) => m.type === 'cancel')?.payload, { runId: 'run-1' });
        await hostEvent(page, 'status', { state: 'cancelled' });
        // no checkpoint to continue from: Resume stays off; the ETA is gone once the run stops
        await page.waitForFunction(() => document.querySelector('.status-line')?.textContent?.startsWith('cancelled'));
        assert.equal(await page.locator('vscode-button:has-text("Resume")').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true);
        assert.equal((await page.locator('.facts dd').allTextContents())[3], '—');
        await hostEvent(page, 'status', { state: 'cancelled', lastCheckpoint: '/x', resumable: true });
        await page.waitForSelector('vscode-button:has-text("Resume"):not([disabled])');
        await page.click('text=Resume');
        assert.deepEqual((await posted(page)).find((m) => m.type === 'resume')?.payload, { runId: 'run-1' });
      }
      await screenshot(page, `training-${theme}`);
      await noHostileEffects(page, problems);
      await page.close();
    }
  });
});
