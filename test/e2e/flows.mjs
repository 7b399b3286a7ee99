// End-to-end flows in a real VS Code (run by scripts/e2e.mjs after ui.mjs, on the same page): every way
// into a panel (palette, explorer, context menu, latent browser, split tree, diagnostics, CodeLens) on the
// workspace's SAEs, each reaching a panel with data; monitors restored after a reload; the same flows again
// in the light theme. Screenshots land in the artifacts folder as <theme>-<flow>.png.
// page.evaluate and waitForFunction callbacks run in the browser: its globals.
/* global window, document, requestAnimationFrame */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeEditors, QUICK_INPUT, quickOpen, ROW, runCommand, runner, webview } from './ui.mjs';

/** Reloads the window and waits for the new document's workbench (a marker on the old window goes away). */
async function reloadWindow(page) {
  await page.evaluate(() => { window.__saeBeforeReload = true; });
  await runCommand(page, 'Developer: Reload Window', 'Reload Window');
  await page.waitForFunction(() => !window.__saeBeforeReload && document.querySelector('#workbench\\.parts\\.statusbar'), undefined, { timeout: 120_000, polling: 250 });
}

/** The inner frame of every webview on the page (iframe.webview > iframe#active-frame). */
async function panelFrames(page) {
  const frames = [];
  for (const f of page.frames()) {
    if (f === page.mainFrame() || f.isDetached()) continue;
    const id = await f.frameElement().then((e) => e.getAttribute('id')).catch(() => null);
    if (id === 'active-frame') frames.push(f);
  }
  return frames;
}

/**
 * The panel whose text matches `want`, once its data has arrived: found among the page's webviews by what
 * it shows (a panel that replaces another in the same group has its own frame, and the old one may still be
 * there for a moment). Fails on an error banner in any panel, or an evaluation of 0 tokens.
 */
