import { describe, expect, it } from 'vitest';
import { maskPhoneNumber } from '../../src/domain/phone-mask.js';

describe('maskPhoneNumber', () => {
  it.each([
    ['+8613800138000', '+86 138****8000'],
    ['+14155550100', '+1 415***0100'],
    ['+447700900123', '+44 770***0123'],
    ['+4930123456', '+49 ******56'],
  ])('%s → %s', (input, masked) => {
    expect(maskPhoneNumber(input)).toBe(masked);
  });

  it('never returns the digits of the number in a row', () => {
    for (const n of ['+8613800138000', '+14155550100', '+33612345678']) {
      const masked = maskPhoneNumber(n);
      expect(masked.replace(/\D/g, '')).not.toContain(n.slice(-8));
    }
  });

  it('stars what is not a phone number but its last two characters', () => {
    expect(maskPhoneNumber('hello-world')).toBe('*********ld');
  });
});
