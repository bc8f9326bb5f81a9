import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { applyRetentionChange, DEFAULT_RETENTION, retentionCutoff } from '../../src/domain/retention.js';

const issues = (result: unknown) => (result instanceof ValidationError ? result.issues.map((i) => `${i.path.join('.')}: ${i.message}`) : result);

describe('applyRetentionChange', () => {
  it('changes only the fields given; null keeps for ever', () => {
    expect(applyRetentionChange(DEFAULT_RETENTION, { bodyDays: 30, webhookLogDays: 7 })).toEqual({ bodyDays: 30, recordDays: 395, verificationDays: 30, webhookLogDays: 7 });
    expect(applyRetentionChange(DEFAULT_RETENTION, { bodyDays: undefined })).toEqual(DEFAULT_RETENTION);
    expect(applyRetentionChange(DEFAULT_RETENTION, { bodyDays: null, recordDays: null, webhookLogDays: null })).toEqual({ ...DEFAULT_RETENTION, bodyDays: null, recordDays: null, webhookLogDays: null });
  });

  it.each([
    [{ bodyDays: 0 }, 'input.bodyDays: at least 1 day (null keeps it for ever)'],
    [{ recordDays: -1 }, 'input.recordDays: at least 1 day (null keeps it for ever)'],
    [{ verificationDays: 2.5 }, 'input.verificationDays: whole days'],
    [{ webhookLogDays: 3651 }, 'input.webhookLogDays: at most 3650 days'],
    [{ recordDays: 60 }, 'input.bodyDays: must not exceed recordDays (60): records are deleted with their bodies'],
    [{ webhookLogDays: 91 }, 'input.webhookLogDays: must not exceed bodyDays (90): webhook payloads carry reply bodies'],
    [{ bodyDays: 'ten' }, expect.stringMatching(/^input\.bodyDays: /)],
    [{ keepForEver: true }, expect.stringMatching(/^input: /)],
  ])('refuses %j', (change, message) => {
    expect(issues(applyRetentionChange(DEFAULT_RETENTION, change))).toEqual([message]);
  });
});

describe('retentionCutoff', () => {
  it('is the moment `days` before now, or none', () => {
    const now = new Date('2026-12-03T12:00:00Z');
    expect(retentionCutoff(now, 30)).toEqual(new Date('2026-11-03T12:00:00Z'));
    expect(retentionCutoff(now, null)).toBeNull();
  });
});
