// The message lifecycle (docs/api.md "Status rules") as pure functions. The database layer uses
// `transitionSources(to)` as the guard of a conditional update, so two writers racing (the
// dispatcher and a webhook, or two webhooks) can never move a message backwards: whichever
// update finds the row in an allowed source status wins, the other changes nothing.

/** Every status, in rank order (the finals share the last rank). Same values as the Prisma enum. */
export const messageStatuses = [
  'SCHEDULED',
  'QUEUED',
  'SENDING',
  'SENT',
  'DELIVERED',
  'UNDELIVERED',
  'EXPIRED',
  'REJECTED',
  'FAILED',
  'CANCELED',
] as const;

export type MessageStatus = (typeof messageStatuses)[number];

/** Statuses a message never leaves. */
export const finalStatuses = ['DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED', 'CANCELED'] as const;

export type FinalMessageStatus = (typeof finalStatuses)[number];

const ranks: Record<MessageStatus, number> = {
  SCHEDULED: 0,
  QUEUED: 1,
  SENDING: 2,
  SENT: 3,
  DELIVERED: 4,
  UNDELIVERED: 4,
  EXPIRED: 4,
  REJECTED: 4,
  FAILED: 4,
  CANCELED: 4,
};

// The only moves. Stricter than "forward by rank" on purpose:
// - non-final statuses advance one step at a time, so every sent message passed QUEUED and
//   SENDING (a due scheduled message is promoted to QUEUED, then claimed like any other);
// - CANCELED only before a provider has the message (docs/api.md: "CANCELED only before SENDING");
// - REJECTED and FAILED from QUEUED are Herald's own refusals at dispatch (recipient opted out
//   since queueing, no provider left, ...); from SENDING they are a provider refusing the
//   submission or retries running out; from SENT the carrier refusing after the provider took it;
// - DELIVERED, UNDELIVERED and EXPIRED come from delivery reports, which may overtake the
//   provider's acceptance (the report webhook can land before the dispatcher records SENT),
//   hence SENDING → DELIVERED. They never come before SENDING: nothing was handed over yet.
const transitions: Record<MessageStatus, readonly MessageStatus[]> = {
  SCHEDULED: ['QUEUED', 'CANCELED'],
  QUEUED: ['SENDING', 'REJECTED', 'FAILED', 'CANCELED'],
  SENDING: ['SENT', 'DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED'],
  SENT: ['DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED'],
  DELIVERED: [],
  UNDELIVERED: [],
  EXPIRED: [],
  REJECTED: [],
  FAILED: [],
  CANCELED: [],
};

export function isMessageStatus(value: string): value is MessageStatus {
  return (messageStatuses as readonly string[]).includes(value);
}

export function isFinal(status: MessageStatus): status is FinalMessageStatus {
  return ranks[status] === ranks.DELIVERED;
}

/** 0 for SCHEDULED up to 4 for every final status. */
export function statusRank(status: MessageStatus): number {
  return ranks[status];
}

/** Whether a message in `from` may move to `to`. Staying put is not a transition. */
export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return transitions[from].includes(to);
}

/** The statuses a message may be in for a move to `to` (use as `WHERE status IN (...)`). */
export function transitionSources(to: MessageStatus): MessageStatus[] {
  return messageStatuses.filter((from) => transitions[from].includes(to));
}

/** Whether `cancelMessage` may still cancel (otherwise it returns NOT_CANCELABLE). */
export function isCancelable(status: MessageStatus): boolean {
  return canTransition(status, 'CANCELED');
}

/**
 * What a provider report did to a message; every report is recorded as an event either way.
 * - `advanced`: the message moves to the report's status;
 * - `duplicate`: the message is already in that status;
 * - `stale`: the report ranks below the message (late or out of order, e.g. SENT after DELIVERED);
 * - `final-conflict`: the message already has a different final status. The first final
 *   status wins and is never revised, so a late DELIVERED never reopens a FAILED message and
 *   a DELIVERED then UNDELIVERED pair stays DELIVERED whatever the provider meant;
 * - `not-handed-over`: the message is SCHEDULED or QUEUED, so no provider holds it and the
 *   report cannot be about it;
 * - `corrected`: a real final report replaces a synthetic EXPIRED (see `synthetic`);
 * - `not-allowed`: any other move the lifecycle forbids (e.g. CANCELED reported after SENDING).
 */
export type ReportOutcome = 'advanced' | 'corrected' | 'duplicate' | 'stale' | 'final-conflict' | 'not-handed-over' | 'not-allowed';

export interface ReportDecision {
  /** The status to move to, or null to record the report as an event only. */
  next: MessageStatus | null;
  outcome: ReportOutcome;
}

/**
 * Decides how a provider report (its status already mapped by the adapter) applies to a
 * message in `current`. Deterministic and order-insensitive for consistent reports: any
 * interleaving or duplication of one provider's reports with at most one final outcome
 * ends in the same status.
 */
export function applyReport(current: MessageStatus, report: { status: MessageStatus }, options: { synthetic?: boolean } = {}): ReportDecision {
  const reported = report.status;
  // The one exception to "final is final": an EXPIRED that Herald set itself when no report
  // came before the deadline (`synthetic`) gives way to the provider's real final word.
  if (options.synthetic && current === 'EXPIRED' && isFinal(reported) && reported !== 'EXPIRED') return { next: reported, outcome: 'corrected' };
  if (reported === current) return { next: null, outcome: 'duplicate' };
  if (isFinal(current)) return { next: null, outcome: isFinal(reported) ? 'final-conflict' : 'stale' };
  if (current === 'SCHEDULED' || current === 'QUEUED') return { next: null, outcome: 'not-handed-over' };
  if (canTransition(current, reported)) return { next: reported, outcome: 'advanced' };
  return { next: null, outcome: ranks[reported] < ranks[current] ? 'stale' : 'not-allowed' };
}
