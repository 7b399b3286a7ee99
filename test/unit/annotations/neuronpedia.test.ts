import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotationStore } from '../../../src/annotations/store';
import { parseAnnotations } from '../../../src/annotations/validate';

/** What Neuronpedia's explanation export holds: one object per explanation, the index as a string. */
const RAW = [
  { modelId: 'gpt2-small', layer: '6-res-jb', index: '12', description: ' references to cats and other pets', explanationModelName: 'gpt-4o-mini', typeName: 'oai_token-act-pair' },
  { modelId: 'gpt2-small', layer: '6-res-jb', index: '3', description: 'the word "the" at the start of a sentence', explanationModelName: 'claude', typeName: 'np_max-act-logits' },
  { modelId: 'gpt2-small', layer: '6-res-jb', index: '12', description: 'pets', explanationModelName: 'human', typeName: 'human' },
  { modelId: 'gpt2-small', layer: '6-res-jb', index: '40', description: 'x'.repeat(200), explanationModelName: 'gpt-4o-mini', typeName: 'oai_token-act-pair' },
];

test('a raw Neuronpedia explanation export parses into annotations: first explanation as description and label, others kept as alternatives', () => {
  const doc = parseAnnotations(JSON.stringify(RAW), 'explanations.json');
  assert.deepEqual(doc.sae, { modelId: 'gpt2-small', hookName: '6-res-jb' });
  assert.deepEqual(doc.annotations.map((a) => a.index), [3, 12, 40]);
  const cats = doc.annotations[1]!;
  assert.equal(cats.description, ' references to cats and other pets');
  assert.equal(cats.label, ' references to cats and other pets');
  assert.equal(cats.author, 'gpt-4o-mini');
  assert.equal(cats.typeName, 'oai_token-act-pair');
  assert.deepEqual(cats.alternatives, [{ field: 'description', value: 'pets', author: 'human', updatedAt: '' }]);
  assert.equal(doc.annotations[2]!.label.length, 80, 'a long explanation makes a short label');
  assert.equal(doc.annotations[2]!.description.length, 200);
  // {explanations: [...]} wraps the same list
  assert.equal(parseAnnotations(JSON.stringify({ explanations: RAW }), 'e.json').annotations.length, 3);
  assert.throws(() => parseAnnotations(JSON.stringify([{ index: 'x1', description: 'd' }]), 'bad.json'), /bad\.json.*index must be a non-negative integer/);
  assert.throws(() => parseAnnotations(JSON.stringify([{ index: '1', description: 5 }]), 'bad.json'), /bad\.json.*description must be a string/);
});

test('importing an export into the store adds new latents and fills only our empty fields, in one write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-np-'));
  const store = new AnnotationStore(dir, { dSae: 64 });
  store.sync();
  store.update(12, { label: 'my cats', description: '' });
  const path = join(dir, 'explanations.json');
  writeFileSync(path, JSON.stringify(RAW));
  assert.equal(store.importFile(path), 3);
  assert.equal(store.get(12)!.label, 'my cats', 'our label stays');
  assert.equal(store.get(12)!.description, ' references to cats and other pets', 'our empty description is filled');
  assert.equal(store.get(3)!.author, 'claude');
  const onDisk = parseAnnotations(readFileSync(join(dir, 'annotations.json'), 'utf8'), 'annotations.json');
  assert.deepEqual(onDisk.annotations.map((a) => a.index), [3, 12, 40]);
  assert.equal(store.importFile(path), 0, 'importing again changes nothing');
  writeFileSync(path, JSON.stringify([{ index: '99', description: 'out of range' }]));
  assert.throws(() => store.importFile(path), (e: Error) => e.message.includes(path) && /out of range/.test(e.message));
});
