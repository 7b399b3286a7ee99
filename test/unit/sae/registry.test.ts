// The architecture registry is the one list every layer reads: the settings' static enum in package.json
// must be its trainable list, and no source file outside src/sae/arch/ names an architecture as a string
// literal (a name written elsewhere is a list that will not follow the registry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ARCHS, ARCH_NAMES, DEFAULT_ARCH, archSpec, fromSaeLens, TRAINABLE_ARCHS } from '../../../src/sae/arch/registry';

const root = join(__dirname, '..', '..', '..');

test('package.json defaultArchitecture enum is the registry trainable list, with its summaries', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const setting = pkg.contributes.configuration.properties['saeWorkbench.defaultArchitecture'];
  assert.deepEqual(setting.enum, [...TRAINABLE_ARCHS], 'package.json enum ≠ TRAINABLE_ARCHS: copy the registry list into package.json');
  assert.deepEqual(setting.enumDescriptions, TRAINABLE_ARCHS.map((a) => archSpec(a).summary), 'enumDescriptions ≠ the specs\' summaries');
  assert.equal(setting.default, DEFAULT_ARCH);
});

test('every spec: unique name, SAELens names read back to it, train facts consistent', () => {
  assert.equal(new Set(ARCH_NAMES).size, ARCH_NAMES.length);
  const seen = new Set<string>();
  for (const spec of ARCHS) {
    for (const n of [...spec.saeLens.reads, ...(spec.saeLens.transcoder?.reads ?? [])]) {
      assert.ok(!seen.has(n), `SAELens name ${n} claimed twice`);
      seen.add(n);
      assert.equal(fromSaeLens(n)?.spec.name, spec.name);
    }
    if (spec.train) {
      const ksparse = spec.train.selection === 'row-topk' || spec.train.selection === 'batch-topk';
      assert.equal(ksparse, spec.usesK, `${spec.name}: usesK must match its selection`);
      assert.equal(spec.train.penalty === 'none', spec.train.defaultSparsityCoef === 0, `${spec.name}: a default coefficient only with a penalty`);
    }
  }
});

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'node_modules' && name !== 'assembly') sources(p, out); } else if (/\.(ts|mts)$/.test(name)) out.push(p);
  }
  return out;
}

test('no architecture name is a string literal outside src/sae/arch/', () => {
  const files = ['src', 'extension', 'webviews'].flatMap((d) => sources(join(root, d))).filter((f) => !relative(root, f).startsWith(join('src', 'sae', 'arch')));
  assert.ok(files.length > 50, 'the scan found the sources');
  const literal = new RegExp(`(['"\`])(${ARCH_NAMES.join('|')})\\1`);
  const hits: string[] = [];
  for (const f of files) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return;
      if (literal.test(line)) hits.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(hits, [], 'import the architecture module (its .name) or ask the registry');
});
