import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotationStore } from '../../../src/annotations/store';
import { mergeAnnotations } from '../../../src/annotations/merge';
import { parseAnnotations, serializeAnnotations } from '../../../src/annotations/validate';
import { emptyAnnotations } from '../../../src/annotations/types';
import type { AnnotationsFile, LatentAnnotation } from '../../../src/annotations/types';
import { isInputError } from '../../../src/errors';

function tmp(): string { return mkdtempSync(join(tmpdir(), 'sae-ann-')); }

function clock(): () => string {
  let t = Date.parse('2026-01-01T00:00:00Z');
  return () => new Date((t += 1000)).toISOString();
}

function entry(index: number, fields: Partial<LatentAnnotation>): LatentAnnotation {
  return { index, label: '', description: '', tags: [], author: 'a', typeName: 'human', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...fields };
}

function doc(...entries: LatentAnnotation[]): AnnotationsFile {
  return { ...emptyAnnotations(), annotations: entries };
}

test('update writes the file atomically and reads back the same annotations', () => {
  const dir = tmp();
  const store = new AnnotationStore(dir, { dSae: 64, hookName: 'blocks.8.hook_resid_pre' }, clock());
  store.sync();
  store.update(3, { label: 'French nouns', tags: ['lang', 'lang', ' noun '] });
  store.update(1, { description: 'fires on commas' });
  const text = readFileSync(store.path, 'utf8');
  const parsed = parseAnnotations(text, store.path, 64);
  assert.deepEqual(parsed.annotations.map((a) => a.index), [1, 3]);
  assert.equal(parsed.annotations[1]!.label, 'French nouns');
  assert.deepEqual(parsed.annotations[1]!.tags, ['lang', 'noun']);
  assert.equal(parsed.sae.hookName, 'blocks.8.hook_resid_pre');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left behind');
  const again = new AnnotationStore(dir, { dSae: 64 });
  again.sync();
  assert.deepEqual(again.list(), store.list());
  rmSync(dir, { recursive: true });
});

test('an external edit to another latent and to another field of the same latent are both kept', () => {
  const dir = tmp();
  const mine = new AnnotationStore(dir, { dSae: 64 }, clock());
  mine.sync();
  mine.update(5, { label: 'numbers', description: 'digits' });
  // Another window (or git pull) edits the file: new latent 7, and latent 5's description.
  const other = new AnnotationStore(dir, { dSae: 64 }, () => '2026-02-01T00:00:00.000Z');
  other.sync();
  other.update(7, { label: 'quotes' });
  other.update(5, { description: 'digits and numerals' });
  // Meanwhile we change latent 5's label without having seen their edit.
  mine.update(5, { label: 'number tokens' });
  const onDisk = parseAnnotations(readFileSync(mine.path, 'utf8'), mine.path);
  const five = onDisk.annotations.find((a) => a.index === 5)!;
  assert.equal(five.label, 'number tokens');
  assert.equal(five.description, 'digits and numerals');
  assert.ok(onDisk.annotations.some((a) => a.index === 7 && a.label === 'quotes'));
  rmSync(dir, { recursive: true });
});

test('merge: both sides change one field; the newer wins and the other is kept as an alternative', () => {
  const base = doc(entry(2, { label: 'x' }));
  const ours = doc(entry(2, { label: 'ours', author: 'me', updatedAt: '2026-01-02T00:00:00.000Z' }));
  const theirs = doc(entry(2, { label: 'theirs', author: 'you', updatedAt: '2026-01-03T00:00:00.000Z' }));
  const { merged, conflicts } = mergeAnnotations(base, ours, theirs);
  const e = merged.annotations[0]!;
  assert.equal(e.label, 'theirs');
  assert.deepEqual(e.alternatives, [{ field: 'label', value: 'ours', author: 'me', updatedAt: '2026-01-02T00:00:00.000Z' }]);
  assert.deepEqual(conflicts.map((c) => [c.index, c.field, c.kept, c.alternative]), [[2, 'label', 'theirs', 'ours']]);
});

