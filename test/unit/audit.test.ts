// The audit log's pure rules: what is kept of a value, the keyed phone hash, the CSV form.
import { describe, expect, it } from 'vitest';
import { formatAuditCsv, phoneHash, REDACTED, redactForAudit } from '../../src/domain/audit.js';

describe('redactForAudit', () => {
  it('replaces values under secret-looking keys, at any depth, and keeps the names', () => {
    expect(
      redactForAudit({ name: 'twilio', credentials: { authToken: 'tok', accountSid: 'AC1' }, nested: [{ secret: 's', apiKey: 'k', password: 'p' }], credentialFields: ['authToken'], secretRotated: true }),
    ).toEqual({ name: 'twilio', credentials: REDACTED, nested: [{ secret: REDACTED, apiKey: REDACTED, password: REDACTED }], credentialFields: ['authToken'], secretRotated: true });
  });

  it('masks every E.164 number, wherever it is, and leaves other text alone', () => {
    expect(redactForAudit({ phone: '+8613800138000', list: ['+14155550123', 'HERALD'], body: 'call +8613800138000 now' })).toEqual({
      phone: '+86 138****8000',
      list: ['+1 415***0123', 'HERALD'],
      body: 'call +8613800138000 now',
    });
  });

  it('turns dates, bigints and bytes into text the JSON column can hold', () => {
    expect(redactForAudit({ at: new Date('2026-01-01T00:00:00Z'), micros: 5n, hash: new Uint8Array([1]), gone: undefined })).toEqual({ at: '2026-01-01T00:00:00.000Z', micros: '5', hash: REDACTED });
  });
});

describe('phoneHash', () => {
  it('is keyed: the same number under another key gives another hash', () => {
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    expect(phoneHash(a, '+8613800138000')).toBe(phoneHash(a, '+8613800138000'));
    expect(phoneHash(a, '+8613800138000')).not.toBe(phoneHash(b, '+8613800138000'));
    expect(phoneHash(a, '+8613800138000')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('formatAuditCsv', () => {
  it('writes a header and one quoted-where-needed line per entry', () => {
    const csv = formatAuditCsv([
      { seq: 7n, at: new Date('2026-01-01T00:00:00Z'), accountId: 'a', keyId: null, keyName: 'herald keys create', action: 'apiKey.create', subjectType: 'apiKey', subjectId: 'k', before: null, after: { name: 'x,y' }, requestId: null },
    ]);
    expect(csv).toBe(
      'seq,at,account_id,key_id,key_name,action,subject_type,subject_id,before,after,request_id\r\n' +
        '7,2026-01-01T00:00:00.000Z,a,,herald keys create,apiKey.create,apiKey,k,,"{""name"":""x,y""}",\r\n',
    );
  });

  it('cannot be made to run a formula in a spreadsheet: a key named =HYPERLINK(…) gets a leading quote, a masked number none', () => {
    const csv = formatAuditCsv([
      { seq: 8n, at: new Date('2026-01-01T00:00:00Z'), accountId: 'a', keyId: 'k', keyName: '=HYPERLINK("http://evil","x")', action: 'optOut.add', subjectType: 'optOut', subjectId: '+86 138****8000', before: null, after: null, requestId: '@SUM(1)' },
    ]);
    const line = csv.split('\r\n')[1]!;
    expect(line).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(line).toContain(',+86 138****8000,');
    expect(line.endsWith(",'@SUM(1)")).toBe(true);
  });
});
