/**
 * Every document the code, the panels and the docs cite must be in this repository: a citation such as
 * `docs/theory.md §B4` names a file under docs/ and a heading in it; the team's design notes (which are
 * not shipped) are never cited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const SCANNED = ['src', 'extension', 'webviews', 'media', 'test', 'bench', 'scripts', 'docs', 'python', 'README.md', 'CHANGELOG.md', 'package.json'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '__pycache__', 'build', 'fixtures']);
const TEXT = /\.(ts|mts|mjs|js|css|html|md|json|py|sh)$/;

function walk(p: string, out: string[] = []): string[] {
  if (!existsSync(p)) return out;
  if (statSync(p).isFile()) { if (TEXT.test(p)) out.push(p); return out; }
  for (const name of readdirSync(p)) if (!SKIP_DIRS.has(name)) walk(join(p, name), out);
  return out;
}

const files = SCANNED.flatMap((s) => walk(join(root, s))).filter((f) => !f.endsWith('citations.test.ts'));
const headingsCache = new Map<string, string[]>();
function headings(doc: string): string[] {
  let h = headingsCache.get(doc);
  if (!h) {
    h = readFileSync(join(root, 'docs', doc), 'utf8').split('\n').filter((l) => /^#{1,6}\s/.test(l)).map((l) => l.replace(/^#+\s*/, ''));
    headingsCache.set(doc, h);
  }
  return h;
}

test('no file cites a document that is not in the repository', () => {
  const outside = /\b(?:THEORY|DESIGN|FORMATS|STYLE|E2E)\.md\b|\bTHEORY(?:'s)?\b|shared\/(?:THEORY|DESIGN|FORMATS|STYLE|E2E)/;
  const bad: string[] = [];
  for (const f of files) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (outside.test(line)) bad.push(`${relative(root, f)}:${i + 1}: ${line.trim().slice(0, 120)}`);
    });
  }
  assert.deepEqual(bad, [], `citations of documents outside the repository:\n${bad.join('\n')}`);
});

test('every docs/*.md citation names an existing file, and every § label a heading in it', () => {
  const cite = /docs\/([\w.-]+\.md)(?: §([0-9A-Za-z]+))?/g;
  const bad: string[] = [];
  let count = 0;
  for (const f of files) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(cite)) {
        count++;
        const [, doc, label] = m as unknown as [string, string, string | undefined];
        const where = `${relative(root, f)}:${i + 1}`;
        if (!existsSync(join(root, 'docs', doc))) { bad.push(`${where}: docs/${doc} does not exist`); continue; }
        if (label && !headings(doc).some((h) => h.startsWith(`§${label} `) || h.startsWith(`§${label}.`) || h === `§${label}` || h.startsWith(`${label}. `) || h.startsWith(`${label} `))) {
          bad.push(`${where}: docs/${doc} has no heading §${label}`);
        }
      }
    });
  }
  assert.ok(count > 50, `expected the code to cite docs/ (found ${count} citations) — is the scan looking at the right folders?`);
  assert.deepEqual(bad, [], bad.join('\n'));
});
