// "SAE: Capture Activations…" in a real VS Code, cancelled from its progress notification (run by
// scripts/e2e.mjs after the flows). The capture's questions include a file dialog, so the test runs the
// command with its arguments through a user keybinding (captureKeybinding, written into the profile before
// the server starts); the Cancel is the notification's own button, clicked in the notification centre (the
// smoke-test driver hides toasts, not the centre). The outcome is read on disk: the capture stopped before
// the end of the corpus, its manifest says incomplete, and every listed shard is there and nothing else is.
// page.evaluate and waitForFunction callbacks run in the browser: its globals.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeEditors, focusWorkbench, runCommand, runner } from './ui.mjs';

const KEY = 'ctrl+alt+shift+f12';
const SHARD_ROWS = 4096;

/** A Python with torch (SAE_WORKBENCH_PYTHON first, then Debian's), or undefined. */
export function torchPython() {
  return [process.env.SAE_WORKBENCH_PYTHON, '/usr/bin/python3'].find((p) => p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

/**
 * Puts the toy model and a corpus of about 4.7 million token rows into the workspace (minutes of capture at
 * this machine's ~18,000 rows/s, so the capture is still running when the test cancels it; the test
 * fails, saying so, if it ever finishes first), and returns the keybinding that runs the capture on them.
 */
export function captureKeybinding(root, workspace, python) {
  copyFileSync(join(root, 'python', 'tests', 'toy_model.py'), join(workspace, 'toy_model.py'));
  const docs = Array.from({ length: 100_000 }, (_, i) => `document ${i}: the café is naïve and ${['red', 'green', 'blue'][i % 3]}. `.repeat(3));
  writeFileSync(join(workspace, 'big_corpus.txt'), docs.join('\n\n') + '\n');
  return {
    key: KEY, command: 'saeWorkbench.captureActivations',
    args: { model: 'toy_model:make', sites: ['blocks.1'], corpus: join(workspace, 'big_corpus.txt'), out: join(workspace, 'captures', 'cancelled'),
      extraArgs: ['--context-length', '32', '--batch-size', '8', '--shard-rows', String(SHARD_ROWS)], python },
  };
}

const CENTER_ITEM = '.notifications-center .notification-list-item';

/** Waits until `check()` returns a value (polled every 250 ms), or fails with `what`. */
async function until(page, what, check, timeout) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} within ${timeout / 1000} s`);
    await page.waitForTimeout(250);
  }
}

const readManifest = (out) => {
  try { return JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')); } catch { return undefined; }
};

export async function runCaptureTests(page, { artifacts, log, binding }) {
  const { shot, results, t } = runner(page, artifacts, log);
  await t('capture: the progress notification\'s Cancel stops the capture, keeping complete shards only', async () => {
    if (!binding) return { skipped: true, note: 'skipped: no Python with torch (install python3-torch or set SAE_WORKBENCH_PYTHON)' };
    const out = binding.args.out;
    await closeEditors(page);
    await focusWorkbench(page);
    await page.keyboard.press('Control+Alt+Shift+F12');
    await runCommand(page, 'Notifications: Show Notifications', 'Show Notifications');
    const item = page.locator(CENTER_ITEM, { hasText: 'Capturing activations (blocks.1)' }).first();
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    // progress has been reported and at least one shard is complete and listed: there is something to keep
    await item.filter({ hasText: /[\d,]+ rows, [\d,]+ rows\/s/ }).waitFor({ state: 'visible', timeout: 120_000 });
    await until(page, 'no shard listed in the manifest', () => (readManifest(out)?.shards?.length ?? 0) >= 1, 120_000);
    await shot('capture-progress');
    const cancel = item.locator('.monaco-button', { hasText: 'Cancel' });
    await cancel.click();
    const outcome = page.locator(CENTER_ITEM, { hasText: /capture cancelled: [\d,]+ rows in complete shards are kept|capture failed|Captured/ }).first();
    // the centre closes once the progress item is gone; the outcome's message arrives after: reopen it to read it
    await until(page, 'no outcome notification', async () => {
      if (!(await page.locator('.notifications-center').isVisible().catch(() => false))) await runCommand(page, 'Notifications: Show Notifications', 'Show Notifications');
      return outcome.isVisible().catch(() => false);
    }, 60_000);
    const said = (await outcome.innerText()).replace(/\s+/g, ' ');
    if (!/capture cancelled/.test(said)) throw new Error(`the capture did not end cancelled: ${said.slice(0, 200)}`);
    await shot('capture-cancelled');
    // on disk: incomplete (a later run resumes), and exactly the listed shards, each whole
    const m = readManifest(out);
    if (!m) throw new Error(`${out}: no readable manifest after the cancel`);
    if (m.complete !== false) throw new Error(`the manifest says complete: ${m.complete}`);
    const listed = m.shards.map((s) => s.file);
    const onDisk = readdirSync(out).filter((f) => f.startsWith('shard_') || f.includes('.tmp-'));
    const extra = onDisk.filter((f) => !listed.includes(f)), missing = listed.filter((f) => !existsSync(join(out, f)));
    if (extra.length || missing.length) throw new Error(`shards on disk ${onDisk.join(', ')} vs listed ${listed.join(', ')}`);
    if (m.shards.some((s) => s.rows < SHARD_ROWS) || m.rows !== m.shards.reduce((a, s) => a + s.rows, 0)) throw new Error(`shards of ${m.shards.map((s) => s.rows).join(', ')} rows, manifest rows ${m.rows}`);
    const kept = Number(/([\d,]+) rows in complete shards/.exec(said)[1].replace(/,/g, ''));
    if (kept !== m.rows) throw new Error(`the notification says ${kept} rows are kept, the manifest lists ${m.rows}`);
    return { note: `${listed.length} shard(s), ${m.rows} rows kept` };
  });
  return results;
}