async function panel(page, want, timeout = 60_000) {
  const end = Date.now() + timeout;
  let seen = '';
  while (Date.now() < end) {
    for (const frame of await panelFrames(page)) {
      const banner = frame.locator('.error-bar');
      if (await banner.count().catch(() => 0)) throw new Error(`error banner: ${await banner.first().innerText().catch(() => '?')}`);
      const text = (await frame.locator('body').innerText({ timeout: 5000 }).catch(() => '')).trim();
      if (!want.test(text) || /Computing: reading/.test(text)) { seen = text || seen; continue; }
      if (/Metrics on 0 tokens/.test(text)) throw new Error('the panel measured 0 tokens');
      return { frame, text };
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no panel showed ${want}: ${seen.replace(/\s+/g, ' ').slice(0, 200)}`);
}
const panelText = async (page, want, timeout) => (await panel(page, want, timeout)).text;

/** Two animation frames of every panel: what its data drew is on screen before a screenshot. */
async function painted(page) {
  for (const f of await panelFrames(page)) await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))).catch(() => {});
}

/** Picks a row of the open quick pick by typing its label. */
async function pickRow(page, label) {
  await page.locator(ROW, { hasText: label }).first().waitFor({ state: 'visible', timeout: 45_000 });
  await page.locator(`${QUICK_INPUT} input`).fill(label);
  // Enter takes the focused row: wait until the filter has put this one first
  await page.locator(`${ROW}.focused`, { hasText: label }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
}

const explorerPane = (page) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'SAE Workbench' }) });

/**
 * The explorer's row of an SAE by its exact name, shown. The tree recycles its row elements, so DOM order
 * is not screen order, and "tiny_topk" is also a prefix of "tiny_topk_128": match the label, never `.first()`.
 */
async function showSaeRow(page, name) {
  await runCommand(page, 'Focus on SAE Workbench View', 'SAE Workbench');
  const row = explorerPane(page).locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) });
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  return row;
}

/** The description of the fact row `label` under the expanded SAE row `name` (found by the rows' data-index). */
async function factOf(page, name, label, timeout = 15_000) {
  const handle = await page.waitForFunction(({ name, label }) => {
    const pane = [...document.querySelectorAll('.pane')].find((p) => p.querySelector('.pane-header')?.textContent?.includes('SAE Workbench'));
    const rows = [...(pane?.querySelectorAll('.monaco-list-row') ?? [])];
    const text = (r, sel) => r.querySelector(sel)?.textContent?.trim() ?? '';
    const sae = rows.find((r) => text(r, '.label-name') === name);
    if (!sae) return undefined;
    const at = Number(sae.getAttribute('data-index')), level = Number(sae.getAttribute('aria-level'));
    const facts = rows.filter((r) => Number(r.getAttribute('data-index')) > at && Number(r.getAttribute('aria-level')) === level + 1);
    // the SAE's own facts: the rows below it up to the next row of its level
    const next = rows.filter((r) => Number(r.getAttribute('data-index')) > at && Number(r.getAttribute('aria-level')) <= level).map((r) => Number(r.getAttribute('data-index')));
    const end = next.length ? Math.min(...next) : Infinity;
    const fact = facts.find((r) => Number(r.getAttribute('data-index')) < end && text(r, '.label-name') === label);
    return fact ? text(fact, '.label-description') || ' ' : undefined;
  }, { name, label }, { timeout, polling: 250 });
  return String(await handle.jsonValue()).trim();
}

/** The fixture workspace's SAEs (test/e2e/fixtures.ts): one, another width on the same data, the data's file name. */
const FIXTURE = { name: 'fixtures', sae: 'tiny_topk', others: ['tiny_topk_128'], data: /acts\.npy/, all: true };
/** The demo's output (sae-workbench demo): a family of three widths on data/activations.npy, recorded in each cfg.json. */
const DEMO = { name: 'demo', sae: 'width-48', others: ['width-12', 'width-128'], data: /activations\.npy/, all: false };

/**
 * The entry points on the workspace `ws` (FIXTURE or DEMO): palette, latent browser, context menu, and on
 * the fixtures (`ws.all`) also diagnostics, the explorer and CodeLens. Screenshots: <theme>[-demo]-<flow>.png.
 */
async function entryPoints(page, { shot: shotAs, t, theme, ws = FIXTURE }) {
  const tag = ws === FIXTURE ? theme : `${theme} ${ws.name}`;
  const shot = (name) => shotAs(ws === FIXTURE ? name : name.replace(theme, `${theme}-${ws.name}`));
  await t(`[${tag}] palette: Show Dictionary reaches the overview, measured on the recorded data`, async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Show Dictionary');
    await pickRow(page, ws.sae);
    const text = await panelText(page, /Metrics on (a uniform sample|all [\d,]+ rows)[^\n]* of /);
    if (!ws.data.test(text.split('\n').find((l) => /Metrics on/.test(l)) ?? '')) throw new Error(`measured on other data: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
    // a measured number above each metric's name, not "—"
    if (!/\d\s*\n\s*explained variance/i.test(text)) throw new Error(`explained variance has no number: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    await painted(page);
    await shot(`${theme}-dictionary`);
    return { note: text.replace(/\s+/g, ' ').slice(0, 90) };
  });

  await t(`[${tag}] dictionary → Browse all latents → a latent → its feature page, in one editor group`, async () => {
    // its own dictionary, not the one the previous flow may have left open
    await closeEditors(page);
    await runCommand(page, 'SAE: Show Dictionary');
    await pickRow(page, ws.sae);
    const dictionary = await panel(page, /Metrics on/);
    await dictionary.frame.locator('vscode-button', { hasText: 'Browse all latents' }).click();
    const browser = await panel(page, /\d+ of \d+ latents shown/);
    await shot(`${theme}-latent-browser`);
    // the latent cell that is exactly #3 (not #30…#39); a click on a row outside its select box opens the page
    // (not the label cell: the demo's latents have no labels, and an empty cell has no box to click)
    await browser.frame.locator('.vtable-row .vtable-cell', { hasText: /^#3$/ }).first().click();
    await panelText(page, /Latent #3\b/);
    await painted(page);
    await shot(`${theme}-feature-from-browser`);
    const groups = await page.locator('.editor-group-container').count();
    if (groups > 2) throw new Error(`the panels opened ${groups} editor groups; they should share one beside the code`);
  });

  await t(`[${tag}] palette: Show Feature… asks the latent, not the activations`, async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Show Feature…', 'Show Feature');
    await pickRow(page, ws.sae);
    await page.locator(ROW, { hasText: 'Type a latent index' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator(`${QUICK_INPUT} input`).fill('7');
    await page.keyboard.press('Enter');
    await panelText(page, /Latent #7/);
    await painted(page);
    await shot(`${theme}-feature-palette`);
  });

  if (ws.all) await t(`[${tag}] palette: Run Diagnostics reaches the diagnostics page`, async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Run Diagnostics', 'Run Diagnostics');
    await pickRow(page, 'tiny_topk');
    await panelText(page, /Absorption/, 180_000);
    await painted(page);
    await shot(`${theme}-diagnostics`);
  });

  await t(`[${tag}] context menu: Show Feature-Split Tree… offers the other width on the same data`, async () => {
    await closeEditors(page);
    const sae = await showSaeRow(page, ws.sae);
    await sae.click({ button: 'right' });
    // A click right after the menu opened was seen to leave it open with the item highlighted and nothing
    // run (under load); point at the item, wait until the menu has focused it, and run it with Enter.
    const item = page.locator('.context-view .action-item', { has: page.locator('.action-label', { hasText: 'Show Feature-Split Tree' }) }).first();
    await item.hover();
    await page.locator('.context-view .action-item.focused', { hasText: 'Show Feature-Split Tree' }).waitFor({ state: 'visible', timeout: 10_000 });
    await page.keyboard.press('Enter');
    for (const other of ws.others) {
      // the row of exactly that SAE ("width-12" is also a prefix of "width-128")
      const offered = page.locator(ROW).filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${other}$`) }) }).first();
      await offered.waitFor({ state: 'visible', timeout: 15_000 });
      if (!/same activations/.test(await offered.innerText())) throw new Error(`${other} is not marked as on the same data: ${await offered.innerText()}`);
    }
    await shot(`${theme}-split-offer`);
    await page.keyboard.press('Enter');
    const text = await panelText(page, /Feature-split tree/, 180_000);
    if (/\((\d+)\) \(\1\)/.test(text)) throw new Error('the header repeats a width');
    await painted(page);
    await shot(`${theme}-split-tree`);
  });

  if (!ws.all) return;
  await t(`[${tag}] explorer: an SAE shows its data and evaluated EV; a click opens its dictionary`, async () => {
    await closeEditors(page);
    const sae = await showSaeRow(page, 'tiny_topk');
    // a click on the row runs its command (the dictionary); the twistie expands it
    if (await sae.getAttribute('aria-expanded') !== 'true') await sae.locator('.monaco-tl-twistie').click();
    const dataText = await factOf(page, 'tiny_topk', 'data');
    if (!/acts\.npy/.test(dataText)) throw new Error(`data row reads '${dataText}'`);
    const measured = await factOf(page, 'tiny_topk', 'measured on', 60_000);
    const ev = await factOf(page, 'tiny_topk', 'explained variance');
    if (!/^-?\d\.\d{3}$/.test(ev)) throw new Error(`explained variance reads '${ev}' (measured on ${measured})`);
    await shot(`${theme}-explorer-data`);
    await sae.locator('.label-name').click();
    await panelText(page, /Metrics on/);
  });

  await t(`[${tag}] CodeLens: Dictionary on a hook string in Python`, async () => {
    await closeEditors(page);
    await quickOpen(page, 'model.py');
    const lens = page.locator('.codelens-decoration a', { hasText: 'Dictionary' }).first();
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    await shot(`${theme}-codelens`);
    await lens.click();
    const text = await panelText(page, /Metrics on/);
    if (!/tiny_topk/.test(text)) throw new Error(`the lens opened another SAE: ${text.replace(/\s+/g, ' ').slice(0, 120)}`);
    await painted(page);
    await shot(`${theme}-codelens-dictionary`);
  });
}

