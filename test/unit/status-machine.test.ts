import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  applyReport,
  canTransition,
  finalStatuses,
  isCancelable,
  isFinal,
  messageStatuses,
  statusRank,
  transitionSources,
  type MessageStatus,
} from '../../src/domain/status-machine.js';

// The whole lifecycle as a grid, written independently of the implementation's table:
// row = from, column = to, Y = allowed.
//                         SCH QUE SNG SNT DLV UND EXP REJ FAI CAN
const grid: Record<MessageStatus, string> = {
  SCHEDULED: /*     */ ' .   Y   .   .   .   .   .   .   .   Y ',
  QUEUED: /*        */ ' .   .   Y   .   .   .   .   Y   Y   Y ',
  SENDING: /*       */ ' .   .   .   Y   Y   Y   Y   Y   Y   . ',
  SENT: /*          */ ' .   .   .   .   Y   Y   Y   Y   Y   . ',
  DELIVERED: /*     */ ' .   .   .   .   .   .   .   .   .   . ',
  UNDELIVERED: /*   */ ' .   .   .   .   .   .   .   .   .   . ',
  EXPIRED: /*       */ ' .   .   .   .   .   .   .   .   .   . ',
  REJECTED: /*      */ ' .   .   .   .   .   .   .   .   .   . ',
  FAILED: /*        */ ' .   .   .   .   .   .   .   .   .   . ',
  CANCELED: /*      */ ' .   .   .   .   .   .   .   .   .   . ',
};

const allowedByGrid = (from: MessageStatus, to: MessageStatus) =>
  grid[from].trim().split(/\s+/)[messageStatuses.indexOf(to)] === 'Y';

const pairs = messageStatuses.flatMap((from) => messageStatuses.map((to) => [from, to] as const));

