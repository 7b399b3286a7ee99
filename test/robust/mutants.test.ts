// `npm run test:robust`: seeded mutants of every format, each format in a child process (runner.ts) with
// a per-case time limit (no progress for CASE_LIMIT_MS = a hang) and its peak RSS measured. Asserts 0
// errors other than one-line InputErrors, 0 hangs, peak RSS under 300 MB.
// Seed: SAE_ROBUST_SEED, else in CI the date (a new one every day), else the clock (printed, to replay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROBUST_SEED = Number(process.env.SAE_ROBUST_SEED ?? (process.env.CI ? new Date().toISOString().slice(0, 10).replace(/-/g, '') : Date.now() % 1e9));
const COUNT = Number(process.env.SAE_ROBUST_MUTANTS ?? 2000);
const CASE_LIMIT_MS = 30_000;
const RSS_LIMIT_MB = 300;
const FORMATS = ['safetensors', 'npy', 'npz', 'pt', 'cfg', 'annotations'];

process.stdout.write(`robust suite seed ${ROBUST_SEED} (replay: SAE_ROBUST_SEED=${ROBUST_SEED} npm run test:robust)\n`);

interface Result { format: string; cases: number; loaded: number; refused: number; bugs: string[]; maxRssMB: number }

function runFormat(format: string, seed: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'runner.ts'), format, String(seed), String(COUNT)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', lastCase = -1;
    let timer = setTimeout(() => undefined, 0);
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${format}: case ${lastCase} hung (no progress in ${CASE_LIMIT_MS} ms)`)); }, CASE_LIMIT_MS);
    };
    arm();
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      const m = /case (\d+)\n(?![\s\S]*case \d+\n)/.exec(out.slice(-64));
      if (m) { lastCase = Number(m[1]); arm(); }
      if (out.length > 1 << 20) out = out.slice(-4096);
    });
    child.stderr.on('data', (d: Buffer) => { err += String(d); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('result '));
      if (code !== 0 || !line) { reject(new Error(`${format}: runner exited ${code ?? signal} after case ${lastCase}: ${err.slice(-400)}`)); return; }
      resolve(JSON.parse(line.slice('result '.length)) as Result);
    });
  });
}

test(`${COUNT} seeded mutants of each of ${FORMATS.join(', ')}: only one-line refusals, no hang, RSS < ${RSS_LIMIT_MB} MB`, async () => {
  const results: Result[] = [];
  // two at a time: the machine has two cores
  for (let i = 0; i < FORMATS.length; i += 2) {
    results.push(...(await Promise.all(FORMATS.slice(i, i + 2).map((f, j) => runFormat(f, ROBUST_SEED + 7919 * (i + j))))));
  }
  for (const r of results) process.stdout.write(`  ${r.format}: ${r.cases} mutants, ${r.loaded} loaded, ${r.refused} refused with one line, ${r.bugs.length} bugs, peak RSS ${r.maxRssMB} MB\n`);
  const total = results.reduce((a, r) => a + r.cases, 0);
  assert.equal(total, COUNT * FORMATS.length);
  assert.deepEqual(results.flatMap((r) => r.bugs.map((b) => `${r.format} ${b}`)), [], 'errors other than a one-line InputError');
  for (const r of results) assert.ok(r.maxRssMB < RSS_LIMIT_MB, `${r.format}: peak RSS ${r.maxRssMB} MB`);
});
