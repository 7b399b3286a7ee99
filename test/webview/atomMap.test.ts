/**
 * The atom map in headless Chromium behind the panels' CSP: it draws a fixture dictionary, colours by
 * every mode, hover names the atom, a click opens its feature page, the lasso opens the selection in the
 * latent browser, and hostile labels stay inert text. Screenshots (dark, light) go to .test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { AtomMapModel } from '../../src/protocol/viewModels';
import { DUPLICATED } from '../../src/protocol/viewModels';
import { FLAG } from '../../src/protocol/viewModels';
import { launch, watchedPage } from './browser';
import { HOSTILE, rng } from './fixtures';
import { hostEvent, openPanel, posted, screenshot } from './harness';
import type { Theme } from './harness';

let browser: Browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Two SAEs (300 + 900 atoms) in 12 clusters; atom 0 and 1 an antipodal pair; some labels hostile. */
function fixtureMap(): AtomMapModel {
  const r = rng(5);
  const widths = [300, 900];
  const count = widths[0]! + widths[1]!;
  const xy = new Float32Array(count * 2);
  const family = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 12;
    family[i] = c;
    const ang = (c / 12) * 2 * Math.PI;
    xy[2 * i] = 0.7 * Math.cos(ang) + (r() - 0.5) * 0.12;
    xy[2 * i + 1] = 0.7 * Math.sin(ang) + (r() - 0.5) * 0.12;
  }
  // the antipodal pair on opposite sides
  xy.set([-0.9, 0, 0.9, 0], 0);
  const flags = new Uint16Array(count);
  flags[0] = flags[1] = FLAG.antipodal | FLAG.dense;
  flags[5] = FLAG.dead; flags[7] = DUPLICATED; flags[9] = FLAG.absorbed;
  const density = Float32Array.from({ length: count }, (_, i) => (i === 5 ? 0 : 10 ** (-4 + 3 * r())));
  const latents: number[] = [], texts: string[] = [];
  for (let i = 10; i < 10 + HOSTILE.length; i++) { latents.push(i); texts.push(HOSTILE[i - 10]!); }
  latents.push(20); texts.push('colour words');
  const tag = Int16Array.from({ length: count }, (_, i) => (i % 50 === 0 ? (i / 50) % 3 : -1));
  return {
    saes: [{ name: 'width-300', dir: '/tmp/a', width: 300, offset: 0 }, { name: 'width-900', dir: '/tmp/b', width: 900, offset: 300 }],
    count, xy, density, flags, family, tag, tagNames: ['colour', 'syntax', HOSTILE[0]!],
    groundTruthCos: Float32Array.from({ length: count }, () => r()),
    labels: { latents: Int32Array.from(latents), texts },
    pairs: { a: Int32Array.from([0]), b: Int32Array.from([1]), dense: Uint8Array.from([1]) },
    notes: ['width-300: density and flags measured on 4,096 rows of /tmp/acts.npy'],
    layout: { seed: 0, neighbors: 15, epochs: 500, cached: false },
  };
}

async function mapPage(theme: Theme): Promise<{ page: Page; problems: string[]; model: AtomMapModel }> {
  const w = await watchedPage(browser);
  await openPanel(w.page, 'atomMap', theme);
  const model = fixtureMap();
  await hostEvent(w.page, 'load', { model, args: { saeDirs: ['/tmp/a', '/tmp/b'] } });
  await w.page.waitForSelector('canvas.atom-canvas');
  return { ...w, model };
}

/** Page coordinates of atom i under the initial (identity) zoom. */
async function atomAt(page: Page, m: AtomMapModel, i: number): Promise<{ x: number; y: number }> {
  const box = (await page.locator('canvas.atom-canvas').boundingBox())!;
  return { x: box.x + ((m.xy[2 * i]! + 1) / 2 * 0.96 + 0.02) * box.width, y: box.y + ((1 - (m.xy[2 * i + 1]! + 1) / 2) * 0.96 + 0.02) * box.height };
}

