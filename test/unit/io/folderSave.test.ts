// Whole-folder SAE saves: a process killed at any step of a save leaves a folder that loads as entirely
// the old SAE or entirely the new one (never new weights under an old cfg.json), the next save finishes or
// cleans up after it, and a failed save leaves the old folder as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSaeLens, saveSaeLens } from '../../../src/formats/saelens';
import { recoverFolder, saveFolder } from '../../../src/io/folderSave';
import { isInputError } from '../../../src/errors';
import { tempDir } from '../../helpers/fixtures';
import { constantSae } from '../../helpers/sae';
import type { Sae } from '../../../src/sae/types';

const root = join(__dirname, '..', '..', '..');

/** 'old', 'new', or a description of what is wrong. */
function whichSae(dir: string): string {
  let sae: Sae;
  try { sae = loadSaeLens(dir); } catch (e) { return `does not load: ${(e as Error).message}`; }
  const old = sae.cfg.activation === 'relu' && sae.cfg.dSae === 16 && sae.wEnc.every((v) => v === 1) && sae.logDensity?.every((v) => v === 1) === true;
  const neu = sae.cfg.activation === 'topk' && sae.cfg.k === 3 && sae.cfg.dSae === 32 && sae.wEnc.every((v) => v === 2) && sae.logDensity === undefined;
  return old ? 'old' : neu ? 'new' : `mixed: ${sae.cfg.activation} d_sae ${sae.cfg.dSae} w ${sae.wEnc[0]} sparsity ${sae.logDensity ? 'yes' : 'no'}`;
}

test('convert --force killed at each step of the folder save: every folder is entirely old or entirely new', () => {
  const dir = tempDir('sae-kill-');
  try {
    const newSrc = join(dir, 'new');
    saveSaeLens(constantSae('topk', 8, 32, 2, false), newSrc);
    const seen: string[] = [];
    for (let step = 1; step < 20; step++) {
      const target = join(dir, `t${step}`);
      saveSaeLens(constantSae('relu', 8, 16, 1, true), target);
      mkdirSync(join(target, 'checkpoints'));
      writeFileSync(join(target, 'checkpoints', 'keep.txt'), 'checkpoint');
      const r = spawnSync(process.execPath, ['--import', join(root, 'test', 'helpers', 'killAtSaveStep.mjs'), '--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'convert', newSrc, '--to', target, '--force'],
        { cwd: root, encoding: 'utf8', env: { ...process.env, SAE_WORKBENCH_CLI_MAIN: '1', KILL_AT_SAVE_STEP: String(step) }, timeout: 120_000 });
      const state = whichSae(target);
      seen.push(`${step}:${r.signal ?? r.status}:${state}`);
      assert.ok(state === 'old' || state === 'new', `killed before step ${step}: ${state}`);
      recoverFolder(target);
      assert.equal(whichSae(target), state, 'the next run settles the folder to what it read as');
      assert.deepEqual(readdirSync(target).filter((f) => f.startsWith('.')), [], 'no journal or temporaries after recovery');
      assert.equal(readFileSync(join(target, 'checkpoints', 'keep.txt'), 'utf8'), 'checkpoint', 'other files untouched');
      if (r.signal === null) { assert.equal(r.status, 0, r.stderr); assert.equal(state, 'new'); break; }
    }
    // Steps: the journal, cfg.json, the weights, the journal's removal; the old sparsity file goes with it.
    assert.ok(seen.length >= 4 && seen.some((s) => s.endsWith(':old')) && seen.some((s) => s.includes('SIGKILL:new')), seen.join(' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a save that cannot write a file leaves the old folder as it was, with one line naming the folder', () => {
  const dir = tempDir('sae-fail-');
  try {
    saveSaeLens(constantSae('relu', 8, 16, 1, true), dir);
    const bad = constantSae('topk', 8, 32, 2, false);
    bad.cfg.metadata = { oops: 10n };
    assert.throws(() => saveSaeLens(bad, dir), (e: unknown) => isInputError(e) && /cfg\.json: cannot be written/.test(e.message));
    assert.equal(whichSae(dir), 'old');
    // A write that fails half-way (the second file cannot be created) removes the temporaries already written.
    assert.throws(() => saveFolder(dir, [{ name: 'cfg.json', data: 'x' }, { name: 'no-such-folder/w', data: 'y' }], ['cfg.json']), (e: unknown) => isInputError(e) && /the folder is left as it was/.test(e.message));
    assert.equal(whichSae(dir), 'old');
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
    assert.ok(!existsSync(join(dir, '.sae-save.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the next run removes temporaries of dead processes (folder and checkpoints), not those of live ones', () => {
  const dir = tempDir('sae-stale-');
  try {
    mkdirSync(join(dir, 'checkpoints'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const stale = [`.cfg.json.${dead}.0badc0de.saving`, `.sae_weights.safetensors.${dead}.0badc0de.tmp`, join('checkpoints', `.latest.safetensors.${dead}.0badc0de.tmp`)];
    const live = `.cfg.json.${process.pid}.0badc0de.saving`;
    for (const f of [...stale, live]) writeFileSync(join(dir, f), 'x');
    recoverFolder(dir, ['checkpoints']);
    for (const f of stale) assert.ok(!existsSync(join(dir, f)), f);
    assert.ok(existsSync(join(dir, live)), 'a live writer keeps its temporary');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