/**
 * The SAE ui.mjs trained through the wizard recorded the model and hook it was asked for; the workspace's
 * trained.py (test/e2e/fixtures.ts), which reads that hook, gets the CodeLens, and its Dictionary reaches that SAE's panel with data.
 */
async function wizardCodeLens(page, { shot, t, workspace }) {
  await t('CodeLens: the wizard\'s SAE recorded hook and model, and the lens appears on that hook in Python', async () => {
    const cfg = JSON.parse(readFileSync(join(workspace, 'saes', 'ui_trained', 'cfg.json'), 'utf8'));
    if (cfg.metadata?.hook_name !== 'blocks.2.hook_resid_post' || cfg.metadata?.model_name !== 'tiny-model') throw new Error(`cfg.json records hook ${cfg.metadata?.hook_name} and model ${cfg.metadata?.model_name}`);
    await closeEditors(page);
    await quickOpen(page, 'trained.py');
    const lens = page.locator('.codelens-decoration a', { hasText: /SAE: 32 latents/ }).first();
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    await shot('wizard-codelens');
    await page.locator('.codelens-decoration a', { hasText: 'Dictionary' }).first().click();
    const text = await panelText(page, /Metrics on/);
    if (!/ui_trained/.test(text)) throw new Error(`the lens opened another SAE: ${text.replace(/\s+/g, ' ').slice(0, 120)}`);
    await painted(page);
    await shot('wizard-codelens-dictionary');
  });
}

