/// <reference types="mocha" />
/**
 * Integration tests inside a real VS Code (the workspace is built by test/e2e/fixtures.ts): commands are
 * registered, the explorer's index lists SAEs and keeps current through the file watcher, annotations
 * survive an external edit, CodeLens appears on a hook name, the tensor editor opens, and a tiny SAE trains
 * to completion through the command API while another run is cancelled.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SaeEntry } from '../../../extension/saeFacts';
import type { TrainResult } from '../../../extension/training';
import { writeTinySae } from '../fixtures';
import { readSaeData } from '../../../src/data/saeData';

const EXT_ID = 'sae-workbench.sae-workbench';
const root = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const TRAINER_MISSING = /trainer is not built yet/;

suite('SAE Workbench in VS Code', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension(EXT_ID);
    assert.ok(ext, `extension ${EXT_ID} is loaded`);
    await ext.activate();
  });

  test('the extension runs from the installed .vsix, which carries the native engine for linux-x64', async function () {
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    const installed = process.env.SAE_E2E_INSTALLED;
    // scripts/e2e.mjs installs the package and names its folder; the "Extension Tests" launch runs the checkout
    if (!installed) { console.log('      skipped: not run by scripts/e2e.mjs (no installed package)'); this.skip(); }
    assert.equal(ext.extensionPath, installed);
    assert.ok(!existsSync(join(ext.extensionPath, 'src')) && !existsSync(join(ext.extensionPath, 'node_modules')), 'a package, not a checkout');
    if (process.platform === 'linux' && process.arch === 'x64') assert.ok(existsSync(join(ext.extensionPath, 'dist', 'native', 'linux-x64', 'sae_blas.node')));
  });

  test('every contributed command is registered', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    const contributed = (ext.packageJSON.contributes.commands as { command: string; category: string }[]);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.ok(contributed.length >= 13);
    for (const c of contributed) {
      assert.equal(c.category, 'SAE', `${c.command} has category SAE`);
      assert.ok(registered.has(c.command), `${c.command} is registered`);
    }
  });

  test('the explorer lists the SAE with its facts and the broken folder with its reason', async () => {
    const saes = await vscode.commands.executeCommand<SaeEntry[]>('saeWorkbench.listSaes');
    const tiny = saes.find((s) => s.name === 'tiny_topk');
    assert.ok(tiny && tiny.ok, JSON.stringify(saes));
    assert.equal(tiny.dSae, 64);
    assert.equal(tiny.hookName, 'blocks.8.hook_resid_pre');
    // its data is recorded, so the worker evaluates it in the background: the figure replaces the
    // training summary's 0.87, and says what it was measured on
    const evaluated = await until('tiny_topk evaluated on its data', async () =>
      (await vscode.commands.executeCommand<SaeEntry[]>('saeWorkbench.listSaes')).find((s) => s.name === 'tiny_topk' && s.ok && s.measuredOn), 60_000);
    assert.ok(evaluated.ok && Number.isFinite(evaluated.explainedVariance) && evaluated.measuredOn === 'all 2,048 rows of acts.npy', JSON.stringify(evaluated));
    const broken = saes.find((s) => s.name === 'broken_sae');
    assert.ok(broken && !broken.ok);
    assert.equal(broken.reason, 'sae_weights.safetensors is missing');
  });

  test('a new SAE folder appears through the file watcher (no rescan asked)', async () => {
    const dir = join(root(), 'saes', 'added_later');
    writeTinySae(dir, { dIn: 16, dSae: 32, hookName: 'blocks.3.hook_mlp_out', seed: 9 });
    const found = await until('the watcher to pick up added_later', async () =>
      (await vscode.commands.executeCommand<SaeEntry[]>('saeWorkbench.listSaes', { rescan: false })).find((s) => s.name === 'added_later'));
    assert.ok(found.ok && found.dSae === 32);
  });

  test('CodeLens on a hook-name string in Python shows the SAE facts (both widths on that hook, by name)', async () => {
    const uri = vscode.Uri.file(join(root(), 'model.py'));
    await vscode.window.showTextDocument(uri);
    const tiny = (await vscode.commands.executeCommand<SaeEntry[]>('saeWorkbench.listSaes')).find((s) => s.name === 'tiny_topk');
    assert.ok(tiny?.ok && tiny.explainedVariance !== undefined);
    const ev = tiny.explainedVariance!.toFixed(2);
    const lenses = await until('CodeLens', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return l?.some((x) => x.command?.title === `tiny_topk: SAE: 64 latents · EV ${ev}`) ? l : undefined;
    });
    const titles = lenses.map((l) => l.command?.title);
    assert.ok(titles.some((t) => t?.startsWith('tiny_topk_128: SAE: 128 latents')), JSON.stringify(titles));
    assert.ok(titles.includes('Dictionary') && titles.includes('Diagnostics'));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(4, 20));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n').replace(/&nbsp;/g, ' ');
    assert.ok(text.includes(`64 latents · topk k=4 · EV ${ev}`), text);
    assert.match(text, /command:saeWorkbench\.showDictionary\?/);
  });

  test('annotations survive an external edit and a malformed file is never overwritten', async () => {
    const dir = join(root(), 'saes', 'tiny_topk');
    const file = join(dir, 'annotations.json');
    assert.equal(await vscode.commands.executeCommand('saeWorkbench.annotateFeature', dir, 3, { label: 'mine', tags: ['e2e'] }), true);
    // Another window or a git pull: adds latent 5 and a description to latent 3.
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.annotations.find((a: { index: number }) => a.index === 3).description = 'written elsewhere';
    doc.annotations.push({ index: 5, label: 'theirs', description: '', tags: [], author: 'other', typeName: 'human', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
    writeFileSync(file, JSON.stringify(doc, null, 2));
    await sleep(1500);
    assert.equal(await vscode.commands.executeCommand('saeWorkbench.annotateFeature', dir, 7, { label: 'after' }), true);
    const merged = JSON.parse(readFileSync(file, 'utf8')) as { annotations: { index: number; label: string; description: string }[] };
    const by = new Map(merged.annotations.map((a) => [a.index, a]));
    assert.equal(by.get(3)?.label, 'mine');
    assert.equal(by.get(3)?.description, 'written elsewhere');
    assert.equal(by.get(5)?.label, 'theirs');
    assert.equal(by.get(7)?.label, 'after');

    const broken = '{ "format": "sae-workbench.annotations", ';
    writeFileSync(file, broken);
    await sleep(800);
    assert.equal(await vscode.commands.executeCommand('saeWorkbench.annotateFeature', dir, 8, { label: 'refused' }), false);
    assert.equal(readFileSync(file, 'utf8'), broken);
    writeFileSync(file, JSON.stringify(merged, null, 2));
  });

  test('Export Report writes one self-contained HTML file with the annotations', async () => {
    const dir = join(root(), 'saes', 'tiny_topk');
    const target = join(root(), 'tiny-report.html');
    await sleep(800);
    assert.equal(await vscode.commands.executeCommand('saeWorkbench.exportReport', dir, target), target);
    const html = readFileSync(target, 'utf8');
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /Content-Security-Policy/);
    assert.doesNotMatch(html, /<script[^>]+src=/i, 'no external scripts');
    assert.match(html, /mine/, 'the annotation label is in the report');
  });

  test('.safetensors opens in the tensor-file editor', async () => {
    const uri = vscode.Uri.file(join(root(), 'data', 'probe.safetensors'));
    await vscode.commands.executeCommand('vscode.open', uri);
    const tab = await until('the custom editor tab', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputCustom ? t.input : undefined;
    });
    assert.equal(tab.viewType, 'saeWorkbench.tensorFile');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('trains a tiny SAE through the command API; it records its data, hook and model, and CodeLens shows it on that hook', async function () {
    const outDir = join(root(), 'saes', 'e2e_trained');
    const hook = 'blocks.5.hook_mlp_out';
    const r = await vscode.commands.executeCommand<TrainResult>('saeWorkbench.train', {
      activations: [join(root(), 'data', 'acts.npy')], outDir, arch: 'topk', width: 32, k: 4, tokens: 8192, batch: 256, seed: 1, threads: 1,
      hookName: hook, modelName: 'tiny-model',
    });
    if (r.status === 'error' && TRAINER_MISSING.test(r.message ?? '')) {
      console.log(`      skipped: ${r.message} (src/train/api.ts is still the contract placeholder on this branch)`);
      this.skip();
    }
    assert.equal(r.status, 'done', r.message);
    // the package's addon runs in the extension host's Node when OpenBLAS is installed (CI installs it)
    if (process.platform === 'linux' && process.arch === 'x64' && existsSync('/usr/lib/x86_64-linux-gnu/libopenblas.so.0')) assert.match(String(r.summary?.engine), /^blas/);
    assert.ok(existsSync(join(outDir, 'cfg.json')) && existsSync(join(outDir, 'sae_weights.safetensors')));
    const found = await until('the trained SAE in the explorer', async () =>
      (await vscode.commands.executeCommand<SaeEntry[]>('saeWorkbench.listSaes')).find((s) => s.dir === outDir));
    assert.ok(found.ok && found.dSae === 32, JSON.stringify(found));
    assert.equal(found.hookName, hook);
    assert.equal(found.modelName, 'tiny-model');
    assert.deepEqual(readSaeData(outDir).activations, [join(root(), 'data', 'acts.npy')]);
    // the explorer's figures are evaluated on the recorded data in the worker (eval.json beside the SAE)
    const evaluated = await until('the trained SAE evaluated', async () =>
      (await vscode.commands.executeCommand<SaeEntry[]>('saeWorkbench.listSaes')).find((s) => s.dir === outDir && s.ok && s.measuredOn), 60_000);
    assert.ok(evaluated.ok && evaluated.explainedVariance !== undefined && /uniform sample of|all 2,048 rows/.test(evaluated.measuredOn ?? ''), JSON.stringify(evaluated));
    const py = join(root(), 'probe_mlp.py');
    writeFileSync(py, `acts = cache["${hook}"]\n`);
    const uri = vscode.Uri.file(py);
    await vscode.window.showTextDocument(uri);
    const lenses = await until('CodeLens on the recorded hook', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return l?.some((x) => x.command?.title.startsWith('SAE: 32 latents')) ? l : undefined;
    });
    assert.ok(lenses.some((l) => l.command?.command === 'saeWorkbench.showDictionary' && (l.command.arguments?.[0] as string) === outDir));
  });

  test('cancels a training run', async function () {
    const runId = 'e2e-cancel';
    const running = vscode.commands.executeCommand<TrainResult>('saeWorkbench.train', {
      activations: [join(root(), 'data', 'acts.npy')], outDir: join(root(), 'saes', 'e2e_cancelled'), arch: 'relu', width: 64, l1: 1, tokens: 100_000_000, batch: 256, runId, threads: 1,
    });
    await sleep(1500);
    const asked = await vscode.commands.executeCommand<string[]>('saeWorkbench.cancelTraining', runId);
    const r = await running;
    if (r.status === 'error' && TRAINER_MISSING.test(r.message ?? '')) {
      console.log(`      skipped: ${r.message} (src/train/api.ts is still the contract placeholder on this branch)`);
      this.skip();
    }
    assert.deepEqual(asked, [runId]);
    assert.equal(r.status, 'cancelled', r.message);
  });
});
