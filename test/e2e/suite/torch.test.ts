// Training on the PyTorch backend from inside VS Code (extension/trainLocation.ts through the train command):
// a run is cancelled (checkpoint), resumed to completion, and its output opens in the panels. Skipped when
// no Python with torch is at $SAE_WORKBENCH_TEST_PYTHON or /usr/bin/python3.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TrainResult } from '../../../extension/training';

const root = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const python = process.env.SAE_WORKBENCH_TEST_PYTHON ?? '/usr/bin/python3';

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

suite('PyTorch backend in VS Code', () => {
  test('a Python run is cancelled, resumed to the end, and opens in the panels', async function () {
    this.timeout(600_000);
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) this.skip();
    const outDir = join(root(), 'saes', 'e2e_torch');
    const opts = {
      activations: [join(root(), 'data', 'acts.npy')], outDir, arch: 'topk', width: 32, k: 4, batch: 64, tokens: 64 * 3000, seed: 2,
      where: { kind: 'torch', python },
    };
    const running = vscode.commands.executeCommand<TrainResult>('saeWorkbench.train', { ...opts, runId: 'e2e-torch' });
    const log = join(outDir, 'training_log.jsonl');
    await until('a step of the Python run', () => existsSync(log) && readFileSync(log, 'utf8').includes('"type": "step"'), 300_000);
    assert.deepEqual(await vscode.commands.executeCommand<string[]>('saeWorkbench.cancelTraining', 'e2e-torch'), ['e2e-torch']);
    const cancelled = await running;
    assert.equal(cancelled.status, 'cancelled', cancelled.message);
    assert.ok(existsSync(join(outDir, 'checkpoints', 'latest.safetensors')));

    const resumed = await vscode.commands.executeCommand<TrainResult>('saeWorkbench.train', { ...opts, resume: true, runId: 'e2e-torch-2' });
    assert.equal(resumed.status, 'done', resumed.message);
    assert.equal(resumed.summary?.steps, 3000);
    assert.ok((resumed.summary?.resumedFrom as number) > 0);
    const cfg = JSON.parse(readFileSync(join(outDir, 'cfg.json'), 'utf8')) as { sae_workbench: { training: { backend: string } } };
    assert.equal(cfg.sae_workbench.training.backend, 'torch');

    for (const [command, viewType, args] of [
      ['saeWorkbench.showDictionary', 'saeWorkbench.dictionary', [outDir]],
      ['saeWorkbench.showFeature', 'saeWorkbench.feature', [outDir, 0]],
    ] as const) {
      await vscode.commands.executeCommand(command, ...args);
      await until(`the ${viewType} panel`, () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes(viewType)) || undefined, 30_000);
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
