// Price lists without a database: exact money, reading a price, the lookup that prices a
// message, estimates, sums per currency, and the CSV format.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { formatMicros, parseMicros, sumByCurrency } from '../../src/domain/money.js';
import { costOf, estimateCosts, findApplicablePrice, parsePriceInput, selectInEffect, type PriceRow } from '../../src/domain/prices.js';
import { formatPriceCsv, MAX_IMPORT_BYTES, MAX_IMPORT_LINES, parsePriceCsv } from '../../src/services/price-csv.js';

const micros = (text: string) => {
  const parsed = parseMicros(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.micros;
};

describe('money as micro-units', () => {
  it.each([
    ['0', 0n, '0'],
    ['0.000001', 1n, '0.000001'],
    ['12.5', 12_500_000n, '12.5'],
    ['0.0079', 7_900n, '0.0079'],
    ['3', 3_000_000n, '3'],
    ['1.230000', 1_230_000n, '1.23'],
    [' 0.5 ', 500_000n, '0.5'],
  ])('reads %j exactly and writes it back as the shortest decimal', (text, expected, formatted) => {
    expect(micros(text)).toBe(expected);
    expect(formatMicros(expected)).toBe(formatted);
  });

  it.each([
    ['1e3', /decimal number/],
    ['-1', /negative/],
    ['-0.5', /negative/],
    ['0.0000001', /7 decimal places; at most 6/],
    ['', /decimal number/],
    ['abc', /decimal number/],
    ['1,5', /decimal number/],
    ['.5', /decimal number/],
    ['Infinity', /decimal number/],
    ['1000000000', /less than/],
  ])('refuses %j', (text, message) => {
    const parsed = parseMicros(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(message);
  });

  it('sums per currency, never across currencies', () => {
    const totals = sumByCurrency([
      { micros: 7_900n, currency: 'USD' },
      { micros: 1n, currency: 'EUR' },
      { micros: 15_800n, currency: 'USD' },
      { micros: 0n, currency: 'CNY' },
    ]);
    expect(Object.fromEntries(totals)).toEqual({ USD: 23_700n, EUR: 1n, CNY: 0n });
    expect(sumByCurrency([]).size).toBe(0);
  });

  it('sums a million messages exactly (no float drift)', () => {
    const totals = sumByCurrency(Array.from({ length: 1_000_000 }, () => ({ micros: 7_900n, currency: 'USD' })));
    expect(formatMicros(totals.get('USD')!)).toBe('7900');
  });
});

const NOW = new Date('2026-06-01T00:00:00Z');
const options = { providers: ['simulator', 'twilio'], now: NOW };

describe('parsePriceInput', () => {
  it('normalises a good price, now by default', () => {
    expect(parsePriceInput({ provider: 'twilio', country: 'US', prefix: '+1415', currency: 'USD', price: '0.0079' }, options)).toEqual({
      provider: 'twilio',
      country: 'US',
      prefix: '1415',
      currency: 'USD',
      pricePerSegmentMicros: 7_900n,
      effectiveFrom: NOW,
    });
  });

  it('reads dates with a zone, or a date alone as midnight UTC', () => {
    const at = (effectiveFrom: string) => (parsePriceInput({ provider: 'twilio', country: 'US', currency: 'USD', price: '1', effectiveFrom }, options) as PriceRow).effectiveFrom;
    expect(at('2026-01-01')).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(at('2026-01-01T10:00:00+02:00')).toEqual(new Date('2026-01-01T08:00:00Z'));
    expect(at('')).toEqual(NOW);
  });

  it('reports every bad field at once', () => {
    const issues = parsePriceInput({ provider: 'nexmo', country: 'us', prefix: '44', currency: 'usd', price: '-1', effectiveFrom: '2026-02-30' }, options);
    expect(Array.isArray(issues) && issues.map((i) => i.field)).toEqual(['provider', 'country', 'currency', 'price', 'effectiveFrom']);
  });

  it("refuses a prefix that does not start with the country's calling code", () => {
    expect(parsePriceInput({ provider: 'twilio', country: 'GB', prefix: '1415', currency: 'GBP', price: '0.03' }, options)).toEqual([
      { field: 'prefix', message: "must start with GB's calling code 44" },
    ]);
    expect(parsePriceInput({ provider: 'twilio', country: 'US', prefix: '14a', currency: 'USD', price: '0.03' }, options)).toEqual([
      { field: 'prefix', message: expect.stringMatching(/digits/) },
    ]);
    expect(parsePriceInput({ provider: 'twilio', country: 'XX', currency: 'USD', price: '0.03' }, options)).toEqual([{ field: 'country', message: expect.any(String) }]);
  });
});

const row = (provider: string, country: string, prefix: string, price: string, effectiveFrom: string, currency = 'USD'): PriceRow => ({
  provider,
  country,
  prefix,
  currency,
  pricePerSegmentMicros: micros(price),
  effectiveFrom: new Date(effectiveFrom),
});

describe('findApplicablePrice', () => {
  const rows = [
    row('twilio', 'US', '', '0.0079', '2026-01-01T00:00:00Z'),
    row('twilio', 'US', '', '0.0083', '2026-03-01T00:00:00Z'),
    row('twilio', 'US', '1415', '0.0100', '2026-02-01T00:00:00Z'),
    row('twilio', 'US', '141555', '0.0200', '2026-07-01T00:00:00Z'),
    row('twilio', 'CA', '', '0.0090', '2026-01-01T00:00:00Z', 'CAD'),
    row('simulator', 'US', '', '0', '2026-01-01T00:00:00Z'),
  ];
  const price = (provider: string, to: string, at: string) => {
    const found = findApplicablePrice(rows, provider, to, new Date(at));
    return found && formatMicros(found.pricePerSegmentMicros);
  };

  it("picks the provider's row for the number's country that is in effect, latest first", () => {
    expect(price('twilio', '+12125550100', '2026-01-15T00:00:00Z')).toBe('0.0079');
    expect(price('twilio', '+12125550100', '2026-03-01T00:00:00Z')).toBe('0.0083'); // effectiveFrom ≤ at
    expect(price('twilio', '+12125550100', '2025-12-31T23:59:59Z')).toBeNull(); // nothing yet
  });

  it('lets the longest matching prefix win over a later, shorter one, once it is in effect', () => {
    expect(price('twilio', '+14155550100', '2026-01-15T00:00:00Z')).toBe('0.0079'); // 1415 not yet in effect
    expect(price('twilio', '+14155550100', '2026-04-01T00:00:00Z')).toBe('0.01'); // 1415 beats the later country-wide row
    expect(price('twilio', '+14155550100', '2026-07-01T00:00:00Z')).toBe('0.02'); // 141555 longer still
    expect(price('twilio', '+16465550100', '2026-07-01T00:00:00Z')).toBe('0.0083'); // 1646 matches no prefix
  });

  it('tells countries sharing a calling code apart, and does not invent prices', () => {
    expect(findApplicablePrice(rows, 'twilio', '+16465550100', new Date('2026-07-01T00:00:00Z'))?.currency).toBe('USD'); // New York
    expect(findApplicablePrice(rows, 'twilio', '+14165550100', new Date('2026-07-01T00:00:00Z'))?.currency).toBe('CAD'); // Toronto, +1 too
    expect(price('twilio', '+8613800138000', '2026-07-01T00:00:00Z')).toBeNull(); // no CN price
    expect(price('smpp', '+12125550100', '2026-07-01T00:00:00Z')).toBeNull(); // no price for the provider
    expect(price('simulator', '+12125550100', '2026-07-01T00:00:00Z')).toBe('0'); // free is known, not unknown
    expect(price('twilio', 'not a number', '2026-07-01T00:00:00Z')).toBeNull();
  });

  it('costs segments × price in the price currency, as an exact BigInt', () => {
    expect(costOf(row('twilio', 'US', '', '0.0079', '2026-01-01'), 2)).toEqual({ micros: 15_800n, currency: 'USD' });
    expect(costOf(row('twilio', 'US', '', '0.000001', '2026-01-01'), 3)).toEqual({ micros: 3n, currency: 'USD' });
  });

  it('estimates each provider in the order given, unknown as null', () => {
    expect(estimateCosts(rows, ['twilio', 'smpp'], '+12125550100', 2, new Date('2026-01-15T00:00:00Z'))).toEqual([
      { provider: 'twilio', segments: 2, pricePerSegment: '0.0079', currency: 'USD', estimatedCost: '0.0158' },
      { provider: 'smpp', segments: 2, pricePerSegment: null, currency: null, estimatedCost: null },
    ]);
  });

  it('selects the rows in effect at a time: the latest per provider, country and prefix', () => {
    const inEffect = selectInEffect(rows, new Date('2026-04-01T00:00:00Z'));
    expect(inEffect.map((r) => `${r.provider} ${r.country} ${r.prefix || '-'} ${formatMicros(r.pricePerSegmentMicros)}`)).toEqual([
      'twilio US - 0.0083',
      'twilio US 1415 0.01',
      'twilio CA - 0.009',
      'simulator US - 0',
    ]);
  });
});

describe('price list CSV', () => {
  const HEADER = 'provider,country,prefix,currency,price,effective_from\n';

  it('reads good lines with their line numbers and round-trips through formatPriceCsv', async () => {
    const csv = `${HEADER}twilio,US,,USD,0.0079,2026-01-01T00:00:00Z\n\n"twilio",US,1415,USD,0.01,\n`;
    const rows = await parsePriceCsv(csv, options);
    expect(rows).toMatchObject([
      { line: 2, provider: 'twilio', prefix: '', pricePerSegmentMicros: 7_900n },
      { line: 4, prefix: '1415', effectiveFrom: NOW },
    ]);
    const again = await parsePriceCsv(formatPriceCsv(rows as PriceRow[]), options);
    expect((again as PriceRow[]).map(({ line: _line, ...r }: any) => r)).toEqual((rows as PriceRow[]).map(({ line: _line, ...r }: any) => r));
  });

  it('accepts the columns in any order', async () => {
    const rows = await parsePriceCsv('price,provider,country,currency,effective_from,prefix\n0.5,twilio,US,USD,,\n', options);
    expect(rows).toMatchObject([{ provider: 'twilio', pricePerSegmentMicros: 500_000n }]);
  });

  it('names the line and column of every problem, and returns no rows', async () => {
    const csv = `${HEADER}twilio,US,,USD,0.0079,\ntwilio,US,,USD,-1,\nnexmo,us,,USD,1,\ntwilio,US,,USD\ntwilio,US,,USD,0.0079,\n`;
    const result = await parsePriceCsv(csv, options);
    expect(result).toBeInstanceOf(ValidationError);
    expect((result as ValidationError).issues.map((i) => i.path)).toEqual([
      ['csv', '3', 'price'],
      ['csv', '4', 'provider'],
      ['csv', '4', 'country'],
      ['csv', '5'],
      ['csv', '6'],
    ]);
    expect((result as ValidationError).issues.at(-1)!.message).toMatch(/same price as line 2/);
  });

  it('refuses a bad header, an empty file and broken quoting', async () => {
    expect(((await parsePriceCsv('provider,country,price\n', options)) as ValidationError).issues).toEqual([{ path: ['csv', '1'], message: expect.stringMatching(/header/) }]);
    expect(((await parsePriceCsv('', options)) as ValidationError).issues).toEqual([{ path: ['csv'], message: expect.stringMatching(/empty/) }]);
    const broken = (await parsePriceCsv(`${HEADER}twilio,US,,USD,"0.1,\n`, options)) as ValidationError;
    expect(broken.issues[0]!.path.slice(0, 1)).toEqual(['csv']);
  });

  it('a header alone is an empty price list', async () => {
    expect(await parsePriceCsv(HEADER, options)).toEqual([]);
  });

  it('refuses more than 1 MiB or 50 000 lines with a clear message, and lists at most 100 problems', async () => {
    const big = (await parsePriceCsv(HEADER + 'x'.repeat(MAX_IMPORT_BYTES), options)) as ValidationError;
    expect(big.issues).toEqual([{ path: ['csv'], message: expect.stringMatching(/over the 1048576-byte \(1 MiB\) limit/) }]);
    const long = (await parsePriceCsv(HEADER + ',,,,,\n'.repeat(MAX_IMPORT_LINES + 1), options)) as ValidationError;
    expect(long.issues).toEqual([{ path: ['csv'], message: expect.stringMatching(/more than 50000 prices/) }]);
    const bad = (await parsePriceCsv(HEADER + 'twilio,US,,USD,-1,\n'.repeat(150), options)) as ValidationError;
    expect(bad.issues).toHaveLength(101);
    expect(bad.issues.at(-1)).toEqual({ path: ['csv'], message: 'and 50 more problems not listed' });
  });
});
