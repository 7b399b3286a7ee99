// UI tests in a real VS Code, driven through the command palette with playwright-core (run by
// scripts/e2e.mjs). Webviews are two nested iframes: iframe.webview.ready > iframe#active-frame.
// Each test returns { name, ok, skipped?, note? }; screenshots land in the artifacts folder.
// page.evaluate and waitForFunction callbacks run in the browser: its globals.
/* global document, HTMLElement */
import { join } from 'node:path';

export const STATUSBAR = '#workbench\\.parts\\.statusbar';
export const QUICK_INPUT = '.quick-input-widget';
export const ROW = '.quick-input-list .monaco-list-row';

/** Closes a quick input or a context menu that a previous step left open (Escape, until it is gone). */
async function closeQuickInput(page) {
  for (const sel of ['.context-view .monaco-menu', QUICK_INPUT]) {
    const open = page.locator(sel).first();
    if (!(await open.isVisible().catch(() => false))) continue;
    await page.keyboard.press('Escape');
    await open.waitFor({ state: 'hidden', timeout: 10_000 });
  }
}

/**
 * Moves the keyboard focus out of a webview into the workbench. A webview forwards the workbench's keys
 * (F1, Ctrl+P) only once its own script runs: right after a reload, a restored panel holds the focus but
 * drops them, and the palette never opens.
 */
export async function focusWorkbench(page) {
  await page.evaluate(() => {
    const a = document.activeElement;
    if (a instanceof HTMLElement && a.tagName === 'IFRAME') a.blur();
  });
}

