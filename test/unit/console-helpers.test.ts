// The console's pure helpers (dashboard/src): the CSV of the message log, the word difference
// shown between two versions of a template in the review queue, and the per-provider / per-country
// series of the stats charts.
import { describe, expect, it } from 'vitest';
import { csvIssues, toCsv, type CsvRow } from '../../dashboard/src/csv.js';
import { formErrors } from '../../dashboard/src/errors.js';
import { diffWords } from '../../dashboard/src/diff.js';
import { OTHER_KEY, seriesByKey, type StatsGroup } from '../../dashboard/src/series.js';

const row = (over: Partial<CsvRow> = {}): CsvRow => ({
  id: 'm1', createdAt: '2026-12-01T10:00:00.000Z', to: '+8613800138000', status: 'DELIVERED', provider: 'aliyun', segments: 1,
  template: null, batchId: null, body: 'hello', ...over,
});

describe('toCsv', () => {
  it('quotes every cell, doubles quotes, keeps commas and newlines inside cells, ends lines with CRLF', () => {
    const csv = toCsv([row({ body: 'say "hi", then\nbye', template: { name: 'otp' } })]);
    expect(csv).toBe('"id","created_at","to","status","provider","segments","template","batch_id","body"\r\n'
      + '"m1","2026-12-01T10:00:00.000Z","+8613800138000","DELIVERED","aliyun","1","otp","","say ""hi"", then\nbye"\r\n');
  });

  it('defuses cells a spreadsheet would run as formulas, but not plain phone numbers', () => {
    const [, line] = toCsv([row({ body: '=HYPERLINK("http://x")', provider: '@evil', to: '+14155550100' })]).split('\r\n');
    expect(line).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(line).toContain(`"'@evil"`);
    expect(line).toContain('"+14155550100"');
    expect(toCsv([row({ to: '+1+1' })])).toContain(`"'+1+1"`);
    expect(toCsv([row({ body: '-1' })])).toContain(`"'-1"`);
  });

  it('writes only the header for no rows', () => {
    expect(toCsv([]).split('\r\n')).toEqual(['"id","created_at","to","status","provider","segments","template","batch_id","body"', '']);
  });
});

describe('diffWords', () => {
  it('marks the words removed and added, keeping the rest', () => {
    expect(diffWords('Hi {{name}}, see you tomorrow.', 'Hi {{name}}, see you on Monday.')).toEqual([
      { kind: 'same', text: 'Hi {{name}}, see you ' },
      { kind: 'removed', text: 'tomorrow.' },
      { kind: 'added', text: 'on Monday.' },
    ]);
  });

  it('handles identical, empty and wholly different texts', () => {
    expect(diffWords('same text', 'same text')).toEqual([{ kind: 'same', text: 'same text' }]);
    expect(diffWords('', 'new')).toEqual([{ kind: 'added', text: 'new' }]);
    expect(diffWords('old', '')).toEqual([{ kind: 'removed', text: 'old' }]);
  });

  it('always rebuilds both texts from its parts', () => {
    for (const [before, after] of [['a b', 'c d'], ['one two three', 'three two one'], ['验证码 {{code}} 五分钟内有效', '验证码 {{code}} 十分钟内有效'], ['x  y', 'x y']]) {
      const parts = diffWords(before, after);
      expect(parts.filter((p) => p.kind !== 'added').map((p) => p.text).join('')).toBe(before);
      expect(parts.filter((p) => p.kind !== 'removed').map((p) => p.text).join('')).toBe(after);
      expect(parts.some((p) => p.kind !== 'same')).toBe(true);
    }
  });
});