test('merge: tags merge as sets, tombstones delete, deleted-vs-edited keeps the edit, absence deletes nothing', () => {
  const base = doc(entry(1, { tags: ['a', 'b'] }), entry(2, { label: 'old' }), entry(3, { label: 'gone' }), entry(4, { label: 'kept' }));
  const ours = doc(entry(1, { tags: ['a', 'c'] }), entry(2, { label: 'edited', updatedAt: '2026-01-05T00:00:00.000Z' }), entry(3, { label: 'gone' }), entry(4, { label: 'kept' }));
  const tomb = (index: number) => ({ index, deletedAt: '2026-01-03T00:00:00.000Z', author: 'you' });
  // Theirs deleted 2 and 3 (tombstones) and simply lacks 4 (a stale copy): 4 must survive.
  const theirs: AnnotationsFile = { ...doc(entry(1, { tags: ['a', 'b', 'd'] })), deleted: [tomb(2), tomb(3)] };
  const { merged } = mergeAnnotations(base, ours, theirs);
  assert.deepEqual(merged.annotations.map((a) => a.index), [1, 2, 4]);
  assert.deepEqual(merged.deleted?.map((t) => t.index), [3], 'the tombstone of 2 is dropped: its edit is newer');
  assert.deepEqual([...merged.annotations[0]!.tags].sort(), ['a', 'c', 'd']);
  assert.equal(merged.annotations[1]!.label, 'edited');
});

test('a malformed file is reported with its name and never overwritten', () => {
  const dir = tmp();
  const store = new AnnotationStore(dir, { dSae: 8 }, clock());
  store.sync();
  store.update(0, { label: 'kept' });
  const broken = '{"format": "sae-workbench.annotations", "version": 1, "annotations": [ {"index": 0, ';
  writeFileSync(store.path, broken);
  assert.throws(() => store.sync(), (e: unknown) => isInputError(e) && e.source === store.path && /invalid JSON/.test(e.problem));
  assert.throws(() => store.update(1, { label: 'new' }), (e: unknown) => isInputError(e) && e.source === store.path);
  assert.equal(readFileSync(store.path, 'utf8'), broken, 'file untouched');
  assert.equal(store.get(0)?.label, 'kept', 'what we held is still there');
  rmSync(dir, { recursive: true });
});