/** Opens the quick input with a key (F1, Control+P), from wherever the focus is; returns its input box. */
async function openQuickInput(page, key) {
  const input = page.locator(`${QUICK_INPUT} input`);
  for (let attempt = 0; ; attempt++) {
    await closeQuickInput(page);
    await focusWorkbench(page);
    await page.keyboard.press(key);
    try {
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      return input;
    } catch (e) {
      if (attempt === 2) throw new Error(`${key} did not open the quick input: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    }
  }
}

/** Runs a palette command. Contributed commands appear a moment after the workbench draws: retry. */
export async function runCommand(page, text, rowText = text) {
  for (let attempt = 0; attempt < 15; attempt++) {
    const input = await openQuickInput(page, 'F1');
    await input.fill(`>${text}`);
    const row = page.locator(ROW, { hasText: rowText }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 2000 });
      await page.keyboard.press('Enter');
      return;
    } catch {
      await page.waitForTimeout(1000);
    }
  }
  throw new Error(`command '${text}' never appeared in the palette`);
}

export async function quickOpen(page, query, rowText) {
  const input = await openQuickInput(page, 'Control+P');
  await input.fill(query);
  // Enter opens the focused row: wait until it is the file asked for (a recently opened file may be first)
  await page.locator(`${ROW}.focused`, { hasText: rowText ?? query }).first().waitFor({ state: 'visible', timeout: 20_000 });
  await page.keyboard.press('Enter');
}

export function webview(page) {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

/** Closes every editor and waits until no tab and no webview is left (the next flow starts from nothing). */
export async function closeEditors(page) {
  await runCommand(page, 'View: Close All Editors', 'Close All Editors');
  await page.waitForFunction(() => !document.querySelector('.editor-group-container .tab') && !document.querySelector('iframe.webview'), undefined, { timeout: 30_000 });
}

/** Text of the visible toasts, and of the notification centre (toasts may have hidden already). */
async function notificationText(page, openCenter = false) {
  if (openCenter) await runCommand(page, 'Notifications: Show Notifications', 'Show Notifications');
  const sel = '.notifications-toasts .notification-toast, .notifications-center .notification-list-item';
  return (await page.locator(sel).allInnerTexts().catch(() => [])).join('\n');
}

export function runner(page, artifacts, log) {
  const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`) });
  const results = [];
  async function t(name, fn) {
    const started = Date.now();
    try {
      const r = (await fn()) ?? {};
      results.push({ name, ok: true, ...r });
    } catch (e) {
      results.push({ name, ok: false, note: String(e instanceof Error ? e.message : e).split('\n')[0] });
      await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
    }
    log(`  ${name}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  return { shot, results, t };
}

/** The palette rows offered for a query (all of them: the SAE commands fit without scrolling). */
async function paletteRows(page, query) {
  await closeQuickInput(page);
  await page.keyboard.press('F1');
  const input = page.locator(`${QUICK_INPUT} input`);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${query}`);
  await page.waitForTimeout(800);
  const rows = await page.locator(ROW).allInnerTexts();
  return rows;
}

export async function runRestrictedModeTests(page, { artifacts, log }) {
  const { shot, results, t } = runner(page, artifacts, log);
  await page.waitForSelector(STATUSBAR, { timeout: 180_000 });
  await page.waitForTimeout(1500);
  await t('Restricted Mode: viewing works; training and writing commands are hidden', async () => {
    // Contributed commands appear a moment after the workbench draws.
    let rows = [];
    for (let i = 0; i < 15 && !rows.some((r) => r.includes('Show Dictionary')); i++) {
      rows = await paletteRows(page, 'SAE: ');
      if (!rows.some((r) => r.includes('Show Dictionary'))) await page.waitForTimeout(1000);
    }
    const text = rows.join('\n');
    for (const want of ['Show Dictionary', 'Open SAE', 'Run Diagnostics', 'Search Annotations']) if (!text.includes(want)) throw new Error(`palette lacks '${want}':\n${text}`);
    for (const hidden of ['Train Sparse Autoencoder', 'Annotate Feature', 'Generate Synthetic Dataset', 'Export Report']) if (text.includes(hidden)) throw new Error(`palette offers '${hidden}' in Restricted Mode`);
    await shot('restricted-mode-palette');
    await quickOpen(page, 'probe.safetensors');
    await webview(page).locator('td.name', { hasText: 'probe.weight' }).waitFor({ timeout: 30_000 });
    const status = await page.locator(STATUSBAR).innerText();
    if (!/Restricted Mode/i.test(status)) throw new Error(`status bar does not say Restricted Mode: ${status.replace(/\s+/g, ' ')}`);
    await shot('restricted-mode-viewer');
  });
  return results;
}

export async function runUiTests(page, { artifacts, log }) {
  const { shot, results, t } = runner(page, artifacts, log);

  await page.waitForSelector(STATUSBAR, { timeout: 180_000 });
  await page.waitForTimeout(1500);

  await t('explorer view lists the SAE and a broken folder with its reason', async () => {
    await runCommand(page, 'Focus on SAE Workbench View', 'SAE Workbench');
    // Give the view room: collapse the file tree above it.
    const folders = page.locator('.pane-header', { hasText: /^workspace$/i }).first();
    if (await folders.getAttribute('aria-expanded') === 'true') await folders.click();
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'SAE Workbench' }) });
    const sae = pane.locator('.monaco-list-row', { hasText: 'tiny_topk' });
    await sae.first().waitFor({ state: 'visible', timeout: 30_000 });
    const saeText = await sae.first().innerText();
    if (!/64 latents/.test(saeText)) throw new Error(`SAE row reads '${saeText}'`);
    const broken = pane.locator('.monaco-list-row', { hasText: 'broken_sae' });
    await broken.first().waitFor({ state: 'visible', timeout: 10_000 });
    const brokenText = await broken.first().innerText();
    if (!/sae_weights\.safetensors is missing/.test(brokenText)) throw new Error(`broken row reads '${brokenText}'`);
    // Expand the SAE's row by its twistie: clicking the row itself opens the dictionary panel, which on a
    // loaded machine takes the focus before an ArrowRight lands on the row.
    const hook = pane.locator('.monaco-list-row', { hasText: 'blocks.8.hook_resid_pre' }).first();
    for (let attempt = 0; attempt < 3; attempt++) {
      await sae.first().locator('.monaco-tl-twistie').click();
      try { await hook.waitFor({ state: 'visible', timeout: 10_000 }); break; } catch (e) { if (attempt === 2) throw e; }
    }
    await shot('explorer');
  });

  await t('tensor-file editor shows tensors and statistics (.safetensors)', async () => {
    await quickOpen(page, 'probe.safetensors');
    const frame = webview(page);
    await frame.locator('td.name', { hasText: 'probe.weight' }).waitFor({ timeout: 30_000 });
    // Statistics arrive from the worker: the NaN in probe.bias shows as "1 / 0".
    const bias = frame.locator('tr', { has: frame.locator('td.name', { hasText: 'probe.bias' }) });
    await bias.locator('td', { hasText: '1 / 0' }).waitFor({ timeout: 30_000 });
    const text = await frame.locator('body').innerText();
    for (const want of ['probe.weight', '[8, 16]', 'F32', 'Metadata (1)']) if (!text.includes(want)) throw new Error(`editor text lacks '${want}':\n${text.slice(0, 500)}`);
    const csp = await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    for (const want of ["default-src 'none'", "script-src 'nonce-", "connect-src 'none'"]) if (!csp?.includes(want)) throw new Error(`CSP lacks ${want}: ${csp}`);
    if (/unsafe-(inline|eval)/.test(csp)) throw new Error(`CSP allows unsafe code: ${csp}`);
    await shot('tensor-editor-safetensors');
  });

  await t('tensor-file editor offers "Open as SAE" for SAE weights', async () => {
    await closeEditors(page);
    await quickOpen(page, 'tiny_topk sae_weights.safetensors', 'sae_weights.safetensors');
    const frame = webview(page);
    const button = frame.locator('#open-as-sae');
    await button.waitFor({ timeout: 30_000 });
    const banner = await frame.locator('.sae-banner').innerText();
    if (!/topk \(k=4\) · 64 latents · d_in 16 · blocks\.8\.hook_resid_pre/.test(banner)) throw new Error(`banner reads '${banner}'`);
    await frame.locator('td.name', { hasText: 'W_dec' }).waitFor({ timeout: 10_000 });
    await frame.locator('.file-header .muted', { hasNotText: 'computing' }).waitFor({ timeout: 30_000 });
    await shot('tensor-editor-sae');
    // The button reaches the host: the dictionary opens (a panel, or the placeholder's message on this branch).
    const webviewsBefore = await page.locator('iframe.webview.ready').count();
    await button.click();
    const deadline = Date.now() + 15_000;
    let polls = 0;
    while (Date.now() < deadline) {
      if (/dictionary panel is not built yet/.test(await notificationText(page, ++polls === 10))) return { note: 'Open as SAE reached the host (dictionary panel placeholder on this branch)' };
      if (await page.locator('iframe.webview.ready').count() > webviewsBefore) return { note: 'Open as SAE opened the dictionary panel' };
      await page.waitForTimeout(300);
    }
    throw new Error('Open as SAE did nothing visible');
  });

  await t('a panel opens from the palette (SAE: Show Dictionary) and its webview has content', async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Show Dictionary');
    const pick = page.locator(ROW, { hasText: 'tiny_topk' }).first();
    await pick.waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator(`${QUICK_INPUT} input`).fill('tiny_topk');
    await page.keyboard.press('Enter');
    const deadline = Date.now() + 30_000;
    let polls = 0;
    while (Date.now() < deadline) {
      const note = await notificationText(page, ++polls === 15);
      if (/panel is not built yet/.test(note)) {
        await shot('panel-dictionary');
        return { skipped: true, note: `skipped: "${note.split('\n')[0]}" (extension/panels is a placeholder on this branch)` };
      }
      if (await page.locator('iframe.webview.ready').count()) {
        const body = webview(page).locator('body');
        await body.waitFor({ timeout: 15_000 });
        await page.waitForTimeout(2000);
        const text = (await body.innerText()).trim();
        if (!text) throw new Error('the dictionary webview is empty');
        await shot('panel-dictionary');
        return { note: `webview reads: ${text.replace(/\s+/g, ' ').slice(0, 100)}` };
      }
      await page.waitForTimeout(300);
    }
    throw new Error('neither a panel nor a message appeared');
  });

  await t('training from the palette: the wizard records model and hook, trains, and its monitor says done', async () => {
    await closeEditors(page);
    await runCommand(page, 'SAE: Train Sparse Autoencoder…', 'Train Sparse Autoencoder');
    const title = page.locator(`${QUICK_INPUT} .quick-input-title`);
    // the first question (extension/trainLocation.ts): where to train; this machine's built-in engine
    await page.waitForFunction(`document.querySelector('.quick-input-widget .quick-input-title')?.textContent?.includes('where to train')`, undefined, { timeout: 15_000 });
    await page.locator(ROW, { hasText: 'This machine, built-in engine' }).first().click();
    const row = page.locator(ROW, { hasText: 'acts.npy' }).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    if (!/Train Sparse Autoencoder \(1\/8\)/.test(await title.innerText())) throw new Error(`wizard title reads '${await title.innerText()}'`);
    const offered = (await page.locator(ROW).allInnerTexts()).join('\n');
    if (/ground_truth|probe\.bias/.test(offered)) throw new Error(`the wizard offers files that are not activation rows:\n${offered}`);
    await row.click();
    await shot('train-wizard-step1');
    await page.locator(`${QUICK_INPUT} .monaco-button`, { hasText: 'OK' }).first().click();
    const input = page.locator(`${QUICK_INPUT} input`);
    const step = async (n, value) => {
      await page.waitForFunction(`document.querySelector('.quick-input-widget .quick-input-title')?.textContent?.includes('(${n}/8)')`, undefined, { timeout: 10_000 });
      await input.fill(value);
      if (n === 2) await page.locator(ROW, { hasText: value }).first().waitFor({ state: 'visible', timeout: 5000 });
      await page.keyboard.press('Enter');
    };
    await step(2, 'topk');
    await step(3, '32');
    await step(4, '4');
    await step(5, '8192');
    await step(6, 'tiny-model');
    await step(7, 'blocks.2.hook_resid_post');
    await step(8, 'saes/ui_trained');
    const deadline = Date.now() + 120_000;
    let polls = 0;
    let progressShot = false;
    while (Date.now() < deadline) {
      const note = await notificationText(page, ++polls % 20 === 0);
      if (!progressShot && /tok\/s · ETA/.test(note)) { progressShot = true; await shot('train-progress'); }
      const notStarted = /training did not start: ([^\n]*)/.exec(note);
      if (notStarted && /trainer is not built yet/.test(notStarted[1])) {
        await shot('train-wizard-result');
        return { skipped: true, note: `wizard completed; skipped the run: "${notStarted[1]}" (src/train/api.ts is the contract placeholder on this branch)` };
      }
      if (notStarted || /training failed/.test(note)) throw new Error(note.split('\n')[0]);
      if (/training finished/.test(note)) {
        await webview(page).locator('.status-line.state-done').waitFor({ timeout: 20_000 });
        await shot('train-wizard-result');
        const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'SAE Workbench' }) });
        await pane.locator('.monaco-list-row', { hasText: 'ui_trained' }).first().waitFor({ state: 'visible', timeout: 20_000 });
        return { note: 'trained; the SAE is listed in the explorer' };
      }
      await page.waitForTimeout(500);
    }
    throw new Error('no outcome notification within 2 minutes');
  });

  return results;
}
