// Budget rules without a database: reading a budget, the UTC periods, what a send adds, whether
// it fits, and which thresholds it reaches.
import { describe, expect, it } from 'vitest';
import { fitsBudget, isKnownCurrency, parseBudgetInput, periodBounds, spendIn, thresholdsReached } from '../../src/domain/budgets.js';
import { ValidationError } from '../../src/domain/errors.js';

describe('parseBudgetInput', () => {
  it('reads an exact decimal limit and a known currency', () => {
    expect(parseBudgetInput({ period: 'DAILY', limit: ' 12.5 ', currency: 'EUR' }, ['input'])).toEqual({ period: 'DAILY', currency: 'EUR', limitMicros: 12_500_000n });
    expect(parseBudgetInput({ period: 'MONTHLY', limit: '0', currency: 'CNY' }, ['input'])).toEqual({ period: 'MONTHLY', currency: 'CNY', limitMicros: 0n });
  });

  it('reports every bad field with its path', () => {
    const error = parseBudgetInput({ period: 'WEEKLY' as never, limit: '-3', currency: 'XYZ1' }, ['input']);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
      ['input', 'period'],
      ['input', 'limit'],
      ['input', 'currency'],
    ]);
    expect((error as ValidationError).issues[1]!.message).toBe('must not be negative');
  });

  it('knows ISO 4217 codes, not any three letters', () => {
    expect(isKnownCurrency('USD')).toBe(true);
    expect(isKnownCurrency('ABC')).toBe(false);
    expect(isKnownCurrency('usd')).toBe(false);
  });
});

describe('periodBounds', () => {
  it('starts a day at UTC midnight and a month on the first, whatever the hour', () => {
    const at = new Date('2026-12-31T23:59:59.999Z');
    expect(periodBounds('DAILY', at)).toEqual({ start: new Date('2026-12-31T00:00:00Z'), resetsAt: new Date('2027-01-01T00:00:00Z') });
    expect(periodBounds('MONTHLY', at)).toEqual({ start: new Date('2026-12-01T00:00:00Z'), resetsAt: new Date('2027-01-01T00:00:00Z') });
    expect(periodBounds('MONTHLY', new Date('2028-02-29T12:00:00Z'))).toEqual({ start: new Date('2028-02-01T00:00:00Z'), resetsAt: new Date('2028-03-01T00:00:00Z') });
    expect(periodBounds('DAILY', new Date('2026-03-01T00:00:00Z')).start).toEqual(new Date('2026-03-01T00:00:00Z'));
  });
});

describe('spending', () => {
  it('counts only prices in the budget currency, and says how many it could not count', () => {
    const costs = [{ micros: 7_900n, currency: 'USD' }, null, { micros: 5_000n, currency: 'EUR' }, { micros: 100n, currency: 'USD' }];
    expect(spendIn('USD', costs)).toEqual({ micros: 8_000n, uncounted: 2 });
    expect(spendIn('EUR', costs)).toEqual({ micros: 5_000n, uncounted: 3 });
  });

  it('fits up to the limit exactly, and a send that adds nothing always fits', () => {
    expect(fitsBudget(90n, 10n, 100n)).toBe(true);
    expect(fitsBudget(90n, 11n, 100n)).toBe(false);
    expect(fitsBudget(150n, 0n, 100n)).toBe(true); // the limit was lowered below the spend
    expect(fitsBudget(0n, 1n, 0n)).toBe(false);
  });

  it('reaches each threshold once, both at once on a jump', () => {
    const none = { 80: false, 100: false };
    expect(thresholdsReached(79n, 100n, none)).toEqual([]);
    expect(thresholdsReached(80n, 100n, none)).toEqual([80]);
    expect(thresholdsReached(100n, 100n, { 80: true, 100: false })).toEqual([100]);
    expect(thresholdsReached(100n, 100n, none)).toEqual([80, 100]);
    expect(thresholdsReached(100n, 100n, { 80: true, 100: true })).toEqual([]);
    // Exact with micros: 80 % of 0.000003 is 0.0000024, so 0.000002 is below it.
    expect(thresholdsReached(2n, 3n, none)).toEqual([]);
  });
});
