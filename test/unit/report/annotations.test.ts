import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotationStore } from '../../../src/annotations/store';
import { buildReport } from '../../../src/views/buildReport';
import { readAnnotations } from '../../../src/views/annotations';
import { makeFixture, writeFixture } from '../../webview/fixtures';

test('the report and the panels show the labels saved in the SAE\'s annotation store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-ann-'));
  const { saeDir, activations } = writeFixture(dir, makeFixture(16, 24, 256, 12, 3), false);
  const store = new AnnotationStore(saeDir);
  store.sync();
  store.update(5, { label: 'dates in French', description: 'fires on "le 14 juillet"' });
  store.update(7, { label: '<img src=x onerror=alert(1)>' });
  const labels = readAnnotations(saeDir);
  assert.deepEqual(labels.get(5), { label: 'dates in French', note: 'fires on "le 14 juillet"' });
  const report = buildReport({ saeDir, activations, maxTokens: 256, features: 4 });
  const { latents, texts } = report.dictionary.latents.labels;
  assert.deepEqual(Array.from(latents), [5, 7]);
  assert.deepEqual(texts, ['dates in French', '<img src=x onerror=alert(1)>']);
  assert.ok(report.features.some((f) => f.latent === 5), 'annotated latents get feature pages');
});

test('a malformed annotation file shows no labels instead of failing the report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saewb-ann-'));
  const { saeDir } = writeFixture(dir, makeFixture(16, 24, 64, 12, 4), false);
  writeFileSync(join(saeDir, 'annotations.json'), '{ not json');
  assert.equal(readAnnotations(saeDir).size, 0);
});