describe('seriesByKey', () => {
  const g = (key: string, total: number, delivered: number, over: Partial<StatsGroup> = {}): StatsGroup => ({
    key, label: `${key}-label`, total, delivered, segments: total, deliveryRate: total ? delivered / total : null, medianSecondsToDelivery: delivered ? 2 : null,
    undelivered: 0, failed: total - delivered, rejected: 0, expired: 0, ...over,
  });

  it('gives each key a value per day, largest volume first; a day without the key is 0 messages and a gap in rate and median', () => {
    const series = seriesByKey([[g('US', 2, 1)], [], [g('US', 1, 1), g('CN', 5, 5, { medianSecondsToDelivery: 7 })]]);
    expect(series.map((s) => s.key)).toEqual(['CN', 'US']);
    expect(series[0]).toEqual({ key: 'CN', label: 'CN-label', total: [0, 0, 5], rate: [null, null, 100], median: [null, null, 7] });
    expect(series[1]).toEqual({ key: 'US', label: 'US-label', total: [2, 0, 1], rate: [50, null, 100], median: [2, null, 2] });
  });

  it('adds up the keys beyond the limit into one series whose rate counts only final messages, as the server does', () => {
    const day = [g('A', 10, 10), g('B', 9, 9), g('C', 2, 1, { failed: 0, undelivered: 0 }), g('D', 2, 1)];
    const series = seriesByKey([day], 3, (x) => x.key.toLowerCase());
    expect(series.map((s) => s.key)).toEqual(['A', 'B', OTHER_KEY]);
    expect(series[0].label).toBe('a');
    // C: 1 delivered of 1 final (the other still in flight); D: 1 of 2 → 2 of 3 final.
    expect(series[2].total).toEqual([4]);
    expect(series[2].rate[0]).toBeCloseTo(200 / 3);
    expect(series[2].median).toEqual([null]);
    // At the limit exactly, nobody is folded away.
    expect(seriesByKey([day], 4).map((s) => s.key)).toEqual(['A', 'B', 'C', 'D']);
  });

  it('orders keys of equal volume by key, and has nothing for no messages', () => {
    expect(seriesByKey([[g('B', 1, 1), g('A', 1, 1)]]).map((s) => s.key)).toEqual(['A', 'B']);
    expect(seriesByKey([[], []])).toEqual([]);
  });
});

describe('csvIssues', () => {
  it('gives each issue its line number, column and the text of that line (the header is line 1)', () => {
    const csv = 'provider,country,prefix,currency,price,effective_from\r\nsimulator,US,,USD,0.01,\r\nsimulator,XX,,USD,abc,\r\n';
    expect(csvIssues(csv, [
      { path: ['csv', '3', 'price'], message: 'must be a decimal' },
      { path: ['csv', '3'], message: 'whole line' },
      { path: ['csv'], message: 'and 1 more problem not listed' },
      { path: ['csv', '9'], message: 'past the end' },
    ])).toEqual([
      { line: 3, column: 'price', message: 'must be a decimal', text: 'simulator,XX,,USD,abc,' },
      { line: 3, column: null, message: 'whole line', text: 'simulator,XX,,USD,abc,' },
      { line: null, column: null, message: 'and 1 more problem not listed', text: null },
      { line: 9, column: null, message: 'past the end', text: null },
    ]);
    expect(csvIssues('a\nb', [{ path: ['csv', '2'], message: 'x' }])[0].text).toBe('b');
  });
});

describe('formErrors', () => {
  it('puts each issue beside the field its path ends with, and the rest in general', () => {
    const r = { __typename: 'ValidationError', code: 'VALIDATION_FAILED', message: 'Invalid input', issues: [
      { path: ['input', 'url'], message: 'must be an http:// or https:// URL' },
      { path: ['input', 'eventTypes', '0'], message: 'bad' }, { path: ['input', 'eventTypes'], message: 'name one' },
      { path: ['input'], message: 'at most 20 endpoints' },
    ] };
    expect(formErrors(r, ['url', 'eventTypes'])).toEqual({
      fields: { url: 'VALIDATION_FAILED: must be an http:// or https:// URL', eventTypes: 'VALIDATION_FAILED: bad; name one' },
      general: 'VALIDATION_FAILED: Invalid input (at most 20 endpoints)',
    });
  });

  it('is empty on success, and general for an error without issues or issues about no field of the form', () => {
    expect(formErrors({ __typename: 'SetBudgetSuccess' }, ['limit'])).toEqual({ fields: {}, general: '' });
    expect(formErrors({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: 'needs ADMIN' }, ['limit'])).toEqual({ fields: {}, general: 'FORBIDDEN: needs ADMIN' });
    expect(formErrors({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', message: 'Invalid input', issues: [{ path: ['id'], message: 'unknown' }] }, ['limit']))
      .toEqual({ fields: {}, general: 'VALIDATION_FAILED: Invalid input (unknown)' });
  });
});
