import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToNumber, f16ToNumber, numberToBf16, numberToF16 } from '../../../src/io/dtype';

test('f16 round-trips exactly representable values and rounds to nearest even', () => {
  for (const v of [0, 1, -2, 0.5, 65504, -65504, 6.103515625e-5, 5.960464477539063e-8, 1.5, 3.140625]) {
    assert.equal(f16ToNumber(numberToF16(v)), v, `value ${v}`);
  }
  assert.equal(numberToF16(1e6), 0x7c00, 'overflow goes to +Inf');
  assert.ok(Number.isNaN(f16ToNumber(numberToF16(NaN))));
  assert.equal(f16ToNumber(numberToF16(1 + 2 ** -11)), 1, 'tie rounds to even');
});

test('bf16 is the top half of f32 with round-to-nearest-even', () => {
  assert.equal(bf16ToNumber(0x3f80), 1);
  assert.equal(bf16ToNumber(numberToBf16(3.140625)), 3.140625);
  assert.equal(bf16ToNumber(numberToBf16(1 + 2 ** -8)), 1, 'tie rounds to even');
  assert.equal(bf16ToNumber(numberToBf16(1 + 3 * 2 ** -9)), 1 + 2 ** -7);
});
