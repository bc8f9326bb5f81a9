// The figures of a soak run as plain functions, tested without a server (test/unit/soak-stats.test.ts):
// what the traffic did minute by minute, the least-squares slope of memory over the run, whether
// latency held from the first third to the last, and the table the run prints.
import { alignColumns, percentile } from '../bench/harness.js';

/** What happened in one minute of the run (by when it was sent; `lost` is filled in at the end). */
export interface Minute {
  index: number;
  /** Messages accepted: single sends, bulk recipients, verification codes. */
  accepted: number;
  /** sendMessage answer times, ms. */
  send: number[];
  /** sendMessages (bulk) answer times, ms. */
  bulk: number[];
  /** Accepted → DELIVERED seen by the subscriber, ms, for messages sent in this minute. */
  delivered: number[];
  otpStarted: number;
  otpApproved: number;
  repliesPosted: number;
  repliesSeen: number;
  /** Watches (messageStatusChanged) opened, and those that ended with DELIVERED as they should. */
  watches: number;
  watchesCompleted: number;
  errors: number;
  lost: number;
  /** Resident memory of each process at the end of the minute, MB, by label. */
  rssMb: Record<string, number>;
  /** Event-loop delay of Herald's processes over the minute (prom-client: p99 averaged over them, max of all). */
  eventLoopP99Ms: number | null;
  eventLoopMaxMs: number | null;
}

export function emptyMinute(index: number): Minute {
  return {
    index,
    accepted: 0,
    send: [],
    bulk: [],
    delivered: [],
    otpStarted: 0,
    otpApproved: 0,
    repliesPosted: 0,
    repliesSeen: 0,
    watches: 0,
    watchesCompleted: 0,
    errors: 0,
    lost: 0,
    rssMb: {},
    eventLoopP99Ms: null,
    eventLoopMaxMs: null,
  };
}

/** Minutes of a run that started at `startedAt` (performance.now() ms), created as they are first touched. */
export class MinuteLog {
  readonly minutes: Minute[] = [];
  constructor(private readonly startedAt: number) {}

  indexAt(at: number): number {
    return Math.max(0, Math.floor((at - this.startedAt) / 60_000));
  }

  at(at: number): Minute {
    return this.byIndex(this.indexAt(at));
  }

  byIndex(index: number): Minute {
    while (this.minutes.length <= index) this.minutes.push(emptyMinute(this.minutes.length));
    return this.minutes[index]!;
  }
}

/** Least-squares slope of y over x; null with fewer than two distinct x. */
export function linearSlope(points: readonly (readonly [number, number])[]): number | null {
  const n = points.length;
  if (n < 2) return null;
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

/**
 * RSS slope of each process in MB per hour, over every minute and over the second half (the first
 * minutes hold the heap's and the connection pools' growth to their working size).
 */
export function rssSlopes(minutes: readonly Minute[]): { label: string; first: number; last: number; perHour: number | null; secondHalfPerHour: number | null }[] {
  const labels = [...new Set(minutes.flatMap((m) => Object.keys(m.rssMb)))];
  return labels.map((label) => {
    const points = minutes.filter((m) => m.rssMb[label] !== undefined).map((m) => [m.index + 1, m.rssMb[label]!] as const);
    const half = points.slice(Math.floor(points.length / 2));
    const perMinute = linearSlope(points);
    const secondHalf = linearSlope(half);
    return {
      label,
      first: points[0]?.[1] ?? 0,
      last: points.at(-1)?.[1] ?? 0,
      perHour: perMinute === null ? null : perMinute * 60,
      secondHalfPerHour: secondHalf === null ? null : secondHalf * 60,
    };
  });
}

/** p99 of a latency over the first and the last third of the minutes: whether it held. */
export function thirds(minutes: readonly Minute[], pick: (m: Minute) => number[]): { first: number | null; last: number | null } {
  const third = Math.max(1, Math.floor(minutes.length / 3));
  return {
    first: percentile(minutes.slice(0, third).flatMap(pick), 0.99),
    last: percentile(minutes.slice(-third).flatMap(pick), 0.99),
  };
}

const ms = (v: number | null) => (v === null ? '—' : String(Math.round(v)));

/** The per-minute table: one row a minute, RSS of each process in its own column. */
export function formatMinutes(minutes: readonly Minute[]): string {
  const labels = [...new Set(minutes.flatMap((m) => Object.keys(m.rssMb)))];
  const header = ['min', 'accepted', 'send p99', 'bulk p99', 'deliver p99', 'OTP ok', 'replies', 'watches', 'loop p99/max', ...labels.map((l) => `RSS ${l}`), 'errors', 'lost'];
  const lines = minutes.map((m) => [
    String(m.index + 1),
    String(m.accepted),
    ms(percentile(m.send, 0.99)),
    ms(percentile(m.bulk, 0.99)),
    ms(percentile(m.delivered, 0.99)),
    `${m.otpApproved}/${m.otpStarted}`,
    `${m.repliesSeen}/${m.repliesPosted}`,
    `${m.watchesCompleted}/${m.watches}`,
    `${ms(m.eventLoopP99Ms)}/${ms(m.eventLoopMaxMs)}`,
    ...labels.map((l) => (m.rssMb[l] === undefined ? '—' : m.rssMb[l]!.toFixed(0))),
    String(m.errors),
    String(m.lost),
  ]);
  return alignColumns(header, lines);
}