test('validation names the problem: out-of-range index, duplicates, conflict markers, bad tags', () => {
  const wrap = (a: unknown[]) => JSON.stringify({ format: 'sae-workbench.annotations', version: 1, annotations: a });
  const cases: [string, RegExp][] = [
    [wrap([{ index: 9 }]), /out of range \(the SAE has 8 latents\)/],
    [wrap([{ index: 1 }, { index: '1' }]), /latent 1 appears twice/],
    [wrap([{ index: -1 }]), /index must be a non-negative integer/],
    [wrap([{ index: 1, tags: 'x' }]), /tags must be an array of strings/],
    ['<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> x\n', /merge-conflict markers/],
    [JSON.stringify({ format: 'other', version: 1, annotations: [] }), /"format" must be/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseAnnotations(text, 'f.json', 8), (e: unknown) => isInputError(e) && e.source === 'f.json' && re.test(e.problem), text);
});

test('Neuronpedia explanation rows parse (string index, explanationModelName) and serialise stably', () => {
  const text = JSON.stringify({ format: 'sae-workbench.annotations', version: 1, annotations: [{ index: '4', description: 'dates', explanationModelName: 'gpt-4o-mini', typeName: 'oai_token-act-pair' }] });
  const d = parseAnnotations(text, 'x');
  assert.equal(d.annotations[0]!.index, 4);
  assert.equal(d.annotations[0]!.author, 'gpt-4o-mini');
  assert.equal(serializeAnnotations(parseAnnotations(serializeAnnotations(d), 'x')), serializeAnnotations(d));
  const dir = tmp();
  writeFileSync(join(dir, 'annotations.json'), text);
  const store = new AnnotationStore(dir, { modelId: 'gpt2-small', hookName: 'blocks.8.hook_resid_pre' });
  store.sync();
  assert.deepEqual(store.toNeuronpedia()[0], { modelId: 'gpt2-small', layer: 'blocks.8.hook_resid_pre', index: '4', description: 'dates', typeName: 'oai_token-act-pair', explanationModelName: 'gpt-4o-mini', label: '', tags: [] });
  assert.deepEqual(store.search('DAT').map((a) => a.index), [4]);
  rmSync(dir, { recursive: true });
});

test('remove writes a tombstone that deletes the latent in another store too; a stale copy lacking an entry deletes nothing', () => {
  const dir = tmp();
  const a = new AnnotationStore(dir, { dSae: 64 }, clock());
  const b = new AnnotationStore(dir, { dSae: 64 }, () => '2026-03-01T00:00:00.000Z');
  a.update(1, { label: 'one' });
  a.update(2, { label: 'two' });
  b.sync();
  const staleCopy = readFileSync(a.path, 'utf8');
  a.update(3, { label: 'three' });
  // An external editor saves the copy it loaded before latent 3 existed: 3 must come back on our next write.
  writeFileSync(a.path, staleCopy);
  b.remove(1);
  a.sync();
  assert.deepEqual(a.list().map((e) => e.index), [2, 3]);
  const onDisk = parseAnnotations(readFileSync(a.path, 'utf8'), a.path);
  assert.deepEqual(onDisk.annotations.map((e) => e.index), [2, 3]);
  assert.deepEqual(onDisk.deleted?.map((t) => t.index), [1]);
  assert.deepEqual(readdirSync(dir).filter((f) => f !== 'annotations.json'), [], 'no lock, temporary or moved-aside file left');
  rmSync(dir, { recursive: true });
});

test('a writer killed between moving the file aside and placing the new one loses nothing: the next writer merges the stray copy', () => {
  const dir = tmp();
  const a = new AnnotationStore(dir, { dSae: 64 }, clock());
  a.update(1, { label: 'one' });
  // As a killed writer leaves it: the file moved aside, nothing in its place (and a stale lock).
  renameSync(a.path, join(dir, '.annotations.json.999999.deadbeef.aside'));
  writeFileSync(`${a.path}.lock`, JSON.stringify({ pid: 999999, host: hostname() }));
  const b = new AnnotationStore(dir, { dSae: 64 }, () => '2026-03-01T00:00:00.000Z');
  b.update(2, { label: 'two' });
  assert.deepEqual(parseAnnotations(readFileSync(a.path, 'utf8'), a.path).annotations.map((e) => e.index), [1, 2]);
  assert.deepEqual(readdirSync(dir), ['annotations.json']);
  rmSync(dir, { recursive: true });
});

test('a writer that never saw a field (a stale external save hid it) does not clear it: an entry created independently has an empty ancestor', () => {
  // The interleaving the concurrent test met once in ~7 runs: A labels latent 17; an editor saves a copy it
  // loaded before that, hiding the label; B, which never saw the label, describes latent 17 (a new entry,
  // label ''); A folds B's file. B's empty label is not an edit of A's: the two entries share no version.
  const dir = tmp();
  const a = new AnnotationStore(dir, { dSae: 64 }, clock());
  a.update(1, { label: 'one' });
  const editorCopy = readFileSync(a.path, 'utf8');
  a.update(17, { label: 'label-17' });
  writeFileSync(a.path, editorCopy);
  const b = new AnnotationStore(dir, { dSae: 64 }, () => '2026-03-01T00:00:00.000Z');
  b.update(17, { description: 'description-17' });
  a.sync();
  b.sync();
  for (const [who, store] of [['a', a], ['b', b]] as const) {
    const e = store.get(17)!;
    assert.equal(e.label, 'label-17', `${who} kept the label`);
    assert.equal(e.description, 'description-17', `${who} kept the description`);
  }
  const onDisk = parseAnnotations(readFileSync(a.path, 'utf8'), a.path).annotations.find((e) => e.index === 17)!;
  assert.deepEqual([onDisk.label, onDisk.description, onDisk.alternatives], ['label-17', 'description-17', undefined]);
  rmSync(dir, { recursive: true });
});

test('a tag an external editor added to a stale copy we never saw is kept (its older fields are staleness, its extra tag is an edit)', () => {
  const dir = tmp();
  const a = new AnnotationStore(dir, { dSae: 64 }, clock());
  const b = new AnnotationStore(dir, { dSae: 64 }, () => '2026-03-01T00:00:00.000Z');
  a.update(4, { label: 'first' });
  // the editor loads this version (b never reads it), tags it, and saves after b has rewritten latent 4
  const stale = parseAnnotations(readFileSync(a.path, 'utf8'), a.path);
  stale.annotations[0]!.tags = ['hand-tag'];
  a.update(4, { label: 'second' });
  b.update(4, { description: 'from b' });
  writeFileSync(b.path, serializeAnnotations(stale));
  b.sync();
  const e = b.get(4)!;
  assert.deepEqual([e.label, e.description, e.tags], ['second', 'from b', ['hand-tag']]);
  rmSync(dir, { recursive: true });
});
