// The child-process side of "Capture Activations…": progress lines, cancel keeps complete shards, resume,
// and each failure as the one line the user sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCaptureLine, runCapture, splitArgs } from '../../../src/capture/run';
import type { CaptureEvent } from '../../../src/capture/run';
import { tempDir } from '../../helpers/fixtures';
import { NO_TORCH, PYTHON_ROOT, torchPython } from '../../helpers/python';

const python = torchPython();
const cwd = join(PYTHON_ROOT, 'tests');

test('progress lines parse; other output is ignored; option lines split like a shell', () => {
  assert.deepEqual(parseCaptureLine('{"event":"shard","file":"shard_00000.safetensors","rows":5,"total_rows":5}'), { event: 'shard', file: 'shard_00000.safetensors', rows: 5, total_rows: 5 });
  assert.equal(parseCaptureLine('Loading checkpoint shards: 100%'), undefined);
  assert.equal(parseCaptureLine('{"no_event": 1}'), undefined);
  assert.equal(parseCaptureLine('{broken'), undefined);
  assert.deepEqual(splitArgs(`--context-length 64  --text-field "body text" --device 'cuda:1'`), ['--context-length', '64', '--text-field', 'body text', '--device', 'cuda:1']);
});

test('a missing interpreter is one line naming it', async () => {
  const r = await runCapture('/nonexistent/python3', { model: 'toy_model:make', sites: ['blocks.1'], corpus: 'x.txt', out: 'o' }, { pythonRoot: PYTHON_ROOT });
  assert.equal(r.outcome, 'failed');
  assert.match(r.message, /^Python interpreter '\/nonexistent\/python3' was not found/);
});

test('capture runs, reports progress, cancels keeping complete shards, resumes and fails with one line', { skip: python ? false : NO_TORCH }, async () => {
  const dir = tempDir('capture-run-');
  try {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'café'];
    writeFileSync(join(dir, 'c.txt'), Array.from({ length: 400 }, (_, i) => `doc ${i} ${words[i % 5]} ${words[(i * 3) % 5]} ${words[(i * 7) % 5]}`).join('\n\n'));
    const request = { model: 'toy_model:make', sites: ['blocks.1'], corpus: join(dir, 'c.txt'), out: join(dir, 'cap'), extraArgs: splitArgs('--context-length 32 --batch-size 4 --shard-rows 300 --progress-interval 0') };
    const abort = new AbortController();
    const seen: CaptureEvent[] = [];
    const stopped = await runCapture(python!, request, {
      pythonRoot: PYTHON_ROOT, cwd, signal: abort.signal,
      onEvent: (e) => { seen.push(e); if (e.event === 'shard' && seen.filter((x) => x.event === 'shard').length === 2) abort.abort(); },
    });
    assert.equal(stopped.outcome, 'cancelled', stopped.message);
    assert.ok(seen.some((e) => e.event === 'progress'), 'progress lines arrive');
    const partial = JSON.parse(readFileSync(join(dir, 'cap', 'manifest.json'), 'utf8')) as { rows: number; complete: boolean };
    assert.equal(partial.complete, false);
    assert.equal(stopped.rows, partial.rows);
    assert.match(stopped.message, /rows in complete shards are kept; run it again to resume/);

    const resumed = await runCapture(python!, request, { pythonRoot: PYTHON_ROOT, cwd });
    assert.equal(resumed.outcome, 'done', resumed.message);
    const whole = await runCapture(python!, { ...request, out: join(dir, 'whole') }, { pythonRoot: PYTHON_ROOT, cwd });
    assert.equal(resumed.rows, whole.rows);
    assert.ok(resumed.rows > partial.rows);

    const bad = await runCapture(python!, { ...request, sites: ['blocks.9'], out: join(dir, 'bad') }, { pythonRoot: PYTHON_ROOT, cwd });
    assert.equal(bad.outcome, 'failed');
    assert.equal(bad.exitCode, 2);
    assert.match(bad.message, /^site 'blocks\.9': ToyTransformer has no hook point or module named 'blocks\.9'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function pythonWithoutTorch(): string | null {
  for (const p of ['python3', 'python']) {
    const r = spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status !== null && r.status !== 0) return p;
  }
  return null;
}

test('an interpreter without torch says so in one line', { skip: pythonWithoutTorch() ? false : 'every python on PATH has torch' }, async () => {
  const r = await runCapture(pythonWithoutTorch()!, { model: 'toy_model:make', sites: ['blocks.1'], corpus: 'x.txt', out: 'o' }, { pythonRoot: PYTHON_ROOT, cwd });
  assert.equal(r.outcome, 'failed');
  assert.match(r.message, /^sae_workbench_capture: PyTorch \(torch\) is not installed for the interpreter /);
});
