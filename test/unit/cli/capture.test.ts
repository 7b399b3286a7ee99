// Capture from the toy transformer (python/tests/toy_model.py) → train → inspect → report, through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../../helpers/fixtures';
import { run } from '../../helpers/cli';
import { NO_TORCH, runCapture, torchPython } from '../../helpers/python';

const python = torchPython();

test('a capture of the toy transformer trains, inspects and reports through the CLI', { skip: python ? false : NO_TORCH }, async () => {
  const dir = tempDir('capture-cli-');
  try {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'café', 'naïve'];
    const docs = Array.from({ length: 120 }, (_, i) => `doc ${i}: ${words.map((_, j) => words[(i * 7 + j * 3) % words.length]).join(' ')}.`);
    writeFileSync(join(dir, 'corpus.txt'), docs.join('\n\n') + '\n');
    const cap = join(dir, 'cap');
    const c = runCapture(python!, ['--model', 'toy_model:make', '--site', 'blocks.1', '--site', 'blocks.0', '--corpus', join(dir, 'corpus.txt'),
      '--out', cap, '--context-length', '32', '--batch-size', '16', '--shard-rows', '1500']);
    assert.equal(c.code, 0, c.stderr);
    const done = JSON.parse(c.stdout.trim().split('\n').pop()!) as { event: string; rows: number; shards: number };
    assert.equal(done.event, 'done');
    assert.ok(done.shards >= 2, 'several shards');

    const ins = await run(['--json', 'inspect', cap]);
    assert.equal(ins.code, 0, ins.err);
    const rep = JSON.parse(ins.out) as { kind: string; capture: { rows: number; sites: { name: string; d: number }[]; model: string; tokenizer: string; W_U: string } };
    assert.equal(rep.kind, 'capture');
    assert.equal(rep.capture.rows, done.rows);
    assert.deepEqual(rep.capture.sites, [{ name: 'blocks.1', d: 32 }, { name: 'blocks.0', d: 32 }]);
    assert.deepEqual([rep.capture.model, rep.capture.tokenizer, rep.capture.W_U], ['toy_model:make', 'tokenizer.json', 'W_U.safetensors']);

    const two = await run(['train', '--activations', cap, '--out', join(dir, 'x'), '--width', '8', '--k', '2']);
    assert.equal(two.code, 2);
    assert.match(two.err, /holds 2 sites \(blocks\.1, blocks\.0\); name one as <folder>#<site>/);

    const sae = join(dir, 'sae');
    const t = await run(['--json', 'train', '--activations', `${cap}#blocks.0`, '--out', sae, '--arch', 'topk', '--width', '48', '--k', '4',
      '--batch', '256', '--tokens', String(done.rows), '--threads', '1']);
    assert.equal(t.code, 0, t.err);
    const cfg = JSON.parse(readFileSync(join(sae, 'cfg.json'), 'utf8')) as { d_in: number; metadata: Record<string, unknown> };
    assert.equal(cfg.d_in, 32);
    assert.equal(cfg.metadata.model_name, 'toy_model:make');
    assert.equal(cfg.metadata.hook_name, 'blocks.0');
    // the SAE's data (src/data/saeData.ts): the site it was trained on, relative to the SAE folder
    assert.equal(resolve(sae, cfg.metadata.dataset_path as string), `${cap}#blocks.0`);
    assert.equal(cfg.metadata.context_size, 32);

    const ev = await run(['--json', 'eval', '--sae', sae, '--activations', `${cap}#blocks.0`]);
    assert.equal(ev.code, 0, ev.err);

    const html = join(dir, 'report.html');
    const r = await run(['report', '--sae', sae, '--activations', `${cap}#blocks.0`, '--out', html, '--features', '4']);
    assert.equal(r.code, 0, r.err);
    // the feature pages carry token contexts read from the capture's token ids and tokenizer.json
    const page = readFileSync(html, 'utf8');
    assert.match(page, /"tokens":\["[^"]*"/);
    // each example's context decodes to the corpus text (spaces and multi-byte characters as written), and
    // its highlighted token is the row that fires: the context's value there is the example's activation
    const text = docs.join('\n\n');
    const examples = [...page.matchAll(/"activation":([^,]+),"tokens":(\[[^\]]*\]),"kinds":\{[^}]*\},"values":\{"\$typed":"Float32Array","b64":"([^"]+)"\},"focus":(\d+)/g)];
    assert.ok(examples.length >= 4, `token contexts on the pages: ${examples.length}`);
    for (const [, activation, tokens, b64, focus] of examples) {
      const pieces = JSON.parse(tokens!) as string[];
      const buf = Buffer.from(b64!, 'base64');
      const values = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      assert.ok(text.includes(pieces.join('')), `context ${JSON.stringify(pieces.join(''))} is corpus text`);
      assert.equal(values.length, pieces.length);
      assert.equal(values[Number(focus)], Math.fround(Number(activation)), 'the highlighted token carries the example\'s activation');
    }
    // and logit effects: the top and bottom tokens of W_dec[i]·W_U, from the capture's W_U.safetensors
    assert.match(page, /"logits":\{"top":\{"tokens":\["/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
