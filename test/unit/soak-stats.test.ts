import { describe, expect, it } from 'vitest';
import { emptyMinute, formatMinutes, linearSlope, MinuteLog, rssSlopes, thirds, type Minute } from '../../soak/stats.js';

const minute = (index: number, fields: Partial<Minute>): Minute => ({ ...emptyMinute(index), ...fields });

describe('linearSlope', () => {
  it('is the least-squares slope', () => {
    expect(linearSlope([[1, 3], [2, 5], [3, 7]])).toBeCloseTo(2);
    // Noise around a flat line: the slope is 0, not the last minus the first.
    expect(linearSlope([[1, 100], [2, 104], [3, 96], [4, 100]])).toBeCloseTo(-0.8);
    expect(linearSlope([[1, 10], [2, 10], [3, 10]])).toBe(0);
  });

  it('is null without two distinct x', () => {
    expect(linearSlope([])).toBeNull();
    expect(linearSlope([[1, 5]])).toBeNull();
    expect(linearSlope([[2, 5], [2, 9]])).toBeNull();
  });
});

describe('rssSlopes', () => {
  it('gives MB per hour for each process, over the run and over its second half', () => {
    // Grows 1 MB a minute for 4 minutes, then stays flat: 60 MB/h would be wrong for the second half.
    const rss = [100, 101, 102, 103, 104, 104, 104, 104];
    const minutes = rss.map((mb, i) => minute(i, { rssMb: { primary: mb, worker: 50 } }));
    const [primary, worker] = rssSlopes(minutes);
    expect(primary!.label).toBe('primary');
    expect(primary!.first).toBe(100);
    expect(primary!.last).toBe(104);
    expect(primary!.perHour).toBeGreaterThan(30);
    expect(primary!.secondHalfPerHour).toBe(0);
    expect(worker).toMatchObject({ label: 'worker', perHour: 0, secondHalfPerHour: 0 });
  });

  it('leaves out the minutes a process was not sampled (started late, replaced)', () => {
    const minutes = [minute(0, { rssMb: { a: 10 } }), minute(1, { rssMb: { a: 20, b: 5 } }), minute(2, { rssMb: { a: 30, b: 5 } })];
    const slopes = rssSlopes(minutes);
    expect(slopes.find((s) => s.label === 'a')!.perHour).toBeCloseTo(600);
    expect(slopes.find((s) => s.label === 'b')!.perHour).toBe(0);
  });
});

describe('thirds', () => {
  it('takes the p99 of every sample in the first and in the last third of the minutes', () => {
    const minutes = Array.from({ length: 6 }, (_, i) => minute(i, { send: i < 2 ? [10, 20] : i >= 4 ? [30, 400] : [1_000] }));
    expect(thirds(minutes, (m) => m.send)).toEqual({ first: 20, last: 400 });
    expect(thirds([], (m) => m.send)).toEqual({ first: null, last: null });
  });
});

describe('MinuteLog', () => {
  it('files by minute from the start, creating the minutes in between', () => {
    const log = new MinuteLog(1_000);
    log.at(1_000 + 59_999).accepted++;
    log.at(1_000 + 150_000).accepted += 2;
    log.at(0).errors++; // before the start counts in the first minute
    expect(log.minutes.map((m) => [m.index, m.accepted, m.errors])).toEqual([
      [0, 1, 1],
      [1, 0, 0],
      [2, 2, 0],
    ]);
  });
});

describe('formatMinutes', () => {
  it('prints a row a minute with a column of RSS per process', () => {
    const table = formatMinutes([
      minute(0, { accepted: 120, send: [5, 9], otpStarted: 3, otpApproved: 3, rssMb: { primary: 80.4, 'http-1': 120.6 }, eventLoopP99Ms: 12.2, eventLoopMaxMs: 40 }),
      minute(1, { accepted: 118, errors: 1, lost: 0, rssMb: { primary: 81 } }),
    ]);
    const [header, rule, first, second] = table.split('\n');
    expect(header).toMatch(/^min\s+accepted\s+send p99.*RSS primary\s+RSS http-1\s+errors\s+lost$/);
    expect(rule).toMatch(/^-+ +-+/);
    expect(first).toMatch(/^1\s+120\s+9\s+—\s+—\s+3\/3\s+0\/0\s+0\/0\s+12\/40\s+80\s+121\s+0\s+0$/);
    expect(second).toMatch(/^2\s+118\s.*\s81\s+—\s+1\s+0$/);
  });
});

describe('mixOrder', () => {
  it('interleaves the operations in the shares of the mix, bulk counting its recipients', async () => {
    const { BULK_SIZE, MIX, mixOrder } = await import('../../soak/traffic.js');
    const order = mixOrder(200);
    const count = (kind: string) => order.filter((k) => k === kind).length;
    expect(count('single')).toBe(200 * MIX.single);
    expect(count('bulk')).toBe((200 * MIX.bulk) / BULK_SIZE);
    expect(count('otp')).toBe(200 * MIX.otp);
    expect(count('reply')).toBe(200 * MIX.reply);
    // Spread out, not in runs: the first ten operations already hold singles, a code and a reply.
    expect(new Set(order.slice(0, 12))).toEqual(new Set(['single', 'otp', 'reply']));
  });
});