/** The wizard's monitor of a run cancelled from the monitor: no ETA left, and the same state after a reload. */
async function reloadTests(page, { shot, t }) {
  await t('monitor: a run cancelled from the monitor clears its ETA and restores as cancelled after a reload', async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Train Sparse Autoencoder…', 'Train Sparse Autoencoder');
    // the first question (extension/trainLocation.ts): where to train; this machine's built-in engine
    await page.waitForFunction(`document.querySelector('.quick-input-widget .quick-input-title')?.textContent?.includes('where to train')`, undefined, { timeout: 15_000 });
    await page.locator(ROW, { hasText: 'This machine, built-in engine' }).first().click();
    // acts.npy is preselected from the last run
    await page.locator(ROW, { hasText: 'acts.npy' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator(`${QUICK_INPUT} .monaco-button`, { hasText: 'OK' }).first().click();
    const input = page.locator(`${QUICK_INPUT} input`);
    const values = ['relu', '64', '1', '400M', 'tiny-model', 'blocks.2.hook_resid_post', 'saes/ui_cancelled'];
    for (let n = 2; n <= 8; n++) {
      await page.waitForFunction(`document.querySelector('.quick-input-widget .quick-input-title')?.textContent?.includes('(${n}/8)')`, undefined, { timeout: 10_000 });
      await input.fill(values[n - 2]);
      if (n === 2) await page.locator(ROW, { hasText: 'relu' }).first().waitFor({ state: 'visible', timeout: 5000 });
      await page.keyboard.press('Enter');
    }
    const frame = webview(page);
    await frame.locator('.status-line.state-running').waitFor({ timeout: 60_000 });
    // cancel once the run has logged progress (so that the curves have something to restore)
    await frame.locator('body', { hasText: /tokens\s*[1-9]/ }).waitFor({ timeout: 60_000 });
    await frame.locator('vscode-button', { hasText: 'Cancel' }).click();
    await frame.locator('.status-line.state-cancelled').waitFor({ timeout: 60_000 });
    await painted(page);
    const text = await frame.locator('body').innerText();
    if (/ETA\s+\d/.test(text)) throw new Error(`the ETA stays after a cancel: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    await shot('monitor-cancelled');
    await reloadWindow(page);
    const restored = webview(page);
    await restored.locator('.status-line.state-cancelled').waitFor({ timeout: 60_000 });
    await painted(page);
    const after = await restored.locator('body').innerText();
    if (/nothing logged yet/.test(after)) throw new Error('the restored monitor lost its curves');
    if (await restored.locator('vscode-button', { hasText: 'Cancel' }).evaluate((b) => !b.disabled)) throw new Error('Cancel is enabled on a cancelled run');
    await shot('monitor-cancelled-restored');
  });
}

/** Right after ui.mjs's wizard run, its monitor is the active editor and says done: a reload keeps that. */
async function finishedMonitorReload(page, { shot, t }) {
  await t('monitor: the wizard\'s finished run restores as done after a reload, with its curves', async () => {
    const before = webview(page);
    await before.locator('.status-line.state-done').waitFor({ timeout: 10_000 });
    await reloadWindow(page);
    const restored = webview(page);
    await restored.locator('.status-line.state-done').waitFor({ timeout: 60_000 });
    await painted(page);
    const text = await restored.locator('body').innerText();
    if (/nothing logged yet/.test(text)) throw new Error('the restored monitor lost its curves');
    if (await restored.locator('vscode-button', { hasText: 'Cancel' }).evaluate((b) => !b.disabled)) throw new Error('Cancel is enabled on a finished run');
    if (await restored.locator('vscode-button', { hasText: 'Resume' }).evaluate((b) => !b.disabled)) throw new Error('Resume is enabled on a finished run');
    await shot('monitor-done-restored');
  });
}

/** The entry points again with the demo's output as the workspace (the page is navigated to `url`). */
export async function runDemoFlowTests(page, { artifacts, log, setUserSetting, url }) {
  const { shot, results, t } = runner(page, artifacts, log);
  // dark again (the fixture flows end in the light theme); the new page reads the settings file
  setUserSetting('workbench.colorTheme', 'Default Dark Modern');
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#workbench\\.parts\\.statusbar') && document.querySelector('.monaco-workbench')?.classList.contains('vs-dark'), undefined, { timeout: 180_000, polling: 250 });
  await entryPoints(page, { shot, t, theme: 'dark', ws: DEMO });
  return results;
}

export async function runFlowTests(page, { artifacts, log, setUserSetting, workspace }) {
  const { shot, results, t } = runner(page, artifacts, log);
  await finishedMonitorReload(page, { shot, t });
  await entryPoints(page, { shot, t, theme: 'dark' });
  await wizardCodeLens(page, { shot, t, workspace });
  await reloadTests(page, { shot, t });
  await t('light theme: switch and reload', async () => {
    // the user settings file, then a reload (a headless run keeps the old theme's paint otherwise)
    setUserSetting('workbench.colorTheme', 'Default Light Modern');
    // the reloaded window reads the settings file: the workbench is light once it has
    await reloadWindow(page);
    await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs') === true, undefined, { timeout: 60_000 });
  });
  await entryPoints(page, { shot, t, theme: 'light' });
  return results;
}