/** How many distinct non-background colours the canvas shows (sampled). */
async function paintedColours(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.querySelector('canvas.atom-canvas') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<string>();
    for (let i = 0; i < d.length; i += 4 * 7) if (d[i + 3]! > 200) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return seen.size;
  });
}

/** Chromium's hint about this test's own getImageData readbacks is not a problem of the page. */
const notOurReadback = (p: string): boolean => !p.includes('willReadFrequently');

describe('atom map', () => {
  it('draws every mode with a legend, hovers, clicks through, lassoes, and keeps labels inert', async () => {
    const { page, problems, model } = await mapPage('dark');
    assert.ok(await paintedColours(page) > 5, 'the points are drawn in several colours');
    for (const mode of ['density', 'flags', 'tag', 'family', 'sae', 'groundTruth']) {
      await page.selectOption('select.atom-colour', mode);
      const items = await page.locator('.atom-legend li').count();
      assert.ok(items >= 2, `${mode}: a legend with at least two entries (got ${items})`);
      assert.ok(await paintedColours(page) >= 2, `${mode}: points drawn`);
    }
    await page.selectOption('select.atom-colour', 'flags');
    assert.match(await page.locator('.atom-legend').innerText(), /dead[\s\S]*antipodal pair[\s\S]*duplicated atom/);
    const state = await page.evaluate(() => (window as unknown as { __state: { view?: { colour: string } } }).__state);
    assert.equal(state.view?.colour, 'flags', 'the colour mode is kept in the webview state');

    // hover over a labelled atom with a hostile label: named as text
    const p10 = await atomAt(page, model, 10);
    await page.mouse.move(p10.x, p10.y);
    await page.waitForFunction(() => /#10/.test(document.querySelector('.atom-info')!.textContent ?? ''));
    assert.match(await page.locator('.atom-info').innerText(), /width-300 #10 · density/);

    // click opens the feature page of the right SAE and latent (atom 400 = width-900's latent 100)
    const p400 = await atomAt(page, model, 400);
    await page.mouse.move(p400.x, p400.y);
    await page.mouse.down(); await page.mouse.up();
    const open = (await posted(page)).filter((m) => m.type === 'openFeature').pop();
    assert.deepEqual(open?.payload, { latent: 100, sae: 1 });

    // lasso around the pair's left atom (0 at x = −0.9) and nothing else
    await page.click('vscode-button:has-text("Lasso")');
    const a0 = await atomAt(page, model, 0);
    await page.mouse.move(a0.x - 12, a0.y - 12);
    await page.mouse.down();
    for (const [dx, dy] of [[12, -12], [12, 12], [-12, 12], [-12, -12]] as const) await page.mouse.move(a0.x + dx, a0.y + dy, { steps: 3 });
    await page.mouse.up();
    await page.waitForSelector('.atom-selection vscode-button');
    assert.match(await page.locator('.atom-selection').innerText(), /1 atoms selected/);
    await page.click('.atom-selection vscode-button:has-text("latent browser")');
    const browserMsg = (await posted(page)).filter((m) => m.type === 'openBrowser').pop();
    const payload = browserMsg?.payload as { sae: number; latents: Record<string, number> | Int32Array };
    assert.equal(payload.sae, 0);
    assert.deepEqual(Object.values(payload.latents), [0]);

    const pwned = await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);
    assert.equal(pwned, undefined, 'a hostile label ran as code');
    assert.equal(await page.locator('#root img').count(), 0, 'a hostile label became an element');
    assert.deepEqual(problems.filter(notOurReadback), []);
    await screenshot(page, 'atom-map-dark');
    await page.close();
  });

  it('renders in the light theme', async () => {
    const { page, problems } = await mapPage('light');
    await page.selectOption('select.atom-colour', 'flags');
    assert.ok(await paintedColours(page) > 3);
    assert.deepEqual(problems.filter(notOurReadback), []);
    await screenshot(page, 'atom-map-light');
    await page.close();
  });
});
