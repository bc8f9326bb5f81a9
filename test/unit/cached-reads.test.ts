import { afterEach, describe, expect, it, vi } from 'vitest';
import { cachedReads } from '../../src/store/cached-reads.js';
import { receivedChange } from '../../src/store/invalidation.js';

describe('cachedReads', () => {
  const closes: (() => void)[] = [];
  afterEach(() => {
    closes.splice(0).forEach((close) => close());
    vi.useRealTimers();
  });
  function cache(options: Partial<Parameters<typeof cachedReads<string | undefined>>[0]> = {}) {
    const load = vi.fn(async (key: string) => (key.startsWith('missing') ? undefined : `value of ${key} #${load.mock.calls.length}`));
    const reads = cachedReads<string | undefined>({ kind: 'sender-identities', ttlMs: 1_000, load, keep: (v) => v !== undefined, ...options });
    closes.push(reads.close);
    return { reads, load };
  }

  it('loads once for concurrent and later reads of one key', async () => {
    const { reads, load } = cache();
    const [a, b] = await Promise.all([reads.get('acct'), reads.get('acct')]);
    expect(a).toBe('value of acct #1');
    expect(b).toBe(a);
    expect(await reads.get('acct')).toBe(a);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a miss or a failed load', async () => {
    const { reads, load } = cache();
    expect(await reads.get('missing-1')).toBeUndefined();
    expect(await reads.get('missing-1')).toBeUndefined();
    expect(load).toHaveBeenCalledTimes(2);
    const failing = cachedReads<string>({ kind: 'api-keys', ttlMs: 1_000, load: vi.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValue('up') });
    closes.push(failing.close);
    await expect(failing.get('k')).rejects.toThrow('down');
    expect(await failing.get('k')).toBe('up');
  });

  it('drops the entry a change names, every entry of its kind when notifications may have been lost, and nothing of another kind', async () => {
    const { reads, load } = cache();
    await reads.get('a');
    await reads.get('b');
    receivedChange('sender-identities a');
    expect(await reads.get('a')).toBe('value of a #3');
    expect(await reads.get('b')).toBe('value of b #2');
    receivedChange('api-keys b');
    expect(await reads.get('b')).toBe('value of b #2');
    receivedChange(undefined);
    expect(await reads.get('b')).toBe('value of b #4');
    receivedChange('malformed-payload');
    expect(load).toHaveBeenCalledTimes(4);
  });

  it('reloads after its time limit even when no change was announced', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { reads, load } = cache();
    await reads.get('a');
    vi.setSystemTime(Date.now() + 999);
    await reads.get('a');
    expect(load).toHaveBeenCalledTimes(1);
    vi.setSystemTime(Date.now() + 2);
    await reads.get('a');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('asks `concerns` which entries a change touches (API keys cached by prefix, announced by id)', async () => {
    const { reads } = cache({ concerns: (_key, value, id) => value === undefined || value.includes(id) });
    await reads.get('p1');
    await reads.get('p2');
    receivedChange('sender-identities p2 #2');
    expect(await reads.get('p1')).toBe('value of p1 #1');
    expect(await reads.get('p2')).toBe('value of p2 #3');
  });
});
