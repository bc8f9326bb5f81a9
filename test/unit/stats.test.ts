import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { checkStatsRange, countryLabel, countryOfPrefix, countryPrefix, deliveryRate, MAX_RANGE_DAYS } from '../../src/domain/stats.js';

const zero = { total: 0, delivered: 0, undelivered: 0, failed: 0, rejected: 0, expired: 0, canceled: 0, inFlight: 0 };

describe('messageStats rules', () => {
  it('accepts a range up to 400 days and refuses an empty, reversed or longer one with the field named', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    expect(checkStatsRange(from, new Date(from.getTime() + MAX_RANGE_DAYS * 86_400_000))).toBeUndefined();
    for (const to of [from, new Date('2025-12-31T00:00:00Z'), new Date(from.getTime() + MAX_RANGE_DAYS * 86_400_000 + 1)]) {
      const error = checkStatsRange(from, to);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error!.code).toBe('VALIDATION_FAILED');
      expect(error!.issues[0]!.path).toEqual(['to']);
    }
    expect(checkStatsRange(new Date(Number.NaN), from)!.issues[0]!.path).toEqual(['from']);
  });

  it('delivery rate is delivered over final outcomes; canceled and in-flight do not count; null without finals', () => {
    expect(deliveryRate(zero)).toBeNull();
    expect(deliveryRate({ ...zero, canceled: 3, inFlight: 4 })).toBeNull();
    expect(deliveryRate({ ...zero, delivered: 3, undelivered: 1, failed: 1, rejected: 1, expired: 2, canceled: 9, inFlight: 9 })).toBe(3 / 8);
  });

  it('reduces a number to a country prefix and names its country, telling apart countries that share a calling code', () => {
    const cases: [string, string, string][] = [
      ['+4915123456789', '+49', 'DE'],
      ['+8613800138000', '+86', 'CN'],
      ['+33612345678', '+33', 'FR'],
      ['+14155550100', '+1415', 'US'],
      ['+16135550123', '+1613', 'CA'],
      ['+79161234567', '+791612', 'RU'],
      ['+77012345678', '+770123', 'KZ'],
      ['+441481256789', '+441481', 'GG'],
      ['+447400123456', '+447400', 'GB'],
      ['+8006123456', '+800612', 'ZZ'],
    ];
    for (const [number, prefix, country] of cases) {
      expect(countryPrefix(number)).toBe(prefix);
      expect(countryOfPrefix(prefix, number)).toBe(country);
    }
    expect(countryLabel('DE')).toBe('Germany');
    expect(countryLabel('ZZ')).toBe('Unknown');
  });
});
