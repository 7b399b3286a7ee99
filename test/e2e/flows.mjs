// End-to-end flows in a real VS Code (run by scripts/e2e.mjs after ui.mjs, on the same page): every way
// into a panel (palette, explorer, context menu, latent browser, split tree, diagnostics, CodeLens) on the
// workspace's SAEs, each reaching a panel with data; monitors restored after a reload; the same flows again
// in the light theme. Screenshots land in the artifacts folder as <theme>-<flow>.png.
import { closeEditors, QUICK_INPUT, quickOpen, ROW, runCommand, runner, STATUSBAR, webview } from './ui.mjs';

async function reloadWindow(page) {
  await runCommand(page, 'Developer: Reload Window', 'Reload Window');
  await page.waitForTimeout(3000);
  await page.waitForSelector(STATUSBAR, { timeout: 120_000 });
  // the extension activates and indexes the workspace after the workbench draws
  await page.waitForTimeout(8000);
}

/** The active panel's text once its data has arrived; fails on an error banner or an evaluation of 0 tokens. */
async function panelText(page, want, timeout = 60_000) {
  const frame = webview(page);
  await frame.locator('#root').waitFor({ timeout: 30_000 });
  const end = Date.now() + timeout;
  let text = '';
  while (Date.now() < end) {
    if (await frame.locator('.error-bar').count()) throw new Error(`error banner: ${await frame.locator('.error-bar').innerText()}`);
    text = (await frame.locator('body').innerText().catch(() => '')).trim();
    if (want.test(text) && !/Computing: reading/.test(text)) break;
    await page.waitForTimeout(400);
  }
  if (!want.test(text)) throw new Error(`the panel never showed ${want}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
  if (/Metrics on 0 tokens/.test(text)) throw new Error('the panel measured 0 tokens');
  return text;
}

/** Picks a row of the open quick pick by typing its label. */
async function pickRow(page, label) {
  await page.locator(ROW, { hasText: label }).first().waitFor({ state: 'visible', timeout: 45_000 });
  await page.locator(`${QUICK_INPUT} input`).fill(label);
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
}

const explorerPane = (page) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'SAE Workbench' }) });

async function entryPoints(page, { shot, t, theme }) {
  await t(`[${theme}] palette: Show Dictionary reaches the overview, measured on the recorded data`, async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Show Dictionary');
    await pickRow(page, 'tiny_topk');
    const text = await panelText(page, /Metrics on (a uniform sample|all [\d,]+ rows)[^\n]* of acts\.npy/);
    await page.waitForTimeout(800);
    await shot(`${theme}-dictionary`);
    return { note: text.replace(/\s+/g, ' ').slice(0, 90) };
  });

  await t(`[${theme}] dictionary → Browse all latents → a latent → its feature page, in one editor group`, async () => {
    await webview(page).locator('vscode-button', { hasText: 'Browse all latents' }).click();
    await panelText(page, /latent/i);
    await page.waitForTimeout(1000);
    await shot(`${theme}-latent-browser`);
    await webview(page).locator('.vtable-row', { hasText: '#3' }).first().locator('.vtable-cell').nth(2).click();
    await panelText(page, /Latent #3/);
    await page.waitForTimeout(800);
    await shot(`${theme}-feature-from-browser`);
    const groups = await page.locator('.editor-group-container').count();
    if (groups > 2) throw new Error(`the panels opened ${groups} editor groups; they should share one beside the code`);
  });

  await t(`[${theme}] palette: Show Feature… asks the latent, not the activations`, async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Show Feature…', 'Show Feature');
    await pickRow(page, 'tiny_topk');
    await page.locator(ROW, { hasText: 'Type a latent index' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator(`${QUICK_INPUT} input`).fill('7');
    await page.keyboard.press('Enter');
    await panelText(page, /Latent #7/);
    await page.waitForTimeout(800);
    await shot(`${theme}-feature-palette`);
  });

  await t(`[${theme}] palette: Run Diagnostics reaches the diagnostics page`, async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Run Diagnostics', 'Run Diagnostics');
    await pickRow(page, 'tiny_topk');
    await panelText(page, /Absorption/, 180_000);
    await page.waitForTimeout(800);
    await shot(`${theme}-diagnostics`);
  });

  await t(`[${theme}] context menu: Show Feature-Split Tree… offers the other width on the same data`, async () => {
    await closeEditors(page);
    await runCommand(page, 'Focus on SAE Workbench View', 'SAE Workbench');
    const sae = explorerPane(page).locator('.monaco-list-row[aria-label^="tiny_topk "], .monaco-list-row', { hasText: 'tiny_topk' }).first();
    await sae.click({ button: 'right' });
    await page.locator('.context-view .action-label', { hasText: 'Show Feature-Split Tree' }).first().click();
    const offered = page.locator(ROW, { hasText: 'tiny_topk_128' }).first();
    await offered.waitFor({ state: 'visible', timeout: 15_000 });
    if (!/same activations/.test(await offered.innerText())) throw new Error(`the other width is not marked as on the same data: ${await offered.innerText()}`);
    await shot(`${theme}-split-offer`);
    await page.keyboard.press('Enter');
    const text = await panelText(page, /Feature-split tree/, 180_000);
    if (/\((\d+)\) \(\1\)/.test(text)) throw new Error('the header repeats a width');
    await page.waitForTimeout(1000);
    await shot(`${theme}-split-tree`);
  });

  await t(`[${theme}] explorer: an SAE shows its data and evaluated EV; a click opens its dictionary`, async () => {
    await closeEditors(page);
    const pane = explorerPane(page);
    const data = pane.locator('.monaco-list-row', { hasText: /^data/ }).first();
    // a click on the row runs its command (the dictionary); the twistie expands it
    if (!(await data.isVisible().catch(() => false))) await pane.locator('.monaco-list-row', { hasText: 'tiny_topk' }).first().locator('.monaco-tl-twistie').click();
    await data.waitFor({ state: 'visible', timeout: 15_000 });
    const dataText = await data.innerText();
    if (!/acts\.npy/.test(dataText)) throw new Error(`data row reads '${dataText}'`);
    await pane.locator('.monaco-list-row', { hasText: /^measured on/ }).first().waitFor({ state: 'visible', timeout: 60_000 });
    await shot(`${theme}-explorer-data`);
    await pane.locator('.monaco-list-row', { hasText: 'tiny_topk' }).first().click();
    await panelText(page, /Metrics on/);
  });

  await t(`[${theme}] CodeLens: Dictionary on a hook string in Python`, async () => {
    await closeEditors(page);
    await quickOpen(page, 'model.py');
    const lens = page.locator('.codelens-decoration a', { hasText: 'Dictionary' }).first();
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    await shot(`${theme}-codelens`);
    await lens.click();
    await panelText(page, /Metrics on/);
    await page.waitForTimeout(800);
    await shot(`${theme}-codelens-dictionary`);
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
    await page.waitForTimeout(5000);
    await frame.locator('vscode-button', { hasText: 'Cancel' }).click();
    await frame.locator('.status-line.state-cancelled').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(800);
    const text = await frame.locator('body').innerText();
    if (/ETA\s+\d/.test(text)) throw new Error(`the ETA stays after a cancel: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    await shot('monitor-cancelled');
    await reloadWindow(page);
    const restored = webview(page);
    await restored.locator('.status-line.state-cancelled').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(800);
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
    await page.waitForTimeout(800);
    const text = await restored.locator('body').innerText();
    if (/nothing logged yet/.test(text)) throw new Error('the restored monitor lost its curves');
    if (await restored.locator('vscode-button', { hasText: 'Cancel' }).evaluate((b) => !b.disabled)) throw new Error('Cancel is enabled on a finished run');
    if (await restored.locator('vscode-button', { hasText: 'Resume' }).evaluate((b) => !b.disabled)) throw new Error('Resume is enabled on a finished run');
    await shot('monitor-done-restored');
  });
}

export async function runFlowTests(page, { artifacts, log, setUserSetting }) {
  const { shot, results, t } = runner(page, artifacts, log);
  await finishedMonitorReload(page, { shot, t });
  await entryPoints(page, { shot, t, theme: 'dark' });
  await reloadTests(page, { shot, t });
  await t('light theme: switch and reload', async () => {
    // the user settings file, then a reload (a headless run keeps the old theme's paint otherwise)
    setUserSetting('workbench.colorTheme', 'Default Light Modern');
    await page.waitForTimeout(1500);
    await reloadWindow(page);
  });
  await entryPoints(page, { shot, t, theme: 'light' });
  return results;
}
