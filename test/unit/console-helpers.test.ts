// The console's pure helpers (dashboard/src): the CSV of the message log and the word
// difference shown between two versions of a template in the review queue.
import { describe, expect, it } from 'vitest';
import { toCsv, type CsvRow } from '../../dashboard/src/csv.js';
import { diffWords } from '../../dashboard/src/diff.js';

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