describe('canTransition', () => {
  it.each(pairs)('%s → %s matches the lifecycle grid', (from, to) => {
    expect(canTransition(from, to)).toBe(allowedByGrid(from, to));
  });

  it('only ever moves forward in rank', () => {
    for (const [from, to] of pairs) {
      if (canTransition(from, to)) expect(statusRank(to)).toBeGreaterThan(statusRank(from));
    }
  });

  it('never leaves a final status', () => {
    for (const from of finalStatuses) {
      for (const to of messageStatuses) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('cancels only before a provider has the message', () => {
    expect(messageStatuses.filter(isCancelable)).toEqual(['SCHEDULED', 'QUEUED']);
  });

  it('accepts a delivery report that overtakes the provider acceptance (SENDING → DELIVERED)', () => {
    expect(canTransition('SENDING', 'DELIVERED')).toBe(true);
  });

  it('lists the source statuses of each move for guarded updates', () => {
    for (const to of messageStatuses) {
      expect(transitionSources(to)).toEqual(messageStatuses.filter((from) => allowedByGrid(from, to)));
    }
    expect(transitionSources('SENT')).toEqual(['SENDING']);
  });
});

describe('isFinal and statusRank', () => {
  it('orders SCHEDULED < QUEUED < SENDING < SENT < every final status', () => {
    expect(['SCHEDULED', 'QUEUED', 'SENDING', 'SENT'].map((s) => statusRank(s as MessageStatus))).toEqual([0, 1, 2, 3]);
    for (const status of finalStatuses) expect(statusRank(status)).toBe(4);
    expect(messageStatuses.filter(isFinal)).toEqual([...finalStatuses]);
  });
});

describe('applyReport', () => {
  it('moves a SENDING message to the reported final status', () => {
    expect(applyReport('SENDING', { status: 'DELIVERED' })).toEqual({ next: 'DELIVERED', outcome: 'advanced' });
    expect(applyReport('SENT', { status: 'UNDELIVERED' })).toEqual({ next: 'UNDELIVERED', outcome: 'advanced' });
  });

  it('records a duplicated report without moving', () => {
    expect(applyReport('DELIVERED', { status: 'DELIVERED' })).toEqual({ next: null, outcome: 'duplicate' });
    expect(applyReport('SENT', { status: 'SENT' })).toEqual({ next: null, outcome: 'duplicate' });
  });

  it('records an out-of-order SENT after DELIVERED as stale', () => {
    expect(applyReport('DELIVERED', { status: 'SENT' })).toEqual({ next: null, outcome: 'stale' });
    expect(applyReport('SENT', { status: 'SENDING' })).toEqual({ next: null, outcome: 'stale' });
  });

  it('keeps the first final status: a late DELIVERED report never reopens a FAILED message', () => {
    expect(applyReport('FAILED', { status: 'DELIVERED' })).toEqual({ next: null, outcome: 'final-conflict' });
    expect(applyReport('DELIVERED', { status: 'UNDELIVERED' })).toEqual({ next: null, outcome: 'final-conflict' });
  });

  it('ignores reports for a message no provider holds yet', () => {
    expect(applyReport('QUEUED', { status: 'DELIVERED' })).toEqual({ next: null, outcome: 'not-handed-over' });
    expect(applyReport('SCHEDULED', { status: 'SENT' })).toEqual({ next: null, outcome: 'not-handed-over' });
  });

  it('refuses a CANCELED report once the message was handed over', () => {
    expect(applyReport('SENT', { status: 'CANCELED' })).toEqual({ next: null, outcome: 'not-allowed' });
  });

  it.each(pairs)('from %s, a %s report moves only along an allowed transition', (current, status) => {
    const { next } = applyReport(current, { status });
    if (next !== null) {
      expect(next).toBe(status);
      expect(canTransition(current, next)).toBe(true);
    }
  });
});

const statusArb = fc.constantFrom(...messageStatuses);
const reportFinalArb = fc.constantFrom<MessageStatus>('DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED');

const fold = (start: MessageStatus, reports: readonly MessageStatus[]) =>
  reports.reduce<MessageStatus>((current, status) => applyReport(current, { status }).next ?? current, start);

describe('applyReport properties', () => {
  // A provider's consistent story: a start after handover, some intermediate reports and at
  // most one final outcome. Each run delivers every report at least once, some of them
  // repeatedly, in any order.
  const consistentStory = fc
    .record({
      start: fc.constantFrom<MessageStatus>('SENDING', 'SENT'),
      final: fc.option(reportFinalArb, { nil: undefined }),
      intermediates: fc.subarray<MessageStatus>(['SENDING', 'SENT']),
    })
    .map((story) => ({ ...story, distinct: story.final ? [...story.intermediates, story.final] : story.intermediates }))
    .filter((story) => story.distinct.length > 0)
    .chain((story) => {
      const run = fc.array(fc.nat({ max: story.distinct.length - 1 }), { maxLength: 20 }).chain((extra) => {
        const reports = [...story.distinct, ...extra.map((i) => story.distinct[i])];
        return fc.shuffledSubarray(reports, { minLength: reports.length, maxLength: reports.length });
      });
      return fc.tuple(fc.constant(story), fc.array(run, { minLength: 2, maxLength: 4 }));
    });

  it('any interleaving and duplication of reports with at most one final outcome ends the same', () => {
    fc.assert(
      fc.property(consistentStory, ([{ start, final, intermediates }, runs]) => {
        const expected = final ?? (start === 'SENT' || intermediates.includes('SENT') ? 'SENT' : 'SENDING');
        for (const reports of runs) expect(fold(start, reports)).toBe(expected);
      }),
    );
  });

  it('with conflicting final reports, the first final report to arrive wins', () => {
    fc.assert(
      fc.property(fc.array(statusArb, { maxLength: 30 }), (reports) => {
        const firstFinal = reports.find((s) => isFinal(s) && s !== 'CANCELED');
        const end = fold('SENDING', reports);
        if (firstFinal) expect(end).toBe(firstFinal);
        else expect(isFinal(end)).toBe(false);
      }),
    );
  });

  it('status rank never decreases and a final status never changes, whatever arrives', () => {
    fc.assert(
      fc.property(statusArb, fc.array(statusArb, { maxLength: 30 }), (start, reports) => {
        let current = start;
        for (const status of reports) {
          const { next } = applyReport(current, { status });
          if (next === null) continue;
          expect(isFinal(current)).toBe(false);
          expect(statusRank(next)).toBeGreaterThan(statusRank(current));
          current = next;
        }
      }),
    );
  });
});

describe('synthetic EXPIRED', () => {
  it('gives way to a real final report, and only to a final one', () => {
    expect(applyReport('EXPIRED', { status: 'DELIVERED' }, { synthetic: true })).toEqual({ next: 'DELIVERED', outcome: 'corrected' });
    expect(applyReport('EXPIRED', { status: 'UNDELIVERED' }, { synthetic: true })).toEqual({ next: 'UNDELIVERED', outcome: 'corrected' });
    expect(applyReport('EXPIRED', { status: 'EXPIRED' }, { synthetic: true })).toEqual({ next: null, outcome: 'duplicate' });
    expect(applyReport('EXPIRED', { status: 'SENT' }, { synthetic: true })).toEqual({ next: null, outcome: 'stale' });
    // A real EXPIRED is as final as any other final status.
    expect(applyReport('EXPIRED', { status: 'DELIVERED' })).toEqual({ next: null, outcome: 'final-conflict' });
  });
});
