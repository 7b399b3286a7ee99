/**
 * Shared by the format tests: the Python fixtures (generated once per test process into os.tmpdir(),
 * by test/fixtures/make_formats.py with numpy only) and small numeric helpers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { archWithMagnitudePath } from '../../../src/sae/arch/registry';

export interface FixtureCase {
  name: string;
  path: string;
  format: string;
  recon_npy?: string;
  matryoshka?: number[];
}

export interface Fixtures {
  dir: string;
  cases: FixtureCase[];
}

let cached: Fixtures | string | undefined;

/** The fixtures, or a string saying why they cannot be made (then tests skip with that reason). */
export function pythonFixtures(): Fixtures | string {
  if (cached !== undefined) return cached;
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return (cached = 'python3 with numpy is not available to generate the fixtures');
  const dir = mkdtempSync(join(tmpdir(), 'saewb-formats-'));
  const script = resolve(__dirname, '../../fixtures/make_formats.py');
  const r = spawnSync('python3', [script, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_formats.py failed: ${r.stderr}`);
  const all = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as FixtureCase[];
  // fixtures of an architecture the registry does not hold (yet) are left out; every other case runs
  const cases = all.filter((c) => !c.name.includes('gated') || archWithMagnitudePath() !== undefined);
  return (cached = { dir, cases });
}

/** max |a−b| / (1 + |b|) over all elements. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

/** Indices of non-zero entries, row by row (the support of a code matrix). */
export function support(codes: ArrayLike<number>): string {
  const out: number[] = [];
  for (let i = 0; i < codes.length; i++) if (codes[i] !== 0) out.push(i);
  return out.join(',');
}

/** A seeded PRNG for reproducible fuzzing. */
export { seededRandom as rng } from '../../../src/util/random';
