import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHookStrings } from '../../../extension/hookStrings';

test('finds quoted hook names that a known SAE uses, with the offsets of the text inside the quotes', () => {
  const known = new Set(['blocks.8.hook_resid_pre', 'blocks.3.hook_mlp_out']);
  const text = `x = cache["blocks.8.hook_resid_pre"]\ny = cache['blocks.3.hook_mlp_out'] + cache["blocks.9.hook_resid_pre"]\nz = f"blocks.8.hook_resid_pre"\n`;
  const found = findHookStrings(text, known);
  assert.deepEqual(found.map((m) => m.hookName), ['blocks.8.hook_resid_pre', 'blocks.3.hook_mlp_out', 'blocks.8.hook_resid_pre']);
  for (const m of found) assert.equal(text.slice(m.start, m.end), m.hookName);
  assert.equal(text[found[0]!.start - 1], '"');
});

test('ignores unknown names, partial matches, strings across lines, and returns nothing without known SAEs', () => {
  const known = new Set(['blocks.8.hook_resid_pre']);
  assert.deepEqual(findHookStrings('a = "blocks.8.hook_resid_pre_extra"; b = "x blocks.8.hook_resid_pre"', known), []);
  assert.deepEqual(findHookStrings('a = "blocks.8.\nhook_resid_pre"', known), []);
  assert.deepEqual(findHookStrings('a = "blocks.8.hook_resid_pre"', new Set()), []);
  assert.equal(findHookStrings(`"""doc""" x = "blocks.8.hook_resid_pre"`, known).length, 1);
});
