/// <reference types="mocha" />
/**
 * "SAE: Capture Activations…" inside a real VS Code: the command runs python -m sae_workbench_capture from
 * the extension's python/ folder with a real interpreter on the test transformer (python/tests/toy_model.py,
 * copied into the workspace so `module:factory` imports from there, as a user's model would), a capture
 * with a wrong site fails with the capture's own line, and an SAE trained on the capture through the
 * command API records the model and hook in the explorer. Skipped, saying why, without a torch interpreter.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CaptureResult } from '../../../src/capture/run';
import type { SaeEntry } from '../../../extension/saeFacts';
import type { TrainResult } from '../../../extension/training';

const EXT_ID = 'sae-workbench.sae-workbench';
const root = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
const python = [process.env.SAE_WORKBENCH_PYTHON, '/usr/bin/python3'].find((p) => p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);

suite('Capture Activations in VS Code', () => {
  suiteSetup(async function () {
    if (!python) {
      console.log('      skipped: no Python with torch (install python3-torch or set SAE_WORKBENCH_PYTHON)');
      this.skip();
    }
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    await ext.activate();
    copyFileSync(join(ext.extensionPath, 'python', 'tests', 'toy_model.py'), join(root(), 'toy_model.py'));
    const docs = Array.from({ length: 60 }, (_, i) => `document ${i}: the café is naïve and ${['red', 'green', 'blue'][i % 3]}.`);
    writeFileSync(join(root(), 'corpus.txt'), docs.join('\n\n') + '\n');
  });

  test('the palette command is contributed', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('saeWorkbench.captureActivations'));
  });

  test('captures the toy transformer, and an SAE trained on it records model and hook', async function () {
    this.timeout(240_000);
    const out = join(root(), 'captures', 'toy');
    const r = await vscode.commands.executeCommand<CaptureResult>('saeWorkbench.captureActivations', {
      model: 'toy_model:make', sites: ['blocks.1', 'blocks.0'], corpus: join(root(), 'corpus.txt'), out,
      extraArgs: ['--context-length', '32', '--batch-size', '8', '--shard-rows', '1000'], python,
    });
    assert.equal(r.outcome, 'done', r.message);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { rows: number; complete: boolean; shards: unknown[]; W_U: string };
    assert.ok(manifest.complete && manifest.rows === r.rows && manifest.shards.length >= 2);
    assert.ok(existsSync(join(out, 'tokenizer.json')) && manifest.W_U === 'W_U.safetensors');

    const saeDir = join(root(), 'saes', 'from_capture');
    const t = await vscode.commands.executeCommand<TrainResult>('saeWorkbench.train', {
      activations: [`${out}#blocks.0`], outDir: saeDir, arch: 'topk', width: 32, k: 4, tokens: 4096, batch: 256, seed: 1, threads: 1,
    });
    assert.equal(t.status, 'done', t.message);
    const cfg = JSON.parse(readFileSync(join(saeDir, 'cfg.json'), 'utf8')) as { metadata: Record<string, unknown> };
    assert.equal(cfg.metadata.hook_name, 'blocks.0');
    assert.equal(cfg.metadata.model_name, 'toy_model:make');
    const end = Date.now() + 15_000;
    let found: SaeEntry | undefined;
    while (!found && Date.now() < end) {
      found = (await vscode.commands.executeCommand<SaeEntry[]>('saeWorkbench.listSaes')).find((s) => s.dir === saeDir);
      if (!found) await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(found?.ok && found.hookName === 'blocks.0', JSON.stringify(found));
  });

  test('a wrong site fails with the capture\'s one line', async function () {
    this.timeout(120_000);
    const r = await vscode.commands.executeCommand<CaptureResult>('saeWorkbench.captureActivations', {
      model: 'toy_model:make', sites: ['blocks.7'], corpus: join(root(), 'corpus.txt'), out: join(root(), 'captures', 'bad'), python,
    });
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /^site 'blocks\.7': ToyTransformer has no hook point or module named 'blocks\.7'/);
  });
});
