import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, pct } from '../../../webviews/shared/format';

test('missing values read as a dash, whether NaN or the null a JSON message turns NaN into', () => {
  const fromHost = JSON.parse(JSON.stringify({ ev: NaN, l0: Infinity })) as { ev: number | null; l0: number | null };
  assert.equal(fmt(fromHost.ev), '—');
  assert.equal(fmt(fromHost.l0), '—');
  assert.equal(fmt(NaN), '—');
  assert.equal(fmt(undefined), '—');
  assert.equal(pct(null), '—');
  assert.equal(fmt(-Infinity), '−∞');
  assert.equal(fmt(0.87123), '0.871');
  assert.equal(pct(0.00033), '0.033%');
});
